//! Ingest tokens: bearer tokens that may only post rows to the datasets they name. They cannot
//! read anything, deploy or start runs; only their BLAKE3 hash is stored
//! (`.polder/runner/ingest_tokens.json`, owner-only), and a token is shown once, when created.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// What ingest tokens start with (so a leaked one is recognisable in a scan).
pub const PREFIX: &str = "pit_";

/// A stored token, without the token.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// Its id (for revoking).
    pub id: String,
    /// A label saying who uses it.
    pub name: String,
    /// The datasets it may post to.
    pub datasets: Vec<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    info: TokenInfo,
    hash: String,
}

/// The token file, re-read when it changes on disk (the CLI may write it while the runner runs).
pub struct IngestTokens {
    file: PathBuf,
    cache: Mutex<(Option<SystemTime>, Vec<Stored>)>,
}

impl IngestTokens {
    /// The tokens of the workspace whose state folder is `state_dir`.
    pub fn new(state_dir: &Path) -> IngestTokens {
        IngestTokens { file: state_dir.join("runner").join("ingest_tokens.json"), cache: Mutex::new((None, Vec::new())) }
    }

    fn load(&self) -> Vec<Stored> {
        let modified = std::fs::metadata(&self.file).and_then(|m| m.modified()).ok();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 != modified || modified.is_none() {
            let list = std::fs::read(&self.file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
            *cache = (modified, list);
        }
        cache.1.clone()
    }

    fn save(&self, list: &[Stored]) -> Result<(), ApiError> {
        std::fs::create_dir_all(self.file.parent().expect("under the state folder"))
            .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", self.file.display())))?;
        let body = serde_json::to_vec_pretty(list).expect("tokens serialize");
        polder_engine::fsutil::write_private(&self.file, &body).map_err(|e| ApiError::Internal(e.to_string()))?;
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = (None, Vec::new());
        Ok(())
    }

    /// Whether `token` may post to `dataset`.
    pub fn allows(&self, token: &str, dataset: &str) -> bool {
        if !token.starts_with(PREFIX) {
            return false;
        }
        let hash = blake3::hash(token.as_bytes());
        self.load()
            .iter()
            .any(|t| blake3::Hash::from_hex(&t.hash).is_ok_and(|h| h == hash) && t.info.datasets.iter().any(|d| d == dataset))
    }

    /// Every token, without the tokens.
    pub fn list(&self) -> Vec<TokenInfo> {
        self.load().into_iter().map(|t| t.info).collect()
    }

    /// Makes a token for `datasets`; returns it (shown once) with its record.
    pub fn create(&self, name: &str, datasets: &[String]) -> Result<(TokenInfo, String), ApiError> {
        if datasets.is_empty() {
            return Err(ApiError::BadRequest("an ingest token needs at least one dataset".into()));
        }
        for d in datasets {
            if !polder_engine::ingest::dataset::valid_dataset_name(d) {
                return Err(ApiError::BadRequest(format!("dataset name `{d}` is not valid")));
            }
        }
        let token = format!("{PREFIX}{}", crate::auth::generate_token());
        let id = crate::auth::generate_token()[..12].to_string();
        let info =
            TokenInfo { id, name: name.to_string(), datasets: datasets.to_vec(), created_at: chrono::Utc::now().to_rfc3339() };
        let mut list = self.load();
        list.push(Stored { info: info.clone(), hash: blake3::hash(token.as_bytes()).to_hex().to_string() });
        self.save(&list)?;
        Ok((info, token))
    }

    /// Revokes the token `id`.
    pub fn revoke(&self, id: &str) -> Result<(), ApiError> {
        let mut list = self.load();
        let before = list.len();
        list.retain(|t| t.info.id != id);
        if list.len() == before {
            return Err(ApiError::NotFound(format!("no ingest token '{id}'")));
        }
        self.save(&list)
    }
}
