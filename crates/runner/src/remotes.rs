//! Other runners this one can deploy to (a team's server, staging): name, URL and token, kept in
//! `.polder/runner/remotes.json`, readable by its owner only, or with the token in the OS keyring
//! when the runner was given a [`SecretStore`] (the desktop app does). Tokens never leave this
//! runner through the API. Deploys go out over plain HTTP with ureq (no TLS in this build, as for
//! the CLI): reach a remote over loopback, an SSH tunnel or a trusted network.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use polder_engine::fsutil::write_private;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// A place for secrets outside the workspace, such as the OS keyring.
pub trait SecretStore: Send + Sync + std::fmt::Debug {
    /// Its name in messages, like "the OS keyring".
    fn describe(&self) -> String;
    /// Stores `secret` under `account`.
    fn set(&self, account: &str, secret: &str) -> Result<(), String>;
    /// The secret under `account`, if any.
    fn get(&self, account: &str) -> Result<Option<String>, String>;
    /// Forgets `account` (absent is fine).
    fn delete(&self, account: &str) -> Result<(), String>;
}

/// A runner to deploy to, with its token.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    /// Short name the UI shows.
    pub name: String,
    /// Base URL, like `http://10.0.0.5:7878`.
    pub url: String,
    /// Its API token.
    pub token: String,
}

impl Remote {
    /// The error for a remote that cannot be reached.
    pub fn unreachable(&self, e: ureq::Error) -> ApiError {
        ApiError::BadGateway(format!("cannot reach runner '{}' at {}: {e}", self.name, self.url))
    }

    /// The error for a remote refusing its token (with its own words, if any), saying where to
    /// fix it. A 502: passed on as 401, it would read as this runner's token being wrong.
    pub fn refused_token(&self, detail: Option<&str>) -> ApiError {
        let detail = detail.map(|d| format!(": {d}")).unwrap_or_default();
        ApiError::BadGateway(format!(
            "runner '{}' refused the token{detail}; update it under Runners in the UI or with PUT /api/remotes/{}",
            self.name, self.name
        ))
    }
}

/// A remote as the API shows it: no token, only where it is kept.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RemoteView {
    /// Short name.
    pub name: String,
    /// Base URL.
    pub url: String,
    /// Where its token is kept: `keyring` or `file` (remotes.json, owner-only).
    pub token_store: String,
}

/// A remote as written in remotes.json: the token, or a mark that the keyring holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredRemote {
    name: String,
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    in_keyring: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RemotesFile {
    remotes: Vec<StoredRemote>,
}

/// The remotes of one workspace.
#[derive(Debug, Clone)]
pub struct Remotes {
    state_dir: PathBuf,
    secrets: Option<Arc<dyn SecretStore>>,
}

impl Remotes {
    /// Remotes kept under `state_dir` (`.polder/`), tokens in `secrets` when given.
    pub fn new(state_dir: &Path, secrets: Option<Arc<dyn SecretStore>>) -> Remotes {
        Remotes { state_dir: state_dir.to_path_buf(), secrets }
    }

    fn path(&self) -> PathBuf {
        self.state_dir.join("runner").join("remotes.json")
    }

    /// The keyring account of remote `name`: workspaces keep their own remotes apart.
    fn account(&self, name: &str) -> String {
        format!("{}#{name}", self.state_dir.display())
    }

