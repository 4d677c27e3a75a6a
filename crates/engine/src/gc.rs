//! Garbage collection of artifacts: every run writes new files, so old ones must go.

use std::path::Path;

use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// What a collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
    /// Artifact files removed.
    pub files: usize,
    /// Bytes freed.
    pub bytes: u64,
}

/// Removes artifacts no longer needed: everything but the newest `keep_runs` runs of each
/// pipeline, runs in progress, and each task's newest usable output (so caching and previews
/// keep working). Run records stay; their removed artifacts are forgotten.
pub fn collect_garbage(ws: &Workspace, keep_runs: usize) -> Result<GcReport> {
    let keep = ws.store.artifacts_in_use(keep_runs)?;
    let root = ws.state_dir().join("artifacts");
    let mut removed = Vec::new();
    let mut report = GcReport::default();
    walk(&root, &mut |path| {
        let Ok(rel) = path.strip_prefix(ws.state_dir()) else { return Ok(()) };
        let rel = rel.to_string_lossy().replace('\\', "/");
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Temp files belong to live writers (stale ones are swept when the workspace opens).
        if keep.contains(&rel) || name.contains(crate::fsutil::TMP_MARK) {
            return Ok(());
        }
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        std::fs::remove_file(path).map_err(|e| Error::io("cannot remove", path, e))?;
        report.files += 1;
        report.bytes += bytes;
        removed.push(rel);
        Ok(())
    })?;
    ws.store.forget_artifacts(&removed)?;
    Ok(report)
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path) -> Result<()>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f)?;
        } else {
            f(&p)?;
        }
    }
    Ok(())
}
