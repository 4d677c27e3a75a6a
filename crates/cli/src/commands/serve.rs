//! `polder serve`: the runner server over a workspace.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use polder_runner::{Runner, ServeOptions};

/// Arguments of `polder serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:7878")]
    bind: SocketAddr,
    /// Read the API token from this file instead of generating one.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Generate a new token, invalidating the old one.
    #[arg(long)]
    rotate_token: bool,
    /// Also accept this Host header value (repeatable), e.g. a proxy's name.
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    allow_hosts: Vec<String>,
    /// Most runs executing at once; more wait in the queue.
    #[arg(long, default_value_t = polder_runner::DEFAULT_MAX_ACTIVE_RUNS)]
    max_active_runs: usize,
    /// Serve the web UI from this built folder (e.g. ui/dist) instead of the one built into
    /// this binary: for UI development.
    #[arg(long, env = "POLDER_UI_DIR")]
    ui_dir: Option<PathBuf>,
}

/// Binds, prints the address (and a new token, once), then serves until killed.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let token = match &args.token_file {
        Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("cannot read token file {}", f.display()))?),
        None => std::env::var("POLDER_TOKEN").ok().filter(|t| !t.trim().is_empty()),
    };
    let opts = ServeOptions {
        workspace: workspace.to_path_buf(),
        bind: args.bind,
        token,
        rotate_token: args.rotate_token,
        allow_hosts: args.allow_hosts,
        max_active_runs: args.max_active_runs,
        ui_dir: args.ui_dir,
        secrets: None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let runner = Runner::bind(opts).await?;
        println!("polder runner listening on http://{}", runner.addr);
        if let Some(t) = &runner.new_token {
            println!("API token (shown once; rotate with --rotate-token): {t}");
        }
        runner.serve().await?;
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}
