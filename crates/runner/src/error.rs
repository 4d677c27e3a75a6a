//! Errors: `ApiError` for HTTP responses (`{code, message}`), `RunnerError` for start-up.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The body of every error response.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable kind: not_found, bad_request, unauthorized, forbidden_host, conflict, internal, bad_gateway.
    pub code: String,
    /// What was wrong and how to fix it.
    pub message: String,
    /// For SQL errors: where in the SQL the engine's message points, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<polder_engine::sqlerror::SqlLocation>,
}

/// An error answered to an API client as `{"code": …, "message": …}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 400: the SQL is wrong; `location` points into it when known.
    #[error("{message}")]
    Sql {
        /// The engine's message.
        message: String,
        /// Where in the SQL.
        location: Option<polder_engine::sqlerror::SqlLocation>,
    },
    /// 400: the request is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or wrong token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the request came with a Host this runner does not serve.
    #[error("{0}")]
    ForbiddenHost(String),
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 500.
    #[error("{0}")]
    Internal(String),
    /// 502: another runner this one talked to failed or could not be reached.
    #[error("{0}")]
    BadGateway(String),
    /// 503: too many heavy requests at once; retry later.
    #[error("{0}")]
    Busy(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) | ApiError::Sql { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::ForbiddenHost(_) => (StatusCode::FORBIDDEN, "forbidden_host"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::BadGateway(_) => (StatusCode::BAD_GATEWAY, "bad_gateway"),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
        }
        let location = match &self {
            ApiError::Sql { location, .. } => *location,
            _ => None,
        };
        (status, Json(ErrorBody { code: code.into(), message: self.to_string(), location })).into_response()
    }
}

impl From<polder_engine::Error> for ApiError {
    fn from(e: polder_engine::Error) -> Self {
        use polder_engine::Error as E;
        match e {
            E::NotFound(m) => ApiError::NotFound(m),
            E::Spec(s) => ApiError::BadRequest(s.to_string()),
            E::Invalid(m) => ApiError::BadRequest(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Failures starting the runner.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The workspace could not be opened.
    #[error(transparent)]
    Engine(#[from] polder_engine::Error),
    /// The token file could not be read or written.
    #[error("token file {path}: {source}")]
    Token {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The address could not be bound.
    #[error("cannot listen on {0}: {1}; is another runner using that port?")]
    Bind(SocketAddr, #[source] std::io::Error),
    /// The server stopped with an error.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}
