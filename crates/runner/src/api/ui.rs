//! The web UI, served at `/` without a token: the page holds no data and asks for the token
//! itself. Its files come from `--ui-dir` when given (UI development), else from the build
//! embedded in this binary (see build.rs). Unknown non-API paths get `index.html` (client-side
//! routing). Every answer carries the UI's Content-Security-Policy.

use std::borrow::Cow;
use std::path::{Component, Path};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));
}

/// The UI's Content-Security-Policy. The runner sends it rather than the desktop shell: the
/// app's window loads the runner's own `http://127.0.0.1:PORT` origin, and Tauri injects its
/// configured CSP only into `tauri://` assets, so this header is what protects both a browser
/// and the app. No inline or eval'd script runs; Monaco adds `<style>` elements and React and
/// the grid set `style` attributes (`'unsafe-inline'` styles); Monaco's and elk's workers and
/// fonts are bundled files (`'self'`); exports download through `blob:` links; the API is this
/// origin or another runner on this machine (the sign-in form may name one).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self'; \
connect-src 'self' http://127.0.0.1:* http://localhost:*; object-src 'none'; base-uri 'self'; \
form-action 'self'; frame-ancestors 'none'";

/// Whether this binary has the web UI built in (ui/dist existed when it was compiled).
pub fn embedded() -> bool {
    !embedded::FILES.is_empty()
}

fn embedded_file(rel: &str) -> Option<&'static [u8]> {
    embedded::FILES.binary_search_by(|(p, _)| (*p).cmp(rel)).ok().map(|i| embedded::FILES[i].1)
}

fn content_type(path: &str) -> &'static str {
    match Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or("") {
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

/// Adds the headers every UI answer carries.
fn with_policy(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

const NO_UI_PAGE: &str =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Polder: no web UI</title></head>\n\
<body style=\"font-family: sans-serif; max-width: 40em; margin: 3em auto\">\n\
<h1>This polder was built without its web UI</h1>\n\
<p>The runner and its API work (<code>/api/openapi.json</code>), but <code>ui/dist</code> did not exist when this binary was \
compiled, so there is no page to show. From the repository, build the UI and then the binary:</p>\n\
<pre>npm ci &amp;&amp; npm run build\ncargo build --workspace</pre>\n\
<p>or serve a built UI folder: <code>polder serve --ui-dir ui/dist</code>.</p>\n</body></html>\n";

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
    // Only plain relative components: no `..`, no absolute paths.
    let parts: Vec<&str> = Path::new(path.trim_start_matches('/'))
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => p.to_str(),
            _ => None,
        })
        .collect();
    let rel = parts.join("/");
    let found: Option<(String, Cow<'static, [u8]>)> = match &state.ui_dir {
        Some(root) => {
            let read = |rel: String| async move {
                let file = root.join(&rel);
                if !file.is_file() {
                    return None;
                }
                tokio::fs::read(&file).await.ok().map(|b| (rel, Cow::Owned(b)))
            };
            match read(rel.clone()).await {
                Some(f) if !rel.is_empty() => Some(f),
                // Assets that do not exist are 404s; everything else is a route of the app.
                _ if rel.starts_with("assets/") => None,
                _ => read("index.html".into()).await,
            }
        }
        None if embedded() => match embedded_file(&rel) {
            Some(b) if !rel.is_empty() => Some((rel, Cow::Borrowed(b))),
            _ if rel.starts_with("assets/") => None,
            _ => embedded_file("index.html").map(|b| ("index.html".to_string(), Cow::Borrowed(b))),
        },
        None => {
            let page = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], NO_UI_PAGE);
            return with_policy((StatusCode::NOT_FOUND, page).into_response());
        }
    };
    let response = match found {
        Some((name, bytes)) => {
            // Assets have content hashes in their names; index.html names the current ones.
            let cache = if name.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
            ([(header::CONTENT_TYPE, content_type(&name)), (header::CACHE_CONTROL, cache)], bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such UI file").into_response(),
    };
    with_policy(response)
}
