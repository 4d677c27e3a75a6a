//! The UI's own files in a pipeline folder, beside `pipeline.toml` and kept out of the spec:
//! canvas positions (`layout.json`) and notebook notes (`notes.md`). Both are plain files that
//! read well in a diff and travel with the pipeline when it is committed or deployed.

use std::collections::BTreeMap;
use std::path::Path;

use polder_engine::fsutil::write_atomic;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// File name of the canvas layout.
pub const LAYOUT_FILE: &str = "layout.json";
/// File name of the notebook notes.
pub const NOTES_FILE: &str = "notes.md";
/// The line that starts a note in `notes.md`.
const MARKER: &str = "<!-- polder:note";

/// A node position on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Position {
    /// Left, in canvas units.
    pub x: f64,
    /// Top, in canvas units.
    pub y: f64,
}

/// Canvas positions by task id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Task id → position (sorted, so the file diffs well).
    #[serde(default)]
    pub positions: BTreeMap<String, Position>,
}

/// A markdown note between notebook cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// Stable id (letters, digits, `_`, `-`).
    pub id: String,
    /// The task the note follows, or none for the top of the notebook.
    #[serde(default)]
    pub after: Option<String>,
    /// Markdown.
    pub text: String,
}

/// All notes of a pipeline, in notebook order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notes {
    /// The notes.
    pub notes: Vec<Note>,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> ApiError {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    ApiError::Internal(format!("cannot {what} {name}: {e}"))
}

