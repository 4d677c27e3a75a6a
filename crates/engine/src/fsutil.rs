//! Atomic file writes and temp-file naming shared by artifacts, specs and sinks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Marker in temp file names; the owner token after it (see [`crate::owners`]) lets recovery
/// tell live writers from dead ones.
pub const TMP_MARK: &str = ".tmp-";

/// A fresh temp path beside `path` (same folder, so the final rename is atomic), keeping its
/// extension last because writers pick the file format from it: `.<stem>.tmp-<owner>-<n><.ext>`.
pub fn temp_path_for(path: &Path) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!(".{stem}{TMP_MARK}{}-{n}{ext}", crate::owners::token()))
}

/// Writes `bytes` to `path` via a temp file, fsync and rename: readers see the old or the new file, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(path, bytes, 0o666)
}

/// As `write_atomic`, for secrets: the file is readable by its owner only (mode 0600 on Unix)
/// from the moment it exists.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(path, bytes, 0o600)
}

fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(path.parent().unwrap_or(Path::new(".")));
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("cannot write", path, e)
    })
}

/// A file whose written bytes the kernel starts writing to disk every few MB, so the fsync
/// that publishes it waits only for the last ones: for a 1 GB artifact that fsync was ~2 s of
/// idle waiting after the work (RocksDB's `bytes_per_sync`).
pub struct WritebackFile {
    file: std::fs::File,
    written: u64,
    started: u64,
}

impl WritebackFile {
    /// Bytes between two writeback requests.
    const EVERY: u64 = 8 << 20;

    /// Wraps a file opened for writing at its start.
    pub fn new(file: std::fs::File) -> Self {
        WritebackFile { file, written: 0, started: 0 }
    }

    fn start_writeback(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let len = self.written - self.started;
            // Best effort and non-blocking (no WAIT flags): durability still comes from the fsync.
            // SAFETY: a valid descriptor of an open file; the range lies inside what was written.
            unsafe {
                libc::sync_file_range(self.file.as_raw_fd(), self.started as i64, len as i64, libc::SYNC_FILE_RANGE_WRITE);
            }
        }
        self.started = self.written;
    }
}

impl Write for WritebackFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= Self::EVERY {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Renames `from` over `to` and makes the rename durable.
pub fn publish(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Ok(f) = std::fs::File::open(from) {
        if f.metadata().map(|m| m.is_file()).unwrap_or(false) {
            f.sync_all()?;
        }
    }
    std::fs::rename(from, to)?;
    sync_dir(to.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// fsync a folder so a rename inside it survives a crash (best effort: not all filesystems allow it).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Whether a temp file name belongs to a writer that no longer runs, judged with the owner
/// locks in `owners` (the workspace's `.polder/owners`).
pub fn is_stale_temp(owners: &Path, name: &str) -> bool {
    crate::owners::temp_owner_alive(owners, name) == Some(false)
}

fn remove_entry(path: &Path, is_dir: bool) -> bool {
    let r = if is_dir { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    r.is_ok()
}

/// Removes stale temp files and folders under `root` (recursively); returns how many.
pub fn sweep_stale_temps(root: &Path, owners: &Path) -> usize {
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(root) else { return 0 };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_stale_temp(owners, &name) {
            removed += remove_entry(&path, is_dir) as usize;
        } else if is_dir {
            removed += sweep_stale_temps(&path, owners);
        }
    }
    removed
}

/// Removes the stale temps that writes of `target` leave beside it (`.<stem>.tmp-…`, files or
/// folders), not looking inside other entries; returns how many. A `{{ param }}` in the name
/// matches anything from there on.
pub fn sweep_temps_beside(target: &Path, owners: &Path) -> usize {
    let (Some(dir), Some(stem)) = (target.parent(), target.file_stem()) else { return 0 };
    let stem = stem.to_string_lossy();
    let prefix = match stem.find("{{") {
        Some(i) => format!(".{}", &stem[..i]),
        None => format!(".{stem}{TMP_MARK}"),
    };
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && is_stale_temp(owners, &name) {
            removed += remove_entry(&e.path(), e.file_type().map(|t| t.is_dir()).unwrap_or(false)) as usize;
        }
    }
    removed
}

/// Bytes free for unprivileged writers on the file system holding `path` (None when unknown).
pub fn free_bytes(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
        let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
        (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_paths_keep_the_extension_and_name_their_process() {
        let t = temp_path_for(Path::new("/a/run-1.arrow"));
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".run-1.tmp-") && name.ends_with(".arrow"), "{name}");
        assert_eq!(t.extension().unwrap(), "arrow");
        let owners = Path::new("/nonexistent");
        assert!(!is_stale_temp(owners, &name), "our own temp file is live");
        assert!(is_stale_temp(owners, ".run-1.tmp-999999999-0.arrow"));
        assert!(!is_stale_temp(owners, "run-1.arrow"));
    }

    #[test]
    fn sweeping_beside_a_target_removes_only_its_dead_writers_temps() {
        let tmp = tempfile::tempdir().unwrap();
        let (dir, owners) = (tmp.path(), tmp.path().join("owners"));
        let dead = ".gold.tmp-999999999-0";
        let mine = temp_path_for(&dir.join("gold"));
        let other_target = ".silver.tmp-999999999-0";
        let templated = ".day_2024-01-01.tmp-999999999-1.csv";
        for d in [dead, other_target] {
            std::fs::create_dir_all(dir.join(d).join("k=1")).unwrap();
        }
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::write(dir.join(templated), "x").unwrap();
        assert_eq!(sweep_temps_beside(&dir.join("gold"), &owners), 1);
        assert!(!dir.join(dead).exists() && mine.exists() && dir.join(other_target).exists());
        assert_eq!(sweep_temps_beside(&dir.join("day_{{ run_date }}.csv"), &owners), 1);
        assert!(!dir.join(templated).exists());
    }
}
