//! The main window: the embedded runner's web UI, with this launch's token handed over by an
//! initialization script that only runs on the runner's own origin.

use std::path::Path;

use tauri::webview::NewWindowResponse;
use tauri::{AppHandle, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_dialog::{DialogExt, MessageDialogKind};

use crate::embedded::Embedded;

/// The label of the main window (window state is kept under it).
pub const MAIN: &str = "main";

/// The script that gives the page its runner: token and workspace, on the runner's origin only
/// (never stored by the page, never in a URL).
pub fn init_script(runner: &Embedded, workspace: &Path) -> String {
    let desktop = serde_json::json!({ "token": runner.token, "workspace": workspace, "url": runner.url() });
    format!(
        "if (window.location.origin === {origin}) {{ window.__POLDER_DESKTOP__ = {desktop}; }}",
        origin = serde_json::json!(runner.url())
    )
}

/// Whether the window may show `url`: only pages of the embedded runner.
pub fn allowed(url: &tauri::Url, port: u16) -> bool {
    url.scheme() == "http" && url.host_str() == Some("127.0.0.1") && url.port() == Some(port)
}

/// Opens the main window on the runner's UI.
pub fn open(app: &AppHandle, runner: &Embedded, workspace: &Path) -> anyhow::Result<()> {
    let port = runner.port;
    let name = workspace.file_name().map_or_else(|| workspace.display().to_string(), |n| n.to_string_lossy().into_owned());
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::External(format!("{}/", runner.url()).parse()?))
        .title(format!("{name} — Polder"))
        .inner_size(1440.0, 900.0)
        .min_inner_size(800.0, 560.0)
        .initialization_script(init_script(runner, workspace))
        .on_navigation(move |url| allowed(url, port))
        // Links out of the app (a remote runner's page, docs) open in the system browser.
        .on_new_window(|url, _| {
            if matches!(url.scheme(), "http" | "https") {
                open_externally(url.as_str());
            }
            NewWindowResponse::Deny
        })
        .build()?;
    Ok(())
}

/// Opens a link or folder with the desktop's default application (failures are logged).
pub fn open_externally(target: impl AsRef<std::ffi::OsStr>) {
    let target = target.as_ref();
    if let Err(e) = std::process::Command::new("xdg-open").arg(target).spawn() {
        tracing::warn!(target = %target.to_string_lossy(), "cannot open it with xdg-open: {e}");
    }
}

/// Tells the user why the app could not start, then quits.
pub fn fail_to_start(app: &AppHandle, error: &anyhow::Error) {
    tracing::error!("cannot start: {error:#}");
    let quit = app.clone();
    app.dialog()
        .message(format!(
            "{error:#}\n\nStart Polder with --workspace DIR (or POLDER_WORKSPACE) to open another folder of pipelines."
        ))
        .title("Polder could not start")
        .kind(MessageDialogKind::Error)
        .show(move |_| quit.exit(1));
}

/// Tells the user the web UI's files are missing and how to get them.
pub fn warn_no_ui(app: &AppHandle) {
    app.dialog()
        .message("The web UI is not built. Run `npm run build` in the Polder source folder (or start with --ui-dir DIR), then reload (Ctrl+R).")
        .title("Polder: no web UI")
        .kind(MessageDialogKind::Warning)
        .show(|_| {});
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_given_to_the_runners_origin_only() {
        let runner = Embedded { port: 40123, token: "t0k".into() };
        let script = init_script(&runner, Path::new("/ws/it's"));
        assert!(script.starts_with("if (window.location.origin === \"http://127.0.0.1:40123\")"), "{script}");
        assert!(script.contains("\"token\":\"t0k\""), "{script}");
        // Paths are JSON-quoted, so a quote in a folder name cannot break out of the script.
        assert!(script.contains("\"workspace\":\"/ws/it's\""), "{script}");
        assert!(allowed(&"http://127.0.0.1:40123/runs".parse().unwrap(), 40123));
        assert!(!allowed(&"http://127.0.0.1:9/".parse().unwrap(), 40123));
        assert!(!allowed(&"http://localhost:40123/".parse().unwrap(), 40123));
        assert!(!allowed(&"https://example.com/".parse().unwrap(), 40123));
    }

    /// The window loads the runner's http origin, where Tauri injects no CSP (only into
    /// `tauri://` assets): the runner's header is the policy that applies. The configured one
    /// must say the same, for any page Tauri itself would serve.
    #[test]
    fn the_configured_csp_is_the_one_the_runner_sends() {
        let conf: serde_json::Value = serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(conf["app"]["security"]["csp"], polder_runner::api::ui::CSP);
    }
}
