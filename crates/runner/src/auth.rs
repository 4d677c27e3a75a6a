//! Bearer-token auth and Host checks.
//!
//! The token is stored only as a BLAKE3 hash (`.polder/runner/token.blake3`); comparing hashes
//! with `blake3::Hash`'s constant-time equality avoids timing leaks. A loopback runner accepts
//! only its own `Host` values, so a web page cannot reach it through DNS rebinding.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{ApiError, RunnerError};
use crate::state::AppState;

/// Paths served without a token.
pub const PUBLIC_PATHS: &[&str] = &["/api/health"];

/// What requests are checked against.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Hash of the valid token.
    pub token_hash: blake3::Hash,
    /// Accepted `Host` values (None: any).
    pub hosts: Option<Vec<String>>,
}

/// A fresh random token (256 bits, hex).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token hash to check against, and the token itself when this call generated it.
pub fn load_or_create_token(
    state_dir: &Path,
    given: Option<&str>,
    rotate: bool,
) -> Result<(blake3::Hash, Option<String>), RunnerError> {
    if let Some(t) = given {
        return Ok((blake3::hash(t.trim().as_bytes()), None));
    }
    let file = state_dir.join("runner").join("token.blake3");
    let err = |source| RunnerError::Token { path: file.display().to_string(), source };
    if !rotate {
        if let Ok(text) = std::fs::read_to_string(&file) {
            if let Ok(hash) = blake3::Hash::from_hex(text.trim()) {
                return Ok((hash, None));
            }
        }
    }
    let token = generate_token();
    let hash = blake3::hash(token.as_bytes());
    std::fs::create_dir_all(file.parent().expect("has a parent")).map_err(err)?;
    polder_engine::fsutil::write_atomic(&file, hash.to_hex().as_bytes())?;
    Ok((hash, Some(token)))
}

/// The `Host` values a runner on `addr` accepts: for loopback, its own names; else any.
pub fn allowed_hosts(addr: SocketAddr, extra: &[String]) -> Option<Vec<String>> {
    if !addr.ip().is_loopback() {
        return None;
    }
    let port = addr.port();
    let mut hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")];
    hosts.extend(extra.iter().cloned());
    Some(hosts)
}

/// Middleware: Host check on every route, then the bearer token on all but [`PUBLIC_PATHS`].
pub async fn require_auth(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(hosts) = &state.auth.hosts {
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return Err(ApiError::ForbiddenHost(format!("Host `{host}` is not served here; use one of: {}", hosts.join(", "))));
        }
    }
    let path = req.uri().path();
    // The UI's files are public (they hold no data; the page asks for the token). API routes,
    // known or not, and metrics need the token.
    let is_ui = !(path.starts_with("/api/") || path == "/api" || path == "/metrics");
    if PUBLIC_PATHS.contains(&path) || is_ui {
        return Ok(next.run(req).await);
    }
    let given = req.headers().get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer "));
    // An ingest token opens exactly one door: POST /api/ingest/{a dataset it names}.
    let ingest_to = (req.method() == axum::http::Method::POST).then(|| path.strip_prefix("/api/ingest/")).flatten();
    match given {
        Some(t) if blake3::hash(t.trim().as_bytes()) == state.auth.token_hash => Ok(next.run(req).await),
        Some(t) if ingest_to.is_some_and(|d| !d.contains('/') && state.ingest.tokens.allows(t.trim(), d)) => {
            Ok(next.run(req).await)
        }
        Some(t) if t.trim().starts_with(crate::ingest::tokens::PREFIX) => Err(ApiError::Unauthorized(
            "this ingest token may only POST rows to /api/ingest/<dataset> for the datasets it names".into(),
        )),
        Some(_) => Err(ApiError::Unauthorized("wrong token".into())),
        None => Err(ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())),
    }
}
