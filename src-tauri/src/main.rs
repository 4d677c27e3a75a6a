//! Polder's desktop app: a Tauri window over an embedded runner. The runner listens on 127.0.0.1
//! at a random port with a token made for this launch; the window loads the runner's own web UI
//! (the same build a browser gets) and receives the token through an initialization script, so
//! the page talks to the runner exactly as in a browser and nothing else on the machine can use
//! the API. Native parts (folder dialog, menu, window state, keyring) stay on the Rust side: the
//! page gets no Tauri commands.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod embedded;
mod keyring;
mod menu;
mod settings;
mod window;
mod workspace;

use std::path::PathBuf;

use clap::Parser;
use tauri::Manager;

/// Command line of the desktop app.
#[derive(Debug, Parser)]
#[command(name = "polder-app", version, about = "Polder's desktop app")]
struct Args {
    /// Workspace folder to open (default: the last one opened, else `pipelines/`).
    #[arg(long, env = "POLDER_WORKSPACE")]
    workspace: Option<PathBuf>,
    /// The built web UI to serve (default: the one bundled with the app, else ui/dist).
    #[arg(long, env = "POLDER_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Write the runner's URL and token to this file once it listens (owner-only; for tests
    /// and scripts that drive the app).
    #[arg(long, env = "POLDER_APP_INFO")]
    info_file: Option<PathBuf>,
}

/// Opens the workspace, starts the embedded runner and opens the window on it.
fn start(handle: &tauri::AppHandle, args: &Args) -> anyhow::Result<embedded::Embedded> {
    let settings = settings::Settings::load(handle);
    let ws = workspace::choose(args.workspace.clone(), &settings)?;
    let ui_dir = workspace::ui_dir(handle, args.ui_dir.clone());
    let runner = tauri::async_runtime::block_on(embedded::start(&ws, ui_dir.clone()))?;
    settings.remember_workspace(handle, &ws);
    if let Some(file) = &args.info_file {
        embedded::write_info(file, &runner, &ws)?;
    }
    tracing::info!(workspace = %ws.display(), url = %runner.url(), "embedded runner listening");
    window::open(handle, &runner, &ws)?;
    menu::install(handle)?;
    if ui_dir.is_none() && !polder_runner::api::ui::embedded() {
        window::warn_no_ui(handle);
    }
    Ok(runner)
}

/// mimalloc: with glibc's malloc, large Polars work spends a fifth of its time in page faults.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

// jemalloc's unprefixed `malloc` for the C and C++ code of this process, DuckDB's above all, with
// the same options as the `polder` binary (see crates/cli/src/main.rs for why).
use tikv_jemalloc_sys as _;

/// jemalloc's options, read before `main` ([`polder_engine::memory::JEMALLOC_CONF`]).
#[export_name = "malloc_conf"]
pub static MALLOC_CONF: &[u8; 37] = polder_engine::memory::JEMALLOC_CONF;

fn main() -> anyhow::Result<()> {
    // The embedded runner runs each task's Polars work in a child process of this executable
    // (see polder_engine::isolate): such a child runs its task and exits here, before any window.
    polder_engine::isolate::child_main_if_requested();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    tauri::Builder::default()
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            let handle = app.handle().clone();
            match start(&handle, &args) {
                Ok(runner) => {
                    app.manage(runner);
                }
                // A desktop user has no terminal: say it in a dialog, then quit.
                Err(e) => window::fail_to_start(&handle, &e),
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .map_err(|e| anyhow::anyhow!("the desktop app stopped: {e}"))
}

#[cfg(test)]
mod tests {
    /// `malloc` is jemalloc's, in this executable, not glibc's.
    #[test]
    fn c_malloc_is_not_glibcs() {
        let origin = polder_engine::memory::malloc_origin().expect("malloc has an origin");
        assert!(!origin.contains("libc.so"), "malloc comes from {origin}");
    }
}
