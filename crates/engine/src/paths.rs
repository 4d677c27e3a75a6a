//! Where a pipeline may read and write: every file it names stays inside its own folder (after
//! `..` and symlinks are resolved), and data paths may also lie in folders the runner allows.
//!
//! Errors never quote the content of a file they refused, and name the path as the pipeline wrote
//! it, not the machine's absolute paths.

use std::path::{Component, Path, PathBuf};

/// Environment variable listing extra folders data paths may use (`:`-separated absolute paths).
pub const DATA_DIRS_ENV: &str = "POLDER_DATA_DIRS";

/// A path that leaves the folders a pipeline may use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path resolves outside the pipeline folder (and any allowed data folder).
    #[error("`{written}` resolves outside the pipeline folder{also}; {hint}")]
    Outside {
        /// The path as written in the pipeline.
        written: String,
        /// ", and outside the allowed data folders" when there are some.
        also: &'static str,
        /// What to do instead.
        hint: &'static str,
    },
    /// An allowed data folder is not usable.
    #[error("allowed data folder `{0}` (in {DATA_DIRS_ENV}) does not exist or is not a folder")]
    BadRoot(String),
}

/// The folders beyond a pipeline's own that its data paths may name (absolute, canonical).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathPolicy {
    data_dirs: Vec<PathBuf>,
}

impl PathPolicy {
    /// A policy allowing data in `dirs` too; each must exist.
    pub fn new<I: IntoIterator<Item = PathBuf>>(dirs: I) -> Result<PathPolicy, PathError> {
        let data_dirs = dirs
            .into_iter()
            .map(|d| match d.canonicalize() {
                Ok(c) if c.is_dir() => Ok(c),
                _ => Err(PathError::BadRoot(d.display().to_string())),
            })
            .collect::<Result<_, _>>()?;
        Ok(PathPolicy { data_dirs })
    }

    /// The policy named by `POLDER_DATA_DIRS` (none when unset).
    pub fn from_env() -> Result<PathPolicy, PathError> {
        match std::env::var_os(DATA_DIRS_ENV) {
            Some(v) => PathPolicy::new(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty())),
            None => Ok(PathPolicy::default()),
        }
    }

    /// The extra data folders.
    pub fn data_dirs(&self) -> &[PathBuf] {
        &self.data_dirs
    }

    /// A data path (file, folder or glob) written relative to `dir`, as an absolute path, if it
    /// stays inside `dir` or an allowed data folder. Symlinks in its existing part are followed.
    pub fn data_path(&self, dir: &Path, written: &str) -> Result<PathBuf, PathError> {
        self.data_path_from(dir, dir, written)
    }

    /// Like [`PathPolicy::data_path`] for a path relative to `base` rather than to the pipeline
    /// folder `dir` (a path inside SQL, which the engine resolves from its working directory).
    pub fn data_path_from(&self, base: &Path, dir: &Path, written: &str) -> Result<PathBuf, PathError> {
        let full = normalize(&base.join(written));
        let resolved = resolve_existing_prefix(&full);
        if self.allows(dir, &resolved) {
            Ok(full)
        } else {
            Err(self.outside(written))
        }
    }

    /// Checks files found on disk (the matches of a glob written as `written`) after resolving
    /// symlinks: a match may be a link out of the allowed folders.
    pub fn check_found(&self, dir: &Path, written: &str, found: &[PathBuf]) -> Result<(), PathError> {
        let base = canonical_dir(dir);
        for f in found {
            let resolved = f.canonicalize().unwrap_or_else(|_| normalize(f));
            if !self.allows_below(&base, &resolved) {
                return Err(self.outside(written));
            }
        }
        Ok(())
    }

    fn allows(&self, dir: &Path, resolved: &Path) -> bool {
        self.allows_below(&canonical_dir(dir), resolved)
    }

    fn allows_below(&self, base: &Path, resolved: &Path) -> bool {
        resolved.starts_with(base) || self.data_dirs.iter().any(|d| resolved.starts_with(d))
    }

    fn outside(&self, written: &str) -> PathError {
        PathError::Outside {
            written: written.to_string(),
            also: if self.data_dirs.is_empty() { "" } else { " and the allowed data folders" },
            hint: "keep data inside the pipeline folder, or allow its folder for `polder run` and \
                   `polder serve` with POLDER_DATA_DIRS=/that/folder",
        }
    }
}

/// A file the pipeline itself consists of (a `.sql` file, the layout, notes) named relative to
/// `dir`: an absolute path inside the canonical pipeline folder, or an error. No data folders.
pub fn pipeline_file(dir: &Path, written: &str) -> Result<PathBuf, PathError> {
    let outside = || PathError::Outside {
        written: written.to_string(),
        also: "",
        hint: "files of a pipeline (SQL, layout, notes) must lie inside its folder",
    };
    let rel = Path::new(written);
    if rel.is_absolute() || written.is_empty() {
        return Err(outside());
    }
    let base = canonical_dir(dir);
    let full = normalize(&base.join(rel));
    if !full.starts_with(&base) || full == base {
        return Err(outside());
    }
    if resolve_existing_prefix(&full).starts_with(&base) {
        Ok(full)
    } else {
        Err(outside())
    }
}

fn canonical_dir(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| normalize(&std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())))
}

/// `path` with `.` and `..` removed lexically (`..` at the root stays at the root).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The canonical form of the longest existing ancestor of `full`, with the rest appended:
/// where a not-yet-existing path would really land once symlinks are followed.
fn resolve_existing_prefix(full: &Path) -> PathBuf {
    let mut existing = full.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            out.extend(rest.iter().rev());
            return out;
        }
        match (existing.file_name().map(|f| f.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return full.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_files_stay_inside_the_folder_symlinks_included() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::write(dir.join("models/a.sql"), "select 1").unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("etc_link")).unwrap();
        assert!(pipeline_file(&dir, "models/a.sql").unwrap().ends_with("p/models/a.sql"));
        assert!(pipeline_file(&dir, "models/../models/new.sql").is_ok());
        for bad in ["../x.sql", "../../../../etc/passwd", "/etc/passwd", "etc_link/passwd", "models/../../p2/x.sql", ""] {
            let err = pipeline_file(&dir, bad).unwrap_err();
            assert!(err.to_string().contains("outside the pipeline folder"), "{bad}: {err}");
        }
    }

    #[test]
    fn data_paths_may_use_allowed_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        let data = tmp.path().join("shared-data");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        let none = PathPolicy::default();
        assert!(none.data_path(&dir, "data/*.json").is_ok());
        assert!(none.data_path(&dir, "out/new/file.parquet").is_ok());
        let shared = format!("{}/*.json", data.display());
        assert!(none.data_path(&dir, &shared).is_err());
        assert!(none.data_path(&dir, "../shared-data/x.csv").is_err());
        let allowed = PathPolicy::new([data.clone()]).unwrap();
        assert!(allowed.data_path(&dir, &shared).is_ok());
        assert!(allowed.data_path(&dir, "../shared-data/x.csv").is_ok());
        assert!(allowed.data_path(&dir, "/etc/passwd").unwrap_err().to_string().contains("allowed data folders"));
        assert!(PathPolicy::new([tmp.path().join("missing")]).is_err());
    }
}
