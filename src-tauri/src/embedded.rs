//! The runner inside the app: bound to 127.0.0.1 on a free port, with a token made for this
//! launch and kept in memory only (the workspace's own stored token is left alone).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polder_runner::{auth, Runner, ServeOptions};

/// Where the embedded runner listens and the token the window uses.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// This launch's API token.
    pub token: String,
}

impl Embedded {
    /// The runner's base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Starts the runner over `workspace` and serves it in the background.
pub async fn start(workspace: &Path, ui_dir: Option<PathBuf>) -> anyhow::Result<Embedded> {
    let token = auth::generate_token();
    let opts = ServeOptions {
        workspace: workspace.to_path_buf(),
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        token: Some(token.clone()),
        rotate_token: false,
        allow_hosts: Vec::new(),
        max_active_runs: polder_runner::DEFAULT_MAX_ACTIVE_RUNS,
        ui_dir,
        secrets: crate::keyring::OsKeyring::open().map(|k| Arc::new(k) as Arc<dyn polder_runner::remotes::SecretStore>),
    };
    let runner = Runner::bind(opts)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the embedded runner on {}: {e}", workspace.display()))?;
    let port = runner.addr.port();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = runner.serve().await {
            tracing::error!("the embedded runner stopped: {e}");
        }
    });
    Ok(Embedded { port, token })
}

/// Writes `{url, token, workspace, pid}` to `file`, readable by its owner only.
pub fn write_info(file: &Path, runner: &Embedded, workspace: &Path) -> anyhow::Result<()> {
    let info = serde_json::json!({
        "url": runner.url(),
        "token": runner.token,
        "workspace": workspace,
        "pid": std::process::id(),
    });
    polder_engine::fsutil::write_private(file, info.to_string().as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))
}
