//! `GET /api/health`: liveness, without a token.

use axum::Json;
use serde_json::{json, Value};

/// Whether the runner is up.
#[utoipa::path(get, path = "/api/health", tag = "runner", responses((status = 200, description = "The runner is up")))]
pub async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}
