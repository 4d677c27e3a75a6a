//! Where a dataset's Parquet lives (a local folder or an S3 prefix) and its manifest: the list of
//! live files, the last log entry they cover, and the files a merge superseded (removed after a
//! grace period, so a reader holding an older manifest still finds its files). The manifest is
//! the same object Polder's partitioned S3 sinks write, so a `parquet` source on the folder reads
//! a dataset too.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::IngestError;
use crate::s3::{self, S3Access};

/// The manifest's format tag (shared with partitioned sinks).
pub const MANIFEST_FORMAT: &str = "polder-manifest-1";

/// A file a merge replaced, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Superseded {
    /// Relative path.
    pub file: String,
    /// When the merge that replaced it was published (ms since the epoch).
    pub since_ms: i64,
}

/// A dataset's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestManifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// Always `["day"]`.
    pub partition_by: Vec<String>,
    /// Live files, relative to the folder (`day=2026-12-03/flush-….parquet`).
    pub files: Vec<String>,
    /// When it was written (RFC 3339).
    pub written_at: String,
    /// The last log entry the files hold.
    #[serde(default)]
    pub flushed_through: i64,
    /// Files replaced by merges, waiting out the grace period.
    #[serde(default)]
    pub superseded: Vec<Superseded>,
}

impl Default for IngestManifest {
    fn default() -> Self {
        IngestManifest {
            format: MANIFEST_FORMAT.into(),
            partition_by: vec!["day".into()],
            files: Vec::new(),
            written_at: String::new(),
            flushed_through: 0,
            superseded: Vec::new(),
        }
    }
}

/// A dataset's storage.
#[derive(Debug, Clone)]
pub enum Target {
    /// A folder on this machine.
    Local(PathBuf),
    /// An `s3://bucket/prefix` folder.
    S3 {
        /// How to reach it.
        access: S3Access,
        /// The folder URL, without a trailing `/`.
        url: String,
    },
}

impl Target {
    /// The storage of a dataset whose `path` is `path`: relative folders are under `root`.
    pub fn new(root: &Path, path: &str, access: Option<S3Access>) -> Result<Target, IngestError> {
        if s3::is_s3(path) {
            let access = access.ok_or_else(|| IngestError::Target(format!("no S3 access for {path}")))?;
            s3::S3Url::parse(path).map_err(IngestError::S3)?;
            return Ok(Target::S3 { access, url: path.trim_end_matches('/').to_string() });
        }
        Ok(Target::Local(root.join(path)))
    }

    /// The full path or URL of a relative file.
    pub fn url(&self, rel: &str) -> String {
        match self {
            Target::Local(dir) => dir.join(rel).display().to_string(),
            Target::S3 { url, .. } => format!("{url}/{rel}"),
        }
    }

    /// The S3 access, when the target is a bucket.
    pub fn s3(&self) -> Option<&S3Access> {
        match self {
            Target::S3 { access, .. } => Some(access),
            Target::Local(_) => None,
        }
    }

    /// The manifest (an empty one when none was written yet).
    pub fn read_manifest(&self) -> Result<IngestManifest, IngestError> {
        let bytes = match self {
            Target::Local(dir) => match std::fs::read(dir.join(s3::MANIFEST)) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(IngestManifest::default()),
                Err(e) => return Err(IngestError::io(dir.join(s3::MANIFEST), e)),
            },
            Target::S3 { access, url } => match s3::get(access, &format!("{url}/{}", s3::MANIFEST)) {
                Ok(b) => b,
                Err(s3::S3Error::NotFound { .. }) => return Ok(IngestManifest::default()),
                Err(e) => return Err(IngestError::S3(e)),
            },
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| IngestError::Target(format!("{} is not a Polder manifest: {e}", self.url(s3::MANIFEST))))
    }

    /// Replaces the manifest in one atomic step (rename on disk, one PUT on S3).
    pub fn write_manifest(&self, m: &IngestManifest) -> Result<(), IngestError> {
        let mut m = m.clone();
        m.written_at = chrono::Utc::now().to_rfc3339();
        let body = serde_json::to_vec_pretty(&m).expect("a manifest serializes");
        match self {
            Target::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir.clone(), e))?;
                crate::fsutil::write_atomic(&dir.join(s3::MANIFEST), &body).map_err(|e| IngestError::Target(e.to_string()))
            }
            Target::S3 { access, url } => s3::put(access, &format!("{url}/{}", s3::MANIFEST), body).map_err(IngestError::S3),
        }
    }

    /// Writes a file only if none is there; false when one was (a redone flush wrote it before).
    pub fn put_if_absent(&self, rel: &str, body: Vec<u8>) -> Result<bool, IngestError> {
        match self {
            Target::Local(dir) => {
                let path = dir.join(rel);
                let parent = path.parent().expect("a file under the folder").to_path_buf();
                if !parent.is_dir() {
                    std::fs::create_dir_all(&parent).map_err(|e| IngestError::io(parent.clone(), e))?;
                    // The new day folder's own entry must survive a crash too.
                    crate::fsutil::sync_dir(parent.parent().unwrap_or(dir));
                }
                let tmp = crate::fsutil::temp_path_for(&path);
                let result = (|| {
                    let mut f = std::fs::File::create(&tmp)?;
                    std::io::Write::write_all(&mut f, &body)?;
                    f.sync_all()?;
                    // A hard link fails if the name exists: the put-if-absent of a file system.
                    match std::fs::hard_link(&tmp, &path) {
                        Ok(()) => Ok(true),
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                        Err(e) => Err(e),
                    }
                })();
                let _ = std::fs::remove_file(&tmp);
                crate::fsutil::sync_dir(&parent);
                result.map_err(|e| IngestError::io(path, e))
            }
            Target::S3 { access, url } => s3::put_if_absent(access, &format!("{url}/{rel}"), body).map_err(IngestError::S3),
        }
    }

    /// Publishes a local file under `rel` (moved on disk, uploaded to S3).
    pub fn put_file(&self, rel: &str, local: &Path) -> Result<(), IngestError> {
        match self {
            Target::Local(dir) => {
                let path = dir.join(rel);
                let parent = path.parent().expect("a file under the folder").to_path_buf();
                std::fs::create_dir_all(&parent).map_err(|e| IngestError::io(parent.clone(), e))?;
                std::fs::File::open(local).and_then(|f| f.sync_all()).map_err(|e| IngestError::io(local.to_path_buf(), e))?;
                std::fs::rename(local, &path).map_err(|e| IngestError::io(path.clone(), e))?;
                crate::fsutil::sync_dir(&parent);
                Ok(())
            }
            Target::S3 { access, url } => {
                s3::upload_file(access, &format!("{url}/{rel}"), local).map(|_| ()).map_err(IngestError::S3)
            }
        }
    }

    /// Removes a file (absent is fine).
    pub fn delete(&self, rel: &str) -> Result<(), IngestError> {
        match self {
            Target::Local(dir) => match std::fs::remove_file(dir.join(rel)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(IngestError::io(dir.join(rel), e)),
            },
            Target::S3 { access, url } => s3::delete(access, &format!("{url}/{rel}")).map_err(IngestError::S3),
        }
    }
}
