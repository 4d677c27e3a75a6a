//! Bodies declared larger than their route takes are refused from the headers, before any of
//! the body is read: a client sending `Expect: 100-continue` hears 413 instead of being asked
//! to upload megabytes that would be thrown away (the extractors' own limits still hold for
//! bodies without a length).

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The most bytes a request to `path` may carry (as the routes' `DefaultBodyLimit`s say).
pub fn limit_for(path: &str) -> usize {
    if path == "/api/deploy" {
        super::deploys::MAX_UPLOAD_BYTES
    } else if path.starts_with("/api/ingest/") {
        super::ingest::MAX_INGEST_BODY
    } else {
        crate::heavy::MAX_BODY_BYTES
    }
}

/// Refuses a request whose Content-Length is over its route's limit with 413.
pub async fn refuse_oversized(req: Request<Body>, next: Next) -> Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let limit = limit_for(req.uri().path());
    match declared {
        Some(n) if n > limit as u64 => (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(crate::error::ErrorBody {
                code: "too_large".into(),
                message: format!("the request body is {n} bytes; {} takes at most {limit}", req.uri().path()),
                location: None,
            }),
        )
            .into_response(),
        _ => next.run(req).await,
    }
}
