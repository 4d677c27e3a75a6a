//! The runner's side of connections: where `${secret:NAME}` values live (the desktop app's OS
//! keyring when it gave one, else the workspace's encrypted file store) and edits of
//! `connections.toml` (validated before they are written, written atomically).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polder_engine::connections::{self, ConnectionType, Secret};
use polder_engine::fsutil::{write_atomic, write_private};
use polder_engine::secrets::{default_key_file, FileSecretStore};

use crate::remotes::SecretStore as Keyring;

/// Secrets referenced by connections, as the engine reads them and the API writes them.
#[derive(Debug)]
pub struct ConnectionSecrets {
    root: PathBuf,
    state_dir: PathBuf,
    keyring: Option<Arc<dyn Keyring>>,
}

impl ConnectionSecrets {
    /// The secrets of the workspace at `root`; in `keyring` when given.
    pub fn new(root: &Path, state_dir: &Path, keyring: Option<Arc<dyn Keyring>>) -> ConnectionSecrets {
        ConnectionSecrets { root: root.to_path_buf(), state_dir: state_dir.to_path_buf(), keyring }
    }

    /// The keyring account of secret `name`: workspaces keep their own secrets apart.
    fn account(&self, name: &str) -> String {
        format!("{}#secret:{name}", self.state_dir.display())
    }

    /// The names kept in the keyring (it cannot list them itself); never values.
    fn index_path(&self) -> PathBuf {
        self.state_dir.join("runner").join("keyring-secrets.json")
    }

    fn keyring_names(&self) -> BTreeSet<String> {
        std::fs::read_to_string(self.index_path()).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
    }

    fn save_keyring_names(&self, names: &BTreeSet<String>) -> Result<(), String> {
        let p = self.index_path();
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        write_private(&p, serde_json::to_string(names).unwrap_or_default().as_bytes()).map_err(|e| e.to_string())
    }

    fn file(&self) -> Result<FileSecretStore, String> {
        FileSecretStore::open(&self.root, &self.state_dir, &default_key_file()).map_err(|e| e.to_string())
    }

    /// Where values go, for messages: "the OS keyring" or the encrypted file.
    pub fn describe(&self) -> String {
        match &self.keyring {
            Some(k) => k.describe(),
            None => "the runner's encrypted secret store".into(),
        }
    }

    /// Stores `value` as secret `name`.
    pub fn set(&self, name: &str, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return Err(format!("secret '{name}' has no value"));
        }
        if let Some(k) = &self.keyring {
            k.set(&self.account(name), value)?;
            let mut names = self.keyring_names();
            names.insert(name.to_string());
            return self.save_keyring_names(&names);
        }
        self.file()?.set(name, value).map_err(|e| e.to_string())
    }

    /// Forgets secret `name`; whether it was there.
    pub fn remove(&self, name: &str) -> Result<bool, String> {
        let mut had = false;
        if let Some(k) = &self.keyring {
            let mut names = self.keyring_names();
            if names.remove(name) {
                k.delete(&self.account(name))?;
                self.save_keyring_names(&names)?;
                had = true;
            }
        }
        if self.state_dir.join(polder_engine::secrets::STORE_FILE).exists() {
            had |= self.file()?.remove(name).map_err(|e| e.to_string())?;
        }
        Ok(had)
    }

    /// The names of the stored secrets.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.keyring_names();
        if self.state_dir.join(polder_engine::secrets::STORE_FILE).exists() {
            if let Ok(f) = self.file() {
                names.extend(f.names().unwrap_or_default());
            }
        }
        names.into_iter().collect()
    }
}

impl connections::SecretStore for ConnectionSecrets {
    fn get(&self, name: &str) -> Option<Secret> {
        if let Some(k) = &self.keyring {
            if self.keyring_names().contains(name) {
                if let Ok(Some(v)) = k.get(&self.account(name)) {
                    return Some(Secret::new(v));
                }
            }
        }
        if !self.state_dir.join(polder_engine::secrets::STORE_FILE).exists() {
            return None;
        }
        self.file().ok()?.get(name)
    }
}

