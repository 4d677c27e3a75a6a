//! The built web UI (`ui/dist`), served at `/` without a token: the page holds no data and asks
//! for the token itself. Unknown non-API paths get `index.html` (client-side routing).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        _ => "application/octet-stream",
    }
}

/// Serves a file of the UI, or `index.html` for client-side routes.
pub async fn serve_ui(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" || path == "/metrics" {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "code": "not_found", "message": format!("no route {path}") })),
        )
            .into_response();
    }
    let Some(root) = state.ui_dir.as_ref() else {
        return (StatusCode::NOT_FOUND, "this runner serves no UI: build it with `npm run build` (ui/dist) or pass --ui-dir")
            .into_response();
    };
    // Only plain relative components: no `..`, no absolute paths.
    let rel: PathBuf = Path::new(path.trim_start_matches('/'))
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_os_string()),
            _ => None,
        })
        .collect();
    let mut file = root.join(&rel);
    if rel.as_os_str().is_empty() || !file.is_file() {
        // Assets that do not exist are 404s; everything else is a route of the single-page app.
        if rel.starts_with("assets") {
            return (StatusCode::NOT_FOUND, "no such asset").into_response();
        }
        file = root.join("index.html");
    }
    match tokio::fs::read(&file).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&file))], bytes).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "UI file missing").into_response(),
    }
}
