//! Atomic file output: write `<name>.tmp-<pid>` beside the target, flush, fsync, rename.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::Error;

/// Write buffer size: large enough that the generators' many small writes hit the disk in big chunks.
const BUF_SIZE: usize = 1 << 20;

/// A file being written; invisible under its final name until [`AtomicFile::commit`].
pub(crate) struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `dest` (its folder must exist).
    pub(crate) fn create(dest: &Path) -> Result<Self, Error> {
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dest.with_file_name(format!("{name}.tmp-{}", std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::io("cannot create", &tmp, e))?;
        Ok(AtomicFile { dest: dest.to_path_buf(), tmp, out: Some(BufWriter::with_capacity(BUF_SIZE, file)) })
    }

    /// The buffered writer; map its errors with [`AtomicFile::err`].
    pub(crate) fn out(&mut self) -> &mut BufWriter<File> {
        self.out.as_mut().expect("AtomicFile used after commit")
    }

    /// An [`Error`] for a failed write to this file.
    pub(crate) fn err(&self, e: std::io::Error) -> Error {
        Error::io("cannot write", &self.tmp, e)
    }

    /// Flushes, fsyncs and renames the temp file to its final name.
    pub(crate) fn commit(mut self) -> Result<PathBuf, Error> {
        let out = self.out.take().expect("AtomicFile committed twice");
        let file = out.into_inner().map_err(|e| Error::io("cannot write", &self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("cannot sync", &self.tmp, e))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io("cannot rename into place", &self.dest, e))?;
        if let Some(dir) = self.dest.parent() {
            sync_dir(dir);
        }
        Ok(std::mem::take(&mut self.dest))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (error or early return): leave no temp file behind.
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `dest` atomically.
pub(crate) fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<PathBuf, Error> {
    let mut f = AtomicFile::create(dest)?;
    f.out().write_all(bytes).map_err(|e| f.err(e))?;
    f.commit()
}

/// Creates `dir` and its parents.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create folder", dir, e))
}

/// Removes `path` if it exists.
pub(crate) fn remove_if_exists(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot remove", path, e)),
    }
}

/// For a temp file `<base>.tmp-<pid>` whose process no longer runs (checked via Linux `/proc`;
/// never stale elsewhere), its `<base>`.
pub(crate) fn stale_temp_base(name: &str) -> Option<&str> {
    let (base, pid) = name.rsplit_once(".tmp-")?;
    let pid: u32 = pid.parse().ok()?;
    let dead = pid != std::process::id() && Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists();
    dead.then_some(base)
}

/// fsyncs a folder so renames in it survive a crash (best effort).
fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn commit_renames_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.txt");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.out().write_all(b"hello").unwrap();
        assert!(!dest.exists(), "final name must not appear before commit");
        assert_eq!(names(dir.path()), vec![format!("a.txt.tmp-{}", std::process::id())]);
        assert_eq!(f.commit().unwrap(), dest);
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
        assert_eq!(names(dir.path()), vec!["a.txt".to_string()]);
    }

    #[test]
    fn dropped_file_removes_temp_and_keeps_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.txt");
        write_atomic(&dest, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.out().write_all(b"new but abandoned").unwrap();
        }
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        assert_eq!(names(dir.path()), vec!["a.txt".to_string()]);
    }

    #[test]
    fn stale_temps() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        assert_eq!(stale_temp_base("a.json.tmp-4000000000"), Some("a.json"));
        assert_eq!(stale_temp_base(&format!("a.json.tmp-{}", std::process::id())), None);
        assert_eq!(stale_temp_base("a.json.tmp-1"), None, "pid 1 is alive");
        assert_eq!(stale_temp_base("a.json.tmp-x"), None);
        assert_eq!(stale_temp_base("a.json"), None);
    }

    #[test]
    fn create_in_missing_folder_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("missing").join("a.txt");
        let err = AtomicFile::create(&dest).err().unwrap();
        let msg = err.to_string();
        assert!(msg.starts_with("cannot create "), "{msg}");
        assert!(msg.contains("missing"), "{msg}");
    }
}