/// Asks connection `name`'s server whether it answers, accepts the credentials and has `bucket`
/// (default: the connection's `bucket` setting): `(ok, the verdict in one line)`. The CLI's
/// `connection test` and the API's test route both say this line.
pub fn test(ws: &polder_engine::Workspace, name: &str, bucket: Option<&str>) -> Result<(bool, String), crate::error::ApiError> {
    use crate::error::ApiError;
    let conns = connections::Connections::load(ws.root()).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let c = conns.get(name).map_err(|e| ApiError::NotFound(e.to_string()))?;
    // Databases: whether the server answers and takes the login.
    let database = match c.kind {
        connections::ConnectionType::Postgres => Some(ws.pg_access(Some(name)).and_then(|a| {
            a.check().map(|v| format!("ok: {name} at {} answers (PostgreSQL {v}) and accepts user '{}'", a.address(), a.user))
        })),
        connections::ConnectionType::ClickHouse => Some(ws.ch_access(Some(name)).and_then(|a| {
            a.check().map(|v| format!("ok: {name} at {} answers (ClickHouse {v}) and accepts user '{}'", a.url, a.user))
        })),
        connections::ConnectionType::S3 => None,
    };
    if let Some(verdict) = database {
        return Ok(match verdict {
            Ok(message) => (true, message),
            Err(e) => (false, format!("failed: {e}")),
        });
    }
    let bucket = bucket.filter(|b| !b.is_empty()).map(str::to_string).or_else(|| match c.settings.get("bucket") {
        Some(connections::Value::Plain(b)) => Some(b.clone()),
        _ => None,
    });
    let Some(bucket) = bucket else {
        return Ok((false, format!("failed: connection '{name}' names no bucket; set `bucket` on it, or name one to look for")));
    };
    let access = match ws.s3_access(Some(name)) {
        Ok(a) => a,
        Err(e) => return Ok((false, format!("failed: {e}"))),
    };
    Ok(match polder_engine::s3::check(&access, &bucket) {
        Ok(()) => {
            (true, format!("ok: {name} at {} answers, accepts the credentials and has bucket '{bucket}'", access.endpoint()))
        }
        Err(e) => (false, format!("failed: {e}")),
    })
}

/// The secret name a typed value of connection `connection`'s setting `key` is stored under.
pub fn secret_name(connection: &str, key: &str) -> String {
    format!("{connection}-{key}")
}

/// Sets connection `name` in the workspace's `connections.toml` to `kind` and `settings`
/// (references for secret settings; a secret setting left out keeps its current reference).
pub fn put(root: &Path, name: &str, kind: ConnectionType, mut settings: BTreeMap<String, String>) -> Result<(), String> {
    let file = connections::file(root);
    let text = read(&file)?;
    if let Ok(existing) = connections::Connections::parse(&file, &text) {
        if let Some(old) = existing.by_name.get(name).filter(|c| c.kind == kind) {
            for info in kind.setting_infos().into_iter().filter(|i| i.secret) {
                if settings.contains_key(info.key) {
                    continue;
                }
                let kept = match old.settings.get(info.key) {
                    Some(connections::Value::Env(n)) => format!("${{env:{n}}}"),
                    Some(connections::Value::Secret(n)) => format!("${{secret:{n}}}"),
                    _ => continue,
                };
                settings.insert(info.key.to_string(), kept);
            }
        }
    }
    let out = connections::upsert_text(&file, &text, name, kind, &settings).map_err(|e| e.to_string())?;
    write_atomic(&file, out.as_bytes()).map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// Removes connection `name`; whether it was there.
pub fn remove(root: &Path, name: &str) -> Result<bool, String> {
    let file = connections::file(root);
    let text = read(&file)?;
    match connections::remove_text(&text, name) {
        Some(out) => {
            write_atomic(&file, out.as_bytes()).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn read(file: &Path) -> Result<String, String> {
    match std::fs::read_to_string(file) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("cannot read {}: {e}", file.display())),
    }
}
