//! A remote runner's API through this one: the UI switches to a remote to watch its runs while
//! the remote's token stays here (remotes.json or the OS keyring), never in the page. Answers,
//! event streams included, are streamed back as they arrive.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;
use crate::remotes::Remote;
use crate::state::AppState;

/// Request headers that travel to the remote (besides its own token).
const FORWARDED: [header::HeaderName; 3] =
    [header::ACCEPT, header::CONTENT_TYPE, header::HeaderName::from_static("last-event-id")];
/// Answer headers that travel back (`x-total-rows` counts the rows of an Arrow page's view).
const RETURNED: [header::HeaderName; 4] =
    [header::CONTENT_TYPE, header::CACHE_CONTROL, header::CONTENT_DISPOSITION, header::HeaderName::from_static("x-total-rows")];

/// Largest request body forwarded (triggers, retries: small JSON).
const MAX_BODY: usize = 1 << 20;

/// Status and headers of the remote's answer.
type Head = (u16, Vec<(header::HeaderName, HeaderValue)>);

/// Forwards a GET or POST on `/api/remotes/{name}/api/{path}` to the remote's `/api/{path}` with
/// its token. A refused token becomes 502 (a 401 here would mean this runner's own token).
#[utoipa::path(get, path = "/api/remotes/{name}/api/{path}", tag = "deploys",
    params(("name" = String, Path, description = "Remote name"), ("path" = String, Path, description = "The remote API path after /api/")),
    responses((status = 200, description = "The remote's answer, streamed (POST is forwarded the same way)"),
              (status = 404, description = "No such remote"), (status = 502, description = "The remote is unreachable or refused the token")))]
pub async fn forward(
    State(state): State<Arc<AppState>>,
    Path((name, path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let (method, headers) = (parts.method, parts.headers);
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::BadRequest(format!("only GET and POST go to a remote runner, not {method}")));
    }
    if path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(ApiError::BadRequest(format!("bad remote API path `{path}`")));
    }
    let target = match query {
        Some(q) => format!("api/{path}?{q}"),
        None => format!("api/{path}"),
    };
    let sent: Vec<(String, String)> = FORWARDED
        .iter()
        .filter_map(|h| headers.get(h).and_then(|v| v.to_str().ok()).map(|v| (h.to_string(), v.to_string())))
        .collect();
    let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| ApiError::BadRequest(format!("request body: {e}")))?;
    let remotes = state.remotes.clone();
    let (head_tx, head_rx) = oneshot::channel::<Result<Head, ApiError>>();
    let (body_tx, body_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    // ureq is blocking: one pool thread per forwarded request pumps the answer into the body.
    // It ends when the answer does or the client leaves (noticed at the next chunk; event
    // streams send a keep-alive every 15 s).
    tokio::task::spawn_blocking(move || {
        let opened = remotes.find(&name).and_then(|remote| open(&remote, &method, &target, &sent, body));
        let (head, mut reader) = match opened {
            Ok(x) => x,
            Err(e) => {
                let _ = head_tx.send(Err(e));
                return;
            }
        };
        if head_tx.send(Ok(head)).is_err() {
            return;
        }
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if body_tx.blocking_send(Ok(Bytes::copy_from_slice(&buf[..n]))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = body_tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let (status, returned) = head_rx.await.map_err(|_| ApiError::Internal("the remote request stopped".into()))??;
    let stream = futures_util::stream::unfold(body_rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    resp.headers_mut().extend(returned);
    Ok(resp)
}

/// Sends the request; the answer's head and a reader over its body.
fn open(
    remote: &Remote,
    method: &Method,
    target: &str,
    headers: &[(String, String)],
    body: Bytes,
) -> Result<(Head, impl Read), ApiError> {
    // No overall timeout: event streams stay open as long as the UI watches.
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_connect(Some(Duration::from_secs(5))).build().into();
    let url = format!("{}/{target}", remote.url);
    let unreachable = |e| remote.unreachable(e);
    // The same headers on both typestates of ureq's builder.
    fn prepared<B>(mut req: ureq::RequestBuilder<B>, token: &str, headers: &[(String, String)]) -> ureq::RequestBuilder<B> {
        req = req.header("Authorization", format!("Bearer {token}"));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req
    }
    let resp = if *method == Method::POST {
        prepared(agent.post(&url), &remote.token, headers).send(&body[..]).map_err(unreachable)?
    } else {
        prepared(agent.get(&url), &remote.token, headers).call().map_err(unreachable)?
    };
    let status = resp.status().as_u16();
    if status == 401 {
        return Err(remote.refused_token(None));
    }
    let returned = RETURNED
        .iter()
        .filter_map(|h| resp.headers().get(h.as_str()).map(|v| (h.clone(), HeaderValue::from_bytes(v.as_bytes()))))
        .filter_map(|(h, v)| v.ok().map(|v| (h, v)))
        .collect();
    Ok(((status, returned), resp.into_body().into_reader()))
}
