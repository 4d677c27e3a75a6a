//! Polder's own secret store for `${secret:NAME}` references (a runner on a server has no OS
//! keyring): values encrypted at rest (ChaCha20-Poly1305, a fresh nonce per value, the name as
//! associated data so a value cannot be moved to another name) in a file of the workspace, with
//! the key in a file outside it, created owner-only. Writes are atomic (temp file + rename).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use crate::connections::{Secret, SecretStore};

/// The store's file in the workspace state folder (`.polder/`).
pub const STORE_FILE: &str = "secrets.json";

/// Environment variable naming the key file (default: `$XDG_CONFIG_HOME/polder/secret.key`,
/// else `~/.config/polder/secret.key`).
pub const KEY_FILE_ENV: &str = "POLDER_SECRET_KEY_FILE";

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Reading or writing a file failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file is inside the workspace, where it would travel with the encrypted values.
    #[error("the secret key file {0} is inside the workspace; keep it outside (set {KEY_FILE_ENV})")]
    KeyInWorkspace(PathBuf),
    /// The key file is not a 32-byte key.
    #[error("the secret key file {0} is not a Polder key (32 bytes); restore it, or move the store aside to start a new one")]
    BadKey(PathBuf),
    /// A value does not decrypt with this key (another key, or a damaged file).
    #[error("secret '{0}' cannot be decrypted with this key file; set it again with `polder secret set {0}`")]
    Undecryptable(String),
    /// The store file is damaged.
    #[error("the secret store {path} is damaged ({why}); move it aside and set the secrets again")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A secret name that cannot be referenced.
    #[error("secret name `{0}` must be letters, digits, _ - and . (it is written as ${{secret:NAME}})")]
    BadName(String),
}

/// The encrypted secret store of a workspace.
pub struct FileSecretStore {
    path: PathBuf,
    key: LessSafeKey,
}

/// The default key file: outside any workspace, in the user's configuration folder.
pub fn default_key_file() -> PathBuf {
    if let Some(p) = std::env::var_os(KEY_FILE_ENV) {
        return PathBuf::from(p);
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    config.join("polder").join("secret.key")
}

impl FileSecretStore {
    /// Opens the store of the workspace at `root` (state in `state_dir`), creating the key file
    /// (owner-only) on first use. The key file must lie outside the workspace.
    pub fn open(root: &Path, state_dir: &Path, key_file: &Path) -> Result<FileSecretStore, SecretError> {
        let key_abs = std::path::absolute(key_file).unwrap_or_else(|_| key_file.to_path_buf());
        let root_abs = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        if key_abs.starts_with(&root_abs) {
            return Err(SecretError::KeyInWorkspace(key_abs));
        }
        let bytes = match std::fs::read(&key_abs) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(&key_abs)?,
            Err(source) => return Err(SecretError::Io { what: "cannot read", path: key_abs, source }),
        };
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &bytes).map_err(|_| SecretError::BadKey(key_abs.clone()))?;
        Ok(FileSecretStore { path: state_dir.join(STORE_FILE), key: LessSafeKey::new(unbound) })
    }

    /// Stores `value` under `name`, replacing any earlier value.
    pub fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        check_name(name)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| self.damaged("no randomness for a nonce"))?;
        let mut sealed = value.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(name.as_bytes()), &mut sealed)
            .map_err(|_| self.damaged("cannot encrypt"))?;
        let mut entries = self.entries()?;
        entries.insert(name.to_string(), hex(&[&nonce[..], &sealed[..]].concat()));
        self.write(&entries)
    }

    /// Removes `name`; whether it was there.
    pub fn remove(&self, name: &str) -> Result<bool, SecretError> {
        let mut entries = self.entries()?;
        let had = entries.remove(name).is_some();
        if had {
            self.write(&entries)?;
        }
        Ok(had)
    }

    /// The names of the stored secrets (never their values).
    pub fn names(&self) -> Result<Vec<String>, SecretError> {
        Ok(self.entries()?.into_keys().collect())
    }

    /// The value of `name`, decrypted.
    pub fn read(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        let Some(text) = self.entries()?.remove(name) else { return Ok(None) };
        let raw = unhex(&text).ok_or_else(|| SecretError::Undecryptable(name.to_string()))?;
        if raw.len() < NONCE_LEN {
            return Err(SecretError::Undecryptable(name.to_string()));
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Undecryptable(name.to_string()))?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut buf)
            .map_err(|_| SecretError::Undecryptable(name.to_string()))?;
        let value = String::from_utf8(plain.to_vec()).map_err(|_| SecretError::Undecryptable(name.to_string()))?;
        Ok(Some(Secret::new(value)))
    }

    fn damaged(&self, why: &str) -> SecretError {
        SecretError::Damaged { path: self.path.clone(), why: why.to_string() }
    }

    fn entries(&self) -> Result<BTreeMap<String, String>, SecretError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str::<StoreFile>(&text).map(|f| f.secrets).map_err(|e| self.damaged(&e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(SecretError::Io { what: "cannot read", path: self.path.clone(), source }),
        }
    }

    fn write(&self, entries: &BTreeMap<String, String>) -> Result<(), SecretError> {
        let text = serde_json::to_string_pretty(&StoreFile { version: 1, secrets: entries.clone() })
            .map_err(|e| self.damaged(&e.to_string()))?;
        // Owner-only from the moment the file exists.
        crate::fsutil::write_private(&self.path, text.as_bytes()).map_err(|e| self.damaged(&format!("cannot write it: {e}")))
    }
}

