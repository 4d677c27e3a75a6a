//! State shared by the handlers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use polder_engine::{RunCancel, Workspace};
use tokio::sync::broadcast;

use crate::auth::Auth;

/// One event for live views: a run or task state change, as JSON.
pub type EventJson = String;

/// Memory for cached sorted/filtered views (the newest one is kept even when larger).
const VIEW_CACHE_BYTES: usize = 512 << 20;

/// Everything handlers need.
pub struct AppState {
    /// The workspace served.
    pub ws: Arc<Workspace>,
    /// Auth settings.
    pub auth: Auth,
    /// Run and task events, fanned out to SSE clients.
    pub events: broadcast::Sender<EventJson>,
    /// Runs in progress: pipeline name and cancel handle.
    pub active: Mutex<HashMap<i64, (String, RunCancel)>>,
    /// Most runs at once on this runner.
    pub max_active_runs: usize,
    /// When the runner started.
    pub started: Instant,
    /// The OpenAPI document, as served.
    pub openapi: OnceLock<String>,
    /// A built web UI folder to serve at `/` instead of the embedded one.
    pub ui_dir: Option<std::path::PathBuf>,
    /// Deploys and rollbacks take turns.
    pub deploy_lock: tokio::sync::Mutex<()>,
    /// Sorted/filtered output views, so paging one sorts it once.
    pub views: polder_engine::inspect::ViewCache,
    /// Remote runners to deploy to and watch.
    pub remotes: crate::remotes::Remotes,
    /// Turns for CPU-heavy requests (validate, edit, preview).
    pub heavy: crate::heavy::HeavyWork,
    /// Where connections' secret values are kept (also the workspace's `secrets`).
    pub connection_secrets: Arc<crate::connections::ConnectionSecrets>,
    /// Datasets taking rows over REST.
    pub ingest: crate::ingest::Ingest,
}

impl AppState {
    /// Shared state for a runner over `ws`.
    pub fn new(
        ws: Arc<Workspace>,
        auth: Auth,
        max_active_runs: usize,
        ui_dir: Option<std::path::PathBuf>,
        secrets: Option<Arc<dyn crate::remotes::SecretStore>>,
        connection_secrets: Arc<crate::connections::ConnectionSecrets>,
    ) -> Arc<AppState> {
        let (events, _) = broadcast::channel(1024);
        let remotes = crate::remotes::Remotes::new(ws.state_dir(), secrets);
        let ingest = crate::ingest::Ingest::new(ws.clone());
        Arc::new(AppState {
            remotes,
            ws,
            auth,
            events,
            active: Mutex::new(HashMap::new()),
            max_active_runs,
            started: Instant::now(),
            openapi: OnceLock::new(),
            ui_dir,
            deploy_lock: tokio::sync::Mutex::new(()),
            views: polder_engine::inspect::ViewCache::new(VIEW_CACHE_BYTES),
            heavy: crate::heavy::HeavyWork::default(),
            connection_secrets,
            ingest,
        })
    }
}
