//! Live workspace: notices when a pipeline's files change on disk (an external editor, a `git
//! pull`, the runner's own edits) and publishes a `pipeline_changed` event, so open views reload
//! within a second.
//!
//! It polls the top-level files of each pipeline folder (`pipeline.toml`, `.sql` files,
//! `layout.json`, `notes.md`; data folders are not walked) every `POLL` instead of using
//! `notify`: notify's mio dependency turns on mio's default features, which would rebuild tokio
//! and, through it, Polars. A poll of a few dozen small folders costs microseconds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::state::AppState;

/// How often the workspace is looked at.
pub const POLL: Duration = Duration::from_millis(400);

/// Name, length and modification time of each top-level file of a pipeline folder.
type Stamp = Vec<(String, u64, Option<SystemTime>)>;

fn stamp(dir: &Path) -> Stamp {
    let mut out: Stamp = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            // Temp files of atomic writes come and go; their rename is what counts.
            if name.starts_with('.') {
                return None;
            }
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            Some((name, meta.len(), meta.modified().ok()))
        })
        .collect();
    out.sort();
    out
}

/// The stamps of every pipeline folder of the workspace.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Stamp> {
    polder_engine::spec::pipeline_dirs(root).into_iter().map(|d| (d.clone(), stamp(&d))).collect()
}

/// Folders that appeared, vanished or whose files changed between two snapshots.
pub fn changed(before: &BTreeMap<PathBuf, Stamp>, after: &BTreeMap<PathBuf, Stamp>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = after.iter().filter(|(d, s)| before.get(*d) != Some(*s)).map(|(d, _)| d.clone()).collect();
    out.extend(before.keys().filter(|d| !after.contains_key(*d)).cloned());
    out
}

/// Polls the workspace until the runner stops, publishing one event per changed pipeline:
/// `{"event": "pipeline_changed", "pipeline", "folder", "error"?, "at_ms"}`. A pipeline whose
/// files no longer load is named by its folder and carries the loader's message.
pub async fn run(state: Arc<AppState>) {
    let root = state.ws.root().to_path_buf();
    let mut last = snapshot(&root);
    loop {
        tokio::time::sleep(POLL).await;
        let r = root.clone();
        let Ok(now) = tokio::task::spawn_blocking(move || snapshot(&r)).await else { continue };
        for dir in changed(&last, &now) {
            let folder = dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let (pipeline, error) = match polder_engine::load(&dir) {
                Ok(p) => (p.name, None),
                Err(e) if dir.exists() => (folder.clone(), Some(e.to_string())),
                Err(_) => (folder.clone(), Some("the pipeline folder was removed".to_string())),
            };
            let at_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
            let ev =
                json!({ "event": "pipeline_changed", "pipeline": pipeline, "folder": folder, "error": error, "at_ms": at_ms });
            // No subscribers is fine: events are for live views only.
            let _ = state.events.send(ev.to_string());
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_additions_and_removals_are_noticed_but_temp_files_are_not() {
        let ws = tempfile::tempdir().unwrap();
        let a = ws.path().join("a");
        std::fs::create_dir_all(a.join("data")).unwrap();
        std::fs::write(a.join("pipeline.toml"), "[pipeline]\nname = \"a\"\n").unwrap();
        let s0 = snapshot(ws.path());
        // Temp files of atomic writes and data folders do not count.
        std::fs::write(a.join(".x.tmp-1-0.sql"), "SELECT 1").unwrap();
        std::fs::write(a.join("data/big.csv"), "x\n1\n").unwrap();
        assert!(changed(&s0, &snapshot(ws.path())).is_empty());
        // A new .sql file does; so do a new pipeline folder and a removed one.
        std::fs::write(a.join("q.sql"), "SELECT 1").unwrap();
        let s1 = snapshot(ws.path());
        assert_eq!(changed(&s0, &s1), std::slice::from_ref(&a));
        let b = ws.path().join("b");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("pipeline.toml"), "[pipeline]\nname = \"b\"\n").unwrap();
        std::fs::remove_dir_all(&a).unwrap();
        let mut got = changed(&s1, &snapshot(ws.path()));
        got.sort();
        assert_eq!(got, [a, b]);
    }
}
