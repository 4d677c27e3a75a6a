//! Names in request paths (pipelines, tasks, remotes) are checked before any handler runs. A name
//! that no pipeline, task or remote can have is a 400 that states the rule, instead of a
//! file-system error from deep inside a lookup (a 500 that showed the workspace's absolute path).

use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use polder_engine::spec::{valid_name, valid_task_id, MAX_NAME_LEN};

use crate::error::ApiError;

/// `name` as quoted in a message: long names are cut, so the answer stays readable.
fn quoted(name: &str) -> String {
    const SHOWN: usize = 40;
    let n = name.chars().count();
    if n <= SHOWN {
        format!("`{name}`")
    } else {
        format!("`{}…` ({n} characters)", name.chars().take(SHOWN).collect::<String>())
    }
}

/// The problem with one path parameter, if any.
fn problem(path: &str, key: &str, value: &str) -> Option<String> {
    match key {
        "name" if !valid_name(value) => {
            let what = if path.starts_with("/api/remotes/") {
                "remote name"
            } else if path.starts_with("/api/connections/") {
                "connection name"
            } else if path.starts_with("/api/datasets/") {
                "dataset name"
            } else {
                "pipeline name"
            };
            Some(format!("{what} {} is not valid: use 1 to {MAX_NAME_LEN} letters, digits, `_` and `-`", quoted(value)))
        }
        "dataset" if !valid_name(value) => {
            Some(format!("dataset name {} is not valid: use 1 to {MAX_NAME_LEN} letters, digits, `_` and `-`", quoted(value)))
        }
        "task" if !valid_task_id(value) => Some(format!(
            "task id {} is not valid: use a lower-case SQL identifier of at most {MAX_NAME_LEN} characters (a-z, 0-9, _; not starting with a digit)",
            quoted(value)
        )),
        _ => None,
    }
}

/// Checks a pipeline name given in a request body, like the path middleware does.
pub fn check_pipeline_name(name: &str) -> Result<(), ApiError> {
    match problem("/api/pipelines", "name", name) {
        Some(message) => Err(ApiError::BadRequest(message)),
        None => Ok(()),
    }
}

/// Route middleware: answers 400 when a `{name}` or `{task}` path parameter is not a valid name.
pub async fn check(req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    // Routes without parameters have none to check (the extractor refuses them).
    if let Ok(params) = RawPathParams::from_request_parts(&mut parts, &()).await {
        for (key, value) in params.iter() {
            if let Some(message) = problem(parts.uri.path(), key, value) {
                return ApiError::BadRequest(message).into_response();
            }
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_or_odd_names_are_refused_without_echoing_them_whole() {
        let long = "a".repeat(300);
        let msg = problem("/api/pipelines/x", "name", &long).unwrap();
        assert!(msg.starts_with("pipeline name `aaaa") && msg.contains("(300 characters)") && msg.len() < 200, "{msg}");
        assert!(problem("/api/pipelines/x", "name", "../etc").is_some());
        assert!(problem("/api/remotes/x", "name", "a b").unwrap().starts_with("remote name `a b`"));
        assert!(problem("/api/pipelines/x/tasks/y", "task", "Gold").is_some());
        assert!(problem("/api/pipelines/x/tasks/y", "task", &"t".repeat(101)).is_some());
        assert_eq!(problem("/api/pipelines/x", "name", "medallion-2"), None);
        assert_eq!(problem("/api/pipelines/x/tasks/y", "task", "gold_checks"), None);
        assert_eq!(problem("/api/remotes/x/api/y", "path", "runs/1"), None);
    }
}
