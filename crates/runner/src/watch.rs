//! Live workspace: notices when a pipeline's files change on disk (an external editor, a `git
//! pull`, the runner's own edits) and publishes a `pipeline_changed` event, so open views reload
//! within a second.
//!
//! `notify` (inotify on Linux) wakes it when something changes in the workspace root, its first
//! level of folders or a pipeline folder (watched one level deep each: data folders and `.polder/`
//! stay unwatched, so runs writing artifacts cost nothing). What changed is then decided by
//! comparing the top-level files of each pipeline folder (`pipeline.toml`, `.sql` and `.py` files,
//! `layout.json`, `notes.md`) with the last look, so bursts of events and temp files of atomic
//! writes make one clean event. A slow rescan covers dropped events (inotify queue overflow);
//! where no watcher can be set up (inotify limits) it polls every `POLL` instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::state::AppState;

/// How often the workspace is looked at when no file watcher can be used.
pub const POLL: Duration = Duration::from_millis(400);
/// Rescan interval with a watcher, for events the OS dropped.
const RESCAN: Duration = Duration::from_secs(10);
/// Events closer together than this make one look (an editor's save is several events).
const SETTLE: Duration = Duration::from_millis(30);

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

/// The folders to watch (each one level deep): the root, its visible first-level folders (where
/// new pipelines appear) and every pipeline folder.
pub fn watch_set(root: &Path, pipelines: &BTreeMap<PathBuf, Stamp>) -> BTreeSet<PathBuf> {
    let mut out: BTreeSet<PathBuf> = pipelines.keys().cloned().collect();
    out.insert(root.to_path_buf());
    for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let visible = !e.file_name().to_string_lossy().starts_with('.');
        if visible && e.file_type().is_ok_and(|t| t.is_dir()) {
            out.insert(e.path());
        }
    }
    out
}

/// A notify watcher kept in step with the workspace's folders.
struct Watcher {
    inner: notify::RecommendedWatcher,
    watched: BTreeSet<PathBuf>,
}

impl Watcher {
    fn new(wake: tokio::sync::mpsc::UnboundedSender<()>) -> notify::Result<Watcher> {
        let inner = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            // Errors (queue overflow) also wake the loop: the look that follows is the truth.
            if res.is_ok_and(|e| e.kind.is_access()) {
                return;
            }
            let _ = wake.send(());
        })?;
        Ok(Watcher { inner, watched: BTreeSet::new() })
    }

    /// Watches `want` and stops watching what left it.
    fn update(&mut self, want: BTreeSet<PathBuf>) -> notify::Result<()> {
        use notify::Watcher as _;
        for gone in self.watched.difference(&want) {
            // A removed folder's watch is gone already.
            let _ = self.inner.unwatch(gone);
        }
        for new in want.difference(&self.watched) {
            self.inner.watch(new, notify::RecursiveMode::NonRecursive)?;
        }
        self.watched = want;
        Ok(())
    }
}

/// Watches the workspace until the runner stops, publishing one event per changed pipeline:
/// `{"event": "pipeline_changed", "pipeline", "folder", "error"?, "at_ms"}`. A pipeline whose
/// files no longer load is named by its folder and carries the loader's message.
pub async fn run(state: Arc<AppState>) {
    let root = state.ws.root().to_path_buf();
    let (wake, mut woken) = tokio::sync::mpsc::unbounded_channel();
    let mut last = snapshot(&root);
    let mut watcher = match Watcher::new(wake).and_then(|mut w| w.update(watch_set(&root, &last)).map(|()| w)) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("cannot watch the workspace ({e}); looking for changes every {} ms instead", POLL.as_millis());
            None
        }
    };
    loop {
        if watcher.is_some() {
            let _ = tokio::time::timeout(RESCAN, woken.recv()).await;
            tokio::time::sleep(SETTLE).await;
            while woken.try_recv().is_ok() {}
        } else {
            tokio::time::sleep(POLL).await;
        }
        let r = root.clone();
        let Ok(now) = tokio::task::spawn_blocking(move || snapshot(&r)).await else { continue };
        for dir in changed(&last, &now) {
            publish(&state, &dir);
        }
        if let Some(w) = watcher.as_mut() {
            if let Err(e) = w.update(watch_set(&root, &now)) {
                tracing::warn!(
                    "cannot watch the workspace any more ({e}); looking for changes every {} ms instead",
                    POLL.as_millis()
                );
                watcher = None;
            }
        }
        last = now;
    }
}

/// Publishes the `pipeline_changed` event of folder `dir`.
fn publish(state: &AppState, dir: &Path) {
    let folder = dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let (pipeline, error) = match polder_engine::load(dir) {
        Ok(p) => (p.name, None),
        Err(e) if dir.exists() => (folder.clone(), Some(e.to_string())),
        Err(_) => (folder.clone(), Some("the pipeline folder was removed".to_string())),
    };
    let at_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let ev = json!({ "event": "pipeline_changed", "pipeline": pipeline, "folder": folder, "error": error, "at_ms": at_ms });
    // No subscribers is fine: events are for live views only.
    let _ = state.events.send(ev.to_string());
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
        assert_eq!(got, [a.clone(), b.clone()]);
    }

    #[test]
    fn the_watch_set_is_the_root_its_folders_and_pipeline_folders_but_no_hidden_ones() {
        let ws = tempfile::tempdir().unwrap();
        let nested = ws.path().join("team/daily");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(nested.join("pipeline.toml"), "[pipeline]\nname = \"daily\"\n").unwrap();
        std::fs::create_dir_all(ws.path().join(".polder/artifacts")).unwrap();
        std::fs::create_dir_all(nested.join("data")).unwrap();
        let got: Vec<PathBuf> = watch_set(ws.path(), &snapshot(ws.path())).into_iter().collect();
        assert_eq!(got, [ws.path().to_path_buf(), ws.path().join("team"), nested]);
    }
}