/// `name` inside the pipeline folder, refused when a symlink leads it out (it is then never read).
fn confined(dir: &Path, name: &str) -> Result<std::path::PathBuf, ApiError> {
    polder_engine::paths::pipeline_file(dir, name).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// Reads `layout.json` (an empty layout when there is none).
pub fn read_layout(dir: &Path) -> Result<Layout, ApiError> {
    let path = confined(dir, LAYOUT_FILE)?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            ApiError::BadRequest(format!(
                "{LAYOUT_FILE}: not a layout file (line {}, column {}); fix or delete it",
                e.line(),
                e.column()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Layout::default()),
        Err(e) => Err(io_err("read", &path, e)),
    }
}

/// Writes `layout.json` atomically.
pub fn write_layout(dir: &Path, layout: &Layout) -> Result<(), ApiError> {
    if let Some((task, _)) = layout.positions.iter().find(|(_, p)| !p.x.is_finite() || !p.y.is_finite()) {
        return Err(ApiError::BadRequest(format!("position of '{task}' is not a finite number")));
    }
    let mut text = serde_json::to_string_pretty(layout).unwrap_or_default();
    text.push('\n');
    let path = confined(dir, LAYOUT_FILE)?;
    write_atomic(&path, text.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Parses `notes.md`: each note starts at a `<!-- polder:note id=… after=… -->` line; text
/// before the first marker is a note at the top.
pub fn parse_notes(text: &str) -> Notes {
    let mut notes = Vec::new();
    let mut current: Option<Note> = None;
    let mut body: Vec<&str> = Vec::new();
    let finish = |note: Option<Note>, body: &mut Vec<&str>, notes: &mut Vec<Note>| {
        let text = body.join("\n").trim_matches('\n').to_string();
        body.clear();
        match note {
            Some(mut n) => {
                n.text = text;
                notes.push(n);
            }
            None if !text.trim().is_empty() => notes.push(Note { id: "preamble".into(), after: None, text }),
            None => {}
        }
    };
    for line in text.lines() {
        if let Some(attrs) = line.trim().strip_prefix(MARKER).and_then(|r| r.strip_suffix("-->")) {
            finish(current.take(), &mut body, &mut notes);
            let mut note = Note { id: String::new(), after: None, text: String::new() };
            for attr in attrs.split_whitespace() {
                match attr.split_once('=') {
                    Some(("id", v)) => note.id = v.to_string(),
                    Some(("after", v)) if !v.is_empty() => note.after = Some(v.to_string()),
                    _ => {}
                }
            }
            if note.id.is_empty() {
                note.id = format!("note{}", notes.len() + 1);
            }
            current = Some(note);
        } else {
            body.push(line);
        }
    }
    finish(current, &mut body, &mut notes);
    Notes { notes }
}

/// Formats notes as `notes.md`.
pub fn format_notes(notes: &Notes) -> String {
    let mut out = String::new();
    for (i, n) in notes.notes.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match &n.after {
            Some(after) => out.push_str(&format!("{MARKER} id={} after={after} -->\n", n.id)),
            None => out.push_str(&format!("{MARKER} id={} -->\n", n.id)),
        }
        let text = n.text.trim_matches('\n');
        if !text.is_empty() {
            out.push_str(text);
            out.push('\n');
        }
    }
    out
}

fn check_notes(notes: &Notes) -> Result<(), ApiError> {
    let ok_id = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let mut seen = std::collections::BTreeSet::new();
    for n in &notes.notes {
        if !ok_id(&n.id) {
            return Err(ApiError::BadRequest(format!("note id `{}`: use letters, digits, `_` and `-` only", n.id)));
        }
        if !seen.insert(n.id.as_str()) {
            return Err(ApiError::BadRequest(format!("two notes have the id `{}`; ids must be unique", n.id)));
        }
        if n.after.as_deref().is_some_and(|a| a.contains(char::is_whitespace)) {
            return Err(ApiError::BadRequest(format!("note `{}`: `after` must be a task id", n.id)));
        }
        if n.text.lines().any(|l| l.trim().starts_with(MARKER)) {
            return Err(ApiError::BadRequest(format!(
                "note `{}` contains a `{MARKER}` line, which starts a new note in notes.md; reword that line",
                n.id
            )));
        }
    }
    Ok(())
}

/// Reads `notes.md` (no notes when there is none).
pub fn read_notes(dir: &Path) -> Result<Notes, ApiError> {
    let path = confined(dir, NOTES_FILE)?;
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(parse_notes(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Notes::default()),
        Err(e) => Err(io_err("read", &path, e)),
    }
}

/// Writes `notes.md` atomically (removes it when there are no notes).
pub fn write_notes(dir: &Path, notes: &Notes) -> Result<(), ApiError> {
    check_notes(notes)?;
    let path = confined(dir, NOTES_FILE)?;
    if notes.notes.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err("remove", &path, e)),
            _ => Ok(()),
        };
    }
    write_atomic(&path, format_notes(notes).as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Keeps the UI files in step with a task rename.
pub fn rename_task(dir: &Path, old: &str, new: &str) -> Result<(), ApiError> {
    let mut layout = read_layout(dir)?;
    if let Some(p) = layout.positions.remove(old) {
        layout.positions.insert(new.to_string(), p);
        write_layout(dir, &layout)?;
    }
    let mut notes = read_notes(dir)?;
    let mut changed = false;
    for n in notes.notes.iter_mut().filter(|n| n.after.as_deref() == Some(old)) {
        n.after = Some(new.to_string());
        changed = true;
    }
    if changed {
        write_notes(dir, &notes)?;
    }
    Ok(())
}

/// Keeps the UI files in step with a task removal: its position goes, notes that followed it
/// follow `instead` (the task before it in the notebook, or the top).
pub fn remove_task(dir: &Path, task: &str, instead: Option<&str>) -> Result<(), ApiError> {
    let mut layout = read_layout(dir)?;
    if layout.positions.remove(task).is_some() {
        write_layout(dir, &layout)?;
    }
    let mut notes = read_notes(dir)?;
    let mut changed = false;
    for n in notes.notes.iter_mut().filter(|n| n.after.as_deref() == Some(task)) {
        n.after = instead.map(str::to_string);
        changed = true;
    }
    if changed {
        write_notes(dir, &notes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_through_the_file_format() {
        let notes = Notes {
            notes: vec![
                Note { id: "intro".into(), after: None, text: "# Medallion\n\nRaw logs in, segments out.".into() },
                Note { id: "why-silver".into(), after: Some("silver".into()), text: "Unknown apps are dropped.".into() },
            ],
        };
        let text = format_notes(&notes);
        assert_eq!(
            text,
            "<!-- polder:note id=intro -->\n# Medallion\n\nRaw logs in, segments out.\n\n\
             <!-- polder:note id=why-silver after=silver -->\nUnknown apps are dropped.\n"
        );
        assert_eq!(parse_notes(&text), notes);
    }

    #[test]
    fn hand_written_text_before_any_marker_is_a_top_note() {
        let parsed = parse_notes("Read me first.\n\n<!-- polder:note id=a after=gold -->\nafter gold\n");
        assert_eq!(parsed.notes.len(), 2);
        assert_eq!(parsed.notes[0], Note { id: "preamble".into(), after: None, text: "Read me first.".into() });
        assert_eq!(parsed.notes[1].after.as_deref(), Some("gold"));
    }

    #[test]
    fn bad_notes_are_refused_and_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dup = Notes {
            notes: vec![
                Note { id: "a".into(), after: None, text: "x".into() },
                Note { id: "a".into(), after: None, text: "y".into() },
            ],
        };
        let err = write_notes(dir.path(), &dup).unwrap_err().to_string();
        assert!(err.contains("two notes have the id `a`"), "{err}");
        let marker = Notes { notes: vec![Note { id: "b".into(), after: None, text: "<!-- polder:note id=c -->".into() }] };
        assert!(write_notes(dir.path(), &marker).is_err());
        assert!(!dir.path().join(NOTES_FILE).exists());
    }

    #[test]
    fn rename_and_remove_keep_layout_and_notes_in_step() {
        let dir = tempfile::tempdir().unwrap();
        let mut layout = Layout::default();
        layout.positions.insert("silver".into(), Position { x: 10.0, y: 20.5 });
        write_layout(dir.path(), &layout).unwrap();
        let notes = Notes { notes: vec![Note { id: "n".into(), after: Some("silver".into()), text: "t".into() }] };
        write_notes(dir.path(), &notes).unwrap();

        rename_task(dir.path(), "silver", "silver2").unwrap();
        assert_eq!(read_layout(dir.path()).unwrap().positions["silver2"], Position { x: 10.0, y: 20.5 });
        assert_eq!(read_notes(dir.path()).unwrap().notes[0].after.as_deref(), Some("silver2"));

        remove_task(dir.path(), "silver2", Some("bronze")).unwrap();
        assert!(read_layout(dir.path()).unwrap().positions.is_empty());
        assert_eq!(read_notes(dir.path()).unwrap().notes[0].after.as_deref(), Some("bronze"));
    }
}
