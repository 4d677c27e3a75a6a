//! Other runners this one can deploy to (a team's server, staging): name, URL and token, kept in
//! `.polder/runner/remotes.json`, readable by its owner only. Tokens never leave this runner
//! through the API. Deploys go out over plain HTTP with ureq (no TLS in this build, as for the
//! CLI): reach a remote over loopback, an SSH tunnel or a trusted network.

use std::path::{Path, PathBuf};

use polder_engine::fsutil::write_private;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// A runner to deploy to, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remote {
    /// Short name the UI shows.
    pub name: String,
    /// Base URL, like `http://10.0.0.5:7878`.
    pub url: String,
    /// Its API token.
    pub token: String,
}

/// A remote as the API shows it: no token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RemoteView {
    /// Short name.
    pub name: String,
    /// Base URL.
    pub url: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RemotesFile {
    remotes: Vec<Remote>,
}

fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("runner").join("remotes.json")
}

/// The registered remotes, by name.
pub fn list(state_dir: &Path) -> Result<Vec<Remote>, ApiError> {
    let p = path(state_dir);
    match std::fs::read_to_string(&p) {
        Ok(text) => serde_json::from_str::<RemotesFile>(&text)
            .map(|f| f.remotes)
            .map_err(|e| ApiError::Internal(format!("{} is damaged ({e}); fix or delete it", p.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(ApiError::Internal(format!("cannot read {}: {e}", p.display()))),
    }
}

fn save(state_dir: &Path, remotes: Vec<Remote>) -> Result<(), ApiError> {
    let p = path(state_dir);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ApiError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    let text = serde_json::to_string_pretty(&RemotesFile { remotes }).unwrap_or_default();
    write_private(&p, text.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Checks a name and URL a user typed.
fn check(name: &str, url: &str) -> Result<(), ApiError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ApiError::BadRequest(format!("remote name `{name}`: use letters, digits, `_` and `-`")));
    }
    if url.starts_with("https://") {
        return Err(ApiError::BadRequest(
            "https is not supported by this build yet; reach the runner over an SSH tunnel (http://127.0.0.1:PORT) or plain http on a trusted network".into(),
        ));
    }
    let rest = url.strip_prefix("http://").unwrap_or("");
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(ApiError::BadRequest(format!("remote URL `{url}`: write it like http://host:7878")));
    }
    Ok(())
}

/// Adds or replaces remote `name`; an empty token keeps the stored one.
pub fn put(state_dir: &Path, name: &str, url: &str, token: &str) -> Result<(), ApiError> {
    let url = url.trim().trim_end_matches('/');
    check(name, url)?;
    let mut all = list(state_dir)?;
    let token = match (token.trim(), all.iter().find(|r| r.name == name)) {
        ("", Some(old)) => old.token.clone(),
        ("", None) => return Err(ApiError::BadRequest(format!("remote '{name}' needs its API token"))),
        (t, _) => t.to_string(),
    };
    all.retain(|r| r.name != name);
    all.push(Remote { name: name.to_string(), url: url.to_string(), token });
    all.sort_by(|a, b| a.name.cmp(&b.name));
    save(state_dir, all)
}

/// Removes remote `name`.
pub fn remove(state_dir: &Path, name: &str) -> Result<(), ApiError> {
    let mut all = list(state_dir)?;
    let before = all.len();
    all.retain(|r| r.name != name);
    if all.len() == before {
        return Err(ApiError::NotFound(format!("no remote '{name}'")));
    }
    save(state_dir, all)
}

/// The remote called `name`.
pub fn find(state_dir: &Path, name: &str) -> Result<Remote, ApiError> {
    let all = list(state_dir)?;
    let names: Vec<String> = all.iter().map(|r| r.name.clone()).collect();
    all.into_iter().find(|r| r.name == name).ok_or_else(|| {
        let known = if names.is_empty() { "none yet".to_string() } else { names.join(", ") };
        ApiError::NotFound(format!(
            "no remote runner '{name}' (known: {known}); add it under Runners in the UI or with PUT /api/remotes/{name}"
        ))
    })
}

/// Uploads a bundle to `remote`'s `/api/deploy` (blocking); its JSON answer, or its error message.
pub fn upload(remote: &Remote, bundle: &[u8]) -> Result<Value, ApiError> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    // Check the token with a small request first: a runner refuses a bad token before reading
    // the body, so a large upload would only end in a broken pipe.
    let unreachable =
        |e: ureq::Error| ApiError::BadGateway(format!("cannot reach runner '{}' at {}: {e}", remote.name, remote.url));
    let probe = agent
        .get(format!("{}/api/status", remote.url))
        .header("Authorization", format!("Bearer {}", remote.token))
        .call()
        .map_err(unreachable)?;
    if probe.status().as_u16() == 401 {
        return Err(ApiError::BadGateway(format!(
            "runner '{}' refused the token; update it under Runners in the UI or with PUT /api/remotes/{}",
            remote.name, remote.name
        )));
    }
    let mut resp = agent
        .post(format!("{}/api/deploy", remote.url))
        .header("Authorization", format!("Bearer {}", remote.token))
        .content_type("application/gzip")
        .send(bundle)
        .map_err(unreachable)?;
    let status = resp.status();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let message = body["message"].as_str().map(str::to_string).unwrap_or(text);
    Err(match status.as_u16() {
        400 => ApiError::BadRequest(format!("runner '{}' refused the pipeline: {message}", remote.name)),
        401 => ApiError::BadGateway(format!(
            "runner '{}' refused the token: {message}; update it under Runners in the UI or with PUT /api/remotes/{}",
            remote.name, remote.name
        )),
        code => ApiError::BadGateway(format!("runner '{}' answered {code}: {message}", remote.name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_are_kept_private_and_tokens_survive_edits() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), "prod", "http://127.0.0.1:9000/", "secret").unwrap();
        // An empty token keeps the stored one; the URL is normalized.
        put(dir.path(), "prod", "http://127.0.0.1:9001", "").unwrap();
        let all = list(dir.path()).unwrap();
        assert_eq!(all, [Remote { name: "prod".into(), url: "http://127.0.0.1:9001".into(), token: "secret".into() }]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path())).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(put(dir.path(), "bad name", "http://x", "t").unwrap_err().to_string().contains("letters"));
        assert!(put(dir.path(), "x", "https://x", "t").unwrap_err().to_string().contains("https"));
        assert!(put(dir.path(), "new", "http://x:1", "").unwrap_err().to_string().contains("needs its API token"));
        remove(dir.path(), "prod").unwrap();
        assert!(list(dir.path()).unwrap().is_empty());
        assert!(find(dir.path(), "prod").is_err());
    }
}