    fn read(&self) -> Result<Vec<StoredRemote>, ApiError> {
        let p = self.path();
        match std::fs::read_to_string(&p) {
            Ok(text) => serde_json::from_str::<RemotesFile>(&text)
                .map(|f| f.remotes)
                .map_err(|e| ApiError::Internal(format!("{} is damaged ({e}); fix or delete it", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(ApiError::Internal(format!("cannot read {}: {e}", p.display()))),
        }
    }

    fn save(&self, remotes: Vec<StoredRemote>) -> Result<(), ApiError> {
        let p = self.path();
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| ApiError::Internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let text = serde_json::to_string_pretty(&RemotesFile { remotes }).unwrap_or_default();
        write_private(&p, text.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// The registered remotes, by name, as the API shows them.
    pub fn list(&self) -> Result<Vec<RemoteView>, ApiError> {
        Ok(self
            .read()?
            .into_iter()
            .map(|r| RemoteView { name: r.name, url: r.url, token_store: if r.in_keyring { "keyring" } else { "file" }.into() })
            .collect())
    }

    /// Adds or replaces remote `name`; an empty token keeps the stored one. A new token goes to
    /// the secret store when there is one that works, else to the owner-only file.
    pub fn put(&self, name: &str, url: &str, token: &str) -> Result<(), ApiError> {
        let url = url.trim().trim_end_matches('/');
        check(name, url)?;
        let mut all = self.read()?;
        let old = all.iter().find(|r| r.name == name).cloned();
        let mut entry = StoredRemote { name: name.to_string(), url: url.to_string(), token: None, in_keyring: false };
        match (token.trim(), old) {
            ("", Some(old)) => {
                entry.token = old.token;
                entry.in_keyring = old.in_keyring;
            }
            ("", None) => return Err(ApiError::BadRequest(format!("remote '{name}' needs its API token"))),
            (t, _) => match &self.secrets {
                Some(store) => match store.set(&self.account(name), t) {
                    Ok(()) => entry.in_keyring = true,
                    Err(e) => {
                        tracing::warn!(
                            remote = name,
                            "cannot use {} ({e}); the token goes to remotes.json (owner-only)",
                            store.describe()
                        );
                        entry.token = Some(t.to_string());
                    }
                },
                None => entry.token = Some(t.to_string()),
            },
        }
        all.retain(|r| r.name != name);
        all.push(entry);
        all.sort_by(|a, b| a.name.cmp(&b.name));
        self.save(all)
    }

    /// Removes remote `name` and its token.
    pub fn remove(&self, name: &str) -> Result<(), ApiError> {
        let mut all = self.read()?;
        let Some(gone) = all.iter().find(|r| r.name == name).cloned() else {
            return Err(ApiError::NotFound(format!("no remote '{name}'")));
        };
        all.retain(|r| r.name != name);
        self.save(all)?;
        if gone.in_keyring {
            if let Some(store) = &self.secrets {
                if let Err(e) = store.delete(&self.account(name)) {
                    tracing::warn!(remote = name, "cannot remove its token from {}: {e}", store.describe());
                }
            }
        }
        Ok(())
    }

    /// The remote called `name`, with its token.
    pub fn find(&self, name: &str) -> Result<Remote, ApiError> {
        let all = self.read()?;
        let names: Vec<String> = all.iter().map(|r| r.name.clone()).collect();
        let found = all.into_iter().find(|r| r.name == name).ok_or_else(|| {
            let known = if names.is_empty() { "none yet".to_string() } else { names.join(", ") };
            ApiError::NotFound(format!(
                "no remote runner '{name}' (known: {known}); add it under Runners in the UI or with PUT /api/remotes/{name}"
            ))
        })?;
        let reenter = format!("enter it again under Runners in the UI or with PUT /api/remotes/{name}");
        let token = match (found.token, found.in_keyring, &self.secrets) {
            (Some(t), _, _) => t,
            (None, true, Some(store)) => store
                .get(&self.account(name))
                .map_err(|e| ApiError::BadGateway(format!("cannot read the token of '{name}' from {}: {e}", store.describe())))?
                .ok_or_else(|| ApiError::BadRequest(format!("the token of '{name}' is gone from {}; {reenter}", store.describe())))?,
            (None, true, None) => {
                return Err(ApiError::BadRequest(format!(
                    "the token of '{name}' is in the desktop app's OS keyring, which this runner cannot read; use the desktop app or {reenter}"
                )))
            }
            (None, false, _) => return Err(ApiError::BadRequest(format!("remote '{name}' has no token; {reenter}"))),
        };
        Ok(Remote { name: found.name, url: found.url, token })
    }
}

/// Checks a name and URL a user typed.
fn check(name: &str, url: &str) -> Result<(), ApiError> {
    if !polder_engine::spec::valid_name(name) {
        return Err(ApiError::BadRequest(format!(
            "remote name `{name}`: use 1 to {} letters, digits, `_` and `-`",
            polder_engine::spec::MAX_NAME_LEN
        )));
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

/// Uploads a bundle to `remote`'s `/api/deploy` (blocking); its JSON answer, or its error message.
pub fn upload(remote: &Remote, bundle: &[u8]) -> Result<Value, ApiError> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    // Check the token with a small request first: a runner refuses a bad token before reading
    // the body, so a large upload would only end in a broken pipe.
    let unreachable = |e| remote.unreachable(e);
    let probe = agent
        .get(format!("{}/api/status", remote.url))
        .header("Authorization", format!("Bearer {}", remote.token))
        .call()
        .map_err(unreachable)?;
    if probe.status().as_u16() == 401 {
        return Err(remote.refused_token(None));
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
        401 => remote.refused_token(Some(&message)),
        code => ApiError::BadGateway(format!("runner '{}' answered {code}: {message}", remote.name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// An in-memory store that can be told to fail, like a keyring without a Secret Service.
    #[derive(Debug, Default)]
    struct MemoryStore {
        secrets: Mutex<HashMap<String, String>>,
        broken: bool,
    }

    impl SecretStore for MemoryStore {
        fn describe(&self) -> String {
            "the test store".into()
        }
        fn set(&self, account: &str, secret: &str) -> Result<(), String> {
            if self.broken {
                return Err("no Secret Service on the session bus".into());
            }
            self.secrets.lock().unwrap().insert(account.into(), secret.into());
            Ok(())
        }
        fn get(&self, account: &str) -> Result<Option<String>, String> {
            Ok(self.secrets.lock().unwrap().get(account).cloned())
        }
        fn delete(&self, account: &str) -> Result<(), String> {
            self.secrets.lock().unwrap().remove(account);
            Ok(())
        }
    }

    fn file_text(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("runner/remotes.json")).unwrap()
    }

    #[test]
    fn remotes_are_kept_private_and_tokens_survive_edits() {
        let dir = tempfile::tempdir().unwrap();
        let remotes = Remotes::new(dir.path(), None);
        remotes.put("prod", "http://127.0.0.1:9000/", "secret").unwrap();
        // An empty token keeps the stored one; the URL is normalized.
        remotes.put("prod", "http://127.0.0.1:9001", "").unwrap();
        let view = RemoteView { name: "prod".into(), url: "http://127.0.0.1:9001".into(), token_store: "file".into() };
        assert_eq!(remotes.list().unwrap(), [view]);
        assert_eq!(remotes.find("prod").unwrap().token, "secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(remotes.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(remotes.put("bad name", "http://x", "t").unwrap_err().to_string().contains("letters"));
        assert!(remotes.put("x", "https://x", "t").unwrap_err().to_string().contains("https"));
        assert!(remotes.put("new", "http://x:1", "").unwrap_err().to_string().contains("needs its API token"));
        remotes.remove("prod").unwrap();
        assert!(remotes.list().unwrap().is_empty());
        assert!(remotes.find("prod").is_err());
    }

    #[test]
    fn with_a_secret_store_tokens_never_touch_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(MemoryStore::default());
        let remotes = Remotes::new(dir.path(), Some(store.clone()));
        remotes.put("prod", "http://127.0.0.1:9000", "s3cret-token").unwrap();
        assert!(!file_text(dir.path()).contains("s3cret-token"), "{}", file_text(dir.path()));
        assert_eq!(remotes.list().unwrap()[0].token_store, "keyring");
        assert_eq!(remotes.find("prod").unwrap().token, "s3cret-token");
        let account = format!("{}#prod", dir.path().display());
        assert_eq!(store.get(&account).unwrap().as_deref(), Some("s3cret-token"));
        // A URL edit keeps the token where it is.
        remotes.put("prod", "http://127.0.0.1:9001", "").unwrap();
        assert_eq!(remotes.find("prod").unwrap().token, "s3cret-token");
        // A runner without the store (polder serve on the same workspace) says where the token is.
        let plain = Remotes::new(dir.path(), None);
        assert!(plain.find("prod").unwrap_err().to_string().contains("OS keyring"));
        remotes.remove("prod").unwrap();
        assert_eq!(store.get(&account).unwrap(), None);
    }

    #[test]
    fn a_broken_secret_store_falls_back_to_the_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(MemoryStore { broken: true, ..Default::default() });
        let remotes = Remotes::new(dir.path(), Some(store));
        remotes.put("prod", "http://127.0.0.1:9000", "tok").unwrap();
        assert_eq!(remotes.list().unwrap()[0].token_store, "file");
        assert_eq!(remotes.find("prod").unwrap().token, "tok");
    }
}