impl SecretStore for FileSecretStore {
    fn get(&self, name: &str) -> Option<Secret> {
        // An unreadable value resolves to nothing; the reference then says what to set.
        self.read(name).ok().flatten()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoreFile {
    version: u32,
    /// Name → hex(nonce ‖ ciphertext ‖ tag).
    secrets: BTreeMap<String, String>,
}

fn check_name(name: &str) -> Result<(), SecretError> {
    let ok = !name.is_empty() && name.len() <= 128 && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(SecretError::BadName(name.to_string()))
    }
}

fn create_key(path: &Path) -> Result<Vec<u8>, SecretError> {
    let io = |what, source| SecretError::Io { what, path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create the folder of", e))?;
        restrict_dir(dir);
    }
    let mut key = vec![0u8; 32];
    SystemRandom::new().fill(&mut key).map_err(|_| SecretError::BadKey(path.to_path_buf()))?;
    // Owner-only from the start, and never replacing a key another process just made.
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(mut f) => {
            use std::io::Write;
            f.write_all(&key).and_then(|_| f.sync_all()).map_err(|e| io("cannot write", e))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path).map_err(|e| io("cannot read", e)),
        Err(e) => Err(io("cannot create", e)),
    }
}

#[cfg(unix)]
fn restrict_dir(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
}

#[cfg(not(unix))]
fn restrict_dir(_: &Path) {}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encrypted_at_rest_and_bound_to_their_name() {
        let tmp = tempfile::tempdir().unwrap();
        let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
        let state = ws.join(".polder");
        std::fs::create_dir_all(&state).unwrap();
        let key = home.join("polder/secret.key");
        let store = FileSecretStore::open(&ws, &state, &key).unwrap();
        store.set("lake", "hunter2-secret-value").unwrap();
        store.set("other", "x").unwrap();
        assert_eq!(store.read("lake").unwrap().unwrap().expose(), "hunter2-secret-value");
        assert_eq!(store.names().unwrap(), ["lake", "other"]);
        let on_disk = std::fs::read_to_string(state.join(STORE_FILE)).unwrap();
        assert!(!on_disk.contains("hunter2"), "{on_disk}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(state.join(STORE_FILE)).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // A value copied under another name does not decrypt (the name is authenticated).
        let moved = on_disk.replacen("\"other\"", "\"other_old\"", 1).replacen("\"lake\"", "\"other\"", 1);
        std::fs::write(state.join(STORE_FILE), moved).unwrap();
        assert!(matches!(store.read("other"), Err(SecretError::Undecryptable(n)) if n == "other"));
        // Reopened with the same key file: same values; another key: refused, naming the secret.
        store.set("lake", "v2").unwrap();
        let again = FileSecretStore::open(&ws, &state, &key).unwrap();
        assert_eq!(again.get("lake").unwrap().expose(), "v2");
        let stranger = FileSecretStore::open(&ws, &state, &home.join("other.key")).unwrap();
        assert!(matches!(stranger.read("lake"), Err(SecretError::Undecryptable(_))));
        assert!(stranger.get("lake").is_none());
        assert!(store.remove("lake").unwrap() && !store.remove("lake").unwrap());
    }

    #[test]
    fn the_key_must_live_outside_the_workspace_and_names_are_references() {
        let tmp = tempfile::tempdir().unwrap();
        let err = FileSecretStore::open(tmp.path(), &tmp.path().join(".polder"), &tmp.path().join("secret.key")).err().unwrap();
        assert!(err.to_string().contains("is inside the workspace"), "{err}");
        let home = tempfile::tempdir().unwrap();
        let store = FileSecretStore::open(tmp.path(), tmp.path(), &home.path().join("k")).unwrap();
        assert!(matches!(store.set("a b", "x"), Err(SecretError::BadName(_))));
        std::fs::write(home.path().join("short"), b"abc").unwrap();
        assert!(matches!(FileSecretStore::open(tmp.path(), tmp.path(), &home.path().join("short")), Err(SecretError::BadKey(_))));
    }
}
