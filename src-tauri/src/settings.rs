//! What the app remembers between launches (the last workspace), in `settings.json` under the
//! app's config folder, written atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};

/// The app's remembered settings.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// The workspace folder opened last.
    #[serde(default)]
    pub last_workspace: Option<PathBuf>,
}

fn file(app: &AppHandle) -> Option<PathBuf> {
    app.path().app_config_dir().ok().map(|d| d.join("settings.json"))
}

impl Settings {
    /// The stored settings; defaults when there are none or they do not parse (logged).
    pub fn load(app: &AppHandle) -> Settings {
        let Some(path) = file(app) else { return Settings::default() };
        Settings::read(&path)
    }

    /// The settings in `path`.
    pub fn read(path: &Path) -> Settings {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("ignoring {} ({e})", path.display());
                Settings::default()
            }),
            Err(_) => Settings::default(),
        }
    }

    /// Writes the settings to `path` (temp file + rename).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        polder_engine::fsutil::write_atomic(path, text.as_bytes()).map_err(std::io::Error::other)
    }

    /// Remembers `ws` as the workspace to reopen (a failure is logged, not fatal).
    pub fn remember_workspace(&self, app: &AppHandle, ws: &Path) {
        if self.last_workspace.as_deref() == Some(ws) {
            return;
        }
        let Some(path) = file(app) else { return };
        let next = Settings { last_workspace: Some(ws.to_path_buf()) };
        if let Err(e) = next.write(&path) {
            tracing::warn!("cannot remember the workspace in {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_damaged_files_give_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/settings.json");
        assert_eq!(Settings::read(&path).last_workspace, None);
        Settings { last_workspace: Some("/data/ws".into()) }.write(&path).unwrap();
        assert_eq!(Settings::read(&path).last_workspace, Some(PathBuf::from("/data/ws")));
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(Settings::read(&path).last_workspace, None);
    }
}
