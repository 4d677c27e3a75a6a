//! State shared by the handlers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use polder_engine::{RunCancel, Workspace};
use tokio::sync::broadcast;

use crate::auth::Auth;

/// One event for live views: a run or task state change, as JSON.
pub type EventJson = String;

/// Everything handlers need.
pub struct AppState {
    /// The workspace served.
    pub ws: Arc<Workspace>,
    /// Auth settings.
    pub auth: Auth,
    /// Run and task events, fanned out to SSE clients.
    pub events: broadcast::Sender<EventJson>,
    /// Cancel handles of runs in progress.
    pub active: Mutex<HashMap<i64, RunCancel>>,
    /// When the runner started.
    pub started: Instant,
    /// The OpenAPI document, as served.
    pub openapi: OnceLock<String>,
}

impl AppState {
    /// Shared state for a runner over `ws`.
    pub fn new(ws: Arc<Workspace>, auth: Auth) -> Arc<AppState> {
        let (events, _) = broadcast::channel(1024);
        Arc::new(AppState {
            ws,
            auth,
            events,
            active: Mutex::new(HashMap::new()),
            started: Instant::now(),
            openapi: OnceLock::new(),
        })
    }
}
