//! Which workspace folder the app opens and where the web UI's files are.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager};

use crate::settings::Settings;

/// The workspace to open: the one asked for, else the last one (if it still exists), else
/// `pipelines/` in the current folder when there is one, else `~/Polder/pipelines` (created).
pub fn choose(asked: Option<PathBuf>, settings: &Settings) -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let cwd = std::env::current_dir().ok();
    let ws = pick(asked, settings.last_workspace.clone(), cwd.as_deref(), home.as_deref())?;
    std::fs::create_dir_all(&ws).map_err(|e| anyhow::anyhow!("cannot create the workspace folder {}: {e}", ws.display()))?;
    ws.canonicalize().map_err(|e| anyhow::anyhow!("cannot open the workspace folder {}: {e}", ws.display()))
}

/// The choice itself, without touching the disk beyond existence checks.
fn pick(asked: Option<PathBuf>, last: Option<PathBuf>, cwd: Option<&Path>, home: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(ws) = asked {
        if ws.exists() && !ws.is_dir() {
            anyhow::bail!("the workspace {} is a file; give a folder of pipelines", ws.display());
        }
        return Ok(ws);
    }
    if let Some(last) = last.filter(|p| p.is_dir()) {
        return Ok(last);
    }
    if let Some(here) = cwd.map(|c| c.join("pipelines")).filter(|p| p.is_dir()) {
        return Ok(here);
    }
    match home {
        Some(h) => Ok(h.join("Polder").join("pipelines")),
        None => anyhow::bail!("no workspace given and no home folder; start with --workspace DIR"),
    }
}

/// The built web UI: the one asked for, else the one bundled with the app (a package's
/// resources), else the source tree's `ui/dist` (development builds). `None` when none has an
/// `index.html` (run `npm run build`).
pub fn ui_dir(app: &AppHandle, asked: Option<PathBuf>) -> Option<PathBuf> {
    let bundled = app.path().resource_dir().ok().map(|d| d.join("ui"));
    let source = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist"));
    [asked, bundled, source].into_iter().flatten().find(|d| d.join("index.html").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_asked_folder_wins_then_the_last_then_pipelines_then_home() {
        let tmp = tempfile::tempdir().unwrap();
        let last = tmp.path().join("last");
        let cwd = tmp.path().join("repo");
        std::fs::create_dir_all(&last).unwrap();
        std::fs::create_dir_all(cwd.join("pipelines")).unwrap();
        let home = tmp.path().join("home");
        let asked = tmp.path().join("asked");
        assert_eq!(pick(Some(asked.clone()), Some(last.clone()), Some(&cwd), Some(&home)).unwrap(), asked);
        assert_eq!(pick(None, Some(last.clone()), Some(&cwd), Some(&home)).unwrap(), last);
        // A remembered folder that is gone does not count.
        let gone = tmp.path().join("gone");
        assert_eq!(pick(None, Some(gone), Some(&cwd), Some(&home)).unwrap(), cwd.join("pipelines"));
        assert_eq!(pick(None, None, Some(&home), Some(&home)).unwrap(), home.join("Polder/pipelines"));
        std::fs::write(tmp.path().join("file"), "x").unwrap();
        let err = pick(Some(tmp.path().join("file")), None, None, None).unwrap_err().to_string();
        assert!(err.contains("is a file"), "{err}");
    }
}
