//! Atomic file writes and temp-file naming shared by artifacts, specs and sinks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Marker in temp file names; the pid after it lets recovery tell live writers from dead ones.
pub const TMP_MARK: &str = ".tmp-";

/// A fresh temp path beside `path` (same folder, so the final rename is atomic), keeping its
/// extension last because writers pick the file format from it.
pub fn temp_path_for(path: &Path) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!(".{stem}{TMP_MARK}{}-{n}{ext}", std::process::id()))
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

/// Whether a temp file name belongs to a process that is no longer running (Linux: /proc).
pub fn is_stale_temp(name: &str) -> bool {
    let Some(i) = name.find(TMP_MARK) else { return false };
    let pid = name[i + TMP_MARK.len()..].split(['-', '.']).next().and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) => pid != std::process::id() && !pid_alive(pid),
        None => true,
    }
}

/// Whether a process with this pid exists.
pub fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes stale temp files and folders under `root` (recursively); returns how many.
pub fn sweep_stale_temps(root: &Path) -> usize {
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(root) else { return 0 };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_stale_temp(&name) {
            let ok = if is_dir { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed += ok.is_ok() as usize;
        } else if is_dir {
            removed += sweep_stale_temps(&path);
        }
    }
    removed
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
        assert!(!is_stale_temp(&name), "our own temp file is live");
        assert!(is_stale_temp(".run-1.tmp-999999999-0.arrow"));
        assert!(!is_stale_temp("run-1.arrow"));
    }
}
