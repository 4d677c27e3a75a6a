//! Edits `pipeline.toml` in place with toml_edit, keeping comments, blank lines and order.
//!
//! The visual editor and the CLI write specs through this type, so a hand-written file and an
//! edited one differ only where something was changed.

use std::path::{Path, PathBuf};

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

use crate::error::{Error, Result, SpecError};
use crate::fsutil::write_atomic;
use crate::spec::{load, parse, Pipeline, SPEC_FILE};

/// An editable `pipeline.toml`.
#[derive(Debug, Clone)]
pub struct SpecDocument {
    dir: PathBuf,
    doc: DocumentMut,
}

impl SpecDocument {
    /// Opens the spec of the pipeline in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let file = dir.join(SPEC_FILE);
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io("cannot read", &file, e))?;
        Self::from_text(dir, &text)
    }

    /// Parses spec text for the pipeline in `dir`.
    pub fn from_text(dir: &Path, text: &str) -> Result<Self> {
        // Full validation first, so editing starts from a file with located errors reported.
        parse(dir, text)?;
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| SpecError::single(None, e.to_string()))?;
        Ok(SpecDocument { dir: dir.to_path_buf(), doc })
    }

    /// The document as TOML text.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    fn tasks_mut(&mut self) -> Result<&mut ArrayOfTables> {
        self.doc
            .entry("task")
            .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
            .as_array_of_tables_mut()
            .ok_or_else(|| Error::Invalid("`task` in pipeline.toml is not an array of [[task]] tables".into()))
    }

    fn task_mut(&mut self, id: &str) -> Result<&mut Table> {
        self.tasks_mut()?
            .iter_mut()
            .find(|t| t.get("id").and_then(|v| v.as_str()) == Some(id))
            .ok_or_else(|| Error::NotFound(format!("no task '{id}' in pipeline.toml")))
    }

    /// Sets `key` of task `id`, keeping the comment and spacing around an existing value.
    pub fn set_task_value(&mut self, id: &str, key: &str, value: impl Into<Value>) -> Result<()> {
        let table = self.task_mut(id)?;
        let mut value = value.into();
        if let Some(old) = table.get(key).and_then(Item::as_value) {
            *value.decor_mut() = old.decor().clone();
        }
        table.insert(key, Item::Value(value));
        Ok(())
    }

    /// Removes `key` from task `id`.
    pub fn remove_task_value(&mut self, id: &str, key: &str) -> Result<()> {
        self.task_mut(id)?.remove(key);
        Ok(())
    }

    /// Appends a task with these fields (`id` and `kind` first).
    pub fn add_task(&mut self, id: &str, kind: &str, fields: Vec<(&str, Value)>) -> Result<()> {
        let mut t = Table::new();
        t.insert("id", Item::Value(id.into()));
        t.insert("kind", Item::Value(kind.into()));
        for (k, v) in fields {
            t.insert(k, Item::Value(v));
        }
        self.tasks_mut()?.push(t);
        Ok(())
    }

    /// Appends a task whose SQL or Python code lives in its own `file` (relative to the pipeline
    /// folder): validated as if inline, then the file is written and the spec saved. An existing
    /// file with other content is never overwritten. `kind` is `sql` or `python`.
    pub fn add_task_in_file(
        &mut self,
        id: &str,
        kind: &str,
        file: &str,
        text: &str,
        fields: Vec<(&str, Value)>,
    ) -> Result<Pipeline> {
        let (inline_key, what, ext) = inline_key(kind)?;
        let rel = Path::new(file);
        // 255 bytes: the longest file name Linux and macOS file systems take.
        let plain = |c: std::path::Component| matches!(c, std::path::Component::Normal(n) if n.len() <= 255);
        if file.is_empty() || rel.is_absolute() || !rel.components().all(plain) {
            return Err(Error::Invalid(format!(
                "task '{id}': file `{file}` must be a relative path inside the pipeline folder, like `{id}.{ext}`"
            )));
        }
        let path = crate::paths::pipeline_file(&self.dir, file).map_err(|e| Error::Invalid(format!("task '{id}': file {e}")))?;
        if let Ok(existing) = std::fs::read_to_string(&path) {
            if existing != text {
                return Err(Error::Invalid(format!(
                    "task '{id}': `{file}` already exists with other {what}; pick another file name or task id"
                )));
            }
        }
        let mut probe = self.clone();
        let mut inline = fields.clone();
        inline.push((inline_key, text.into()));
        probe.add_task(id, kind, inline)?;
        parse(&self.dir, &probe.text())?;
        let mut with_file = fields;
        with_file.push(("file", file.into()));
        self.add_task(id, kind, with_file)?;
        write_atomic(&path, text.as_bytes())?;
        self.save()
    }

    /// Removes task `id`.
    pub fn remove_task(&mut self, id: &str) -> Result<()> {
        let tasks = self.tasks_mut()?;
        let pos = tasks
            .iter()
            .position(|t| t.get("id").and_then(|v| v.as_str()) == Some(id))
            .ok_or_else(|| Error::NotFound(format!("no task '{id}' in pipeline.toml")))?;
        tasks.remove(pos);
        Ok(())
    }

    /// Renames task `old` to `new`, updating `input` and `inputs` references of other tasks.
    /// SQL text is not rewritten: a query that reads `old` must be edited by its author.
    pub fn rename_task(&mut self, old: &str, new: &str) -> Result<()> {
        self.set_task_value(old, "id", new)?;
        for t in self.tasks_mut()?.iter_mut() {
            if t.get("input").and_then(|v| v.as_str()) == Some(old) {
                let decor = t["input"].as_value().map(|v| v.decor().clone());
                let mut v: Value = new.into();
                if let Some(d) = decor {
                    *v.decor_mut() = d;
                }
                t.insert("input", Item::Value(v));
            }
            if let Some(arr) = t.get_mut("inputs").and_then(|i| i.as_array_mut()) {
                for v in arr.iter_mut() {
                    if v.as_str() == Some(old) {
                        let decor = v.decor().clone();
                        *v = new.into();
                        *v.decor_mut() = decor;
                    }
                }
            }
        }
        Ok(())
    }

    /// Validates the edited document and, only if it is valid, writes it atomically.
    pub fn save(&self) -> Result<Pipeline> {
        let text = self.text();
        let pipeline = parse(&self.dir, &text)?;
        write_atomic(&self.dir.join(SPEC_FILE), text.as_bytes())?;
        Ok(pipeline)
    }

    /// Reloads the pipeline from disk.
    pub fn reload(&self) -> Result<Pipeline> {
        Ok(load(&self.dir)?)
    }
}

impl SpecDocument {
    /// Sets `key` of task `id` from JSON (what editors send): strings, numbers, booleans, arrays
    /// and objects (as inline tables); `null` removes the key.
    pub fn set_task_json(&mut self, id: &str, key: &str, value: &serde_json::Value) -> Result<()> {
        if key == "id" {
            return Err(Error::Invalid("rename a task with rename_task, not by setting `id`".into()));
        }
        match value {
            serde_json::Value::Null => self.remove_task_value(id, key),
            v => self.set_task_value(id, key, json_to_toml(v)?),
        }
    }

    /// Writes task `id`'s SQL (a `sql` task) or Python code (a `python` task): into its `file`
    /// after validating the pipeline as if it were inline, or inline into `pipeline.toml`.
    pub fn write_task_text(&mut self, id: &str, text: &str) -> Result<Pipeline> {
        let table = self.task_mut(id)?;
        let kind = table.get("kind").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let (inline_key, what, _) = inline_key(&kind)?;
        let file = table.get("file").and_then(|v| v.as_str()).map(str::to_string);
        match file {
            Some(file) => {
                // Validate as if the text were inline, then write the file itself.
                let mut probe = self.clone();
                probe.remove_task_value(id, "file")?;
                probe.set_task_value(id, inline_key, text)?;
                parse(&self.dir, &probe.text())?;
                // Never write through a `file` that leads out of the pipeline folder.
                let path = crate::paths::pipeline_file(&self.dir, &file)
                    .map_err(|e| Error::Invalid(format!("task '{id}': {what} file {e}")))?;
                write_atomic(&path, text.as_bytes())?;
                Ok(load(&self.dir)?)
            }
            None => {
                self.set_task_value(id, inline_key, text)?;
                self.save()
            }
        }
    }
}

/// The key holding a kind's text inline, what the text is called, and its files' extension.
fn inline_key(kind: &str) -> Result<(&'static str, &'static str, &'static str)> {
    match kind {
        "sql" => Ok(("sql", "SQL", "sql")),
        "python" => Ok(("code", "Python code", "py")),
        other => Err(Error::Invalid(format!("a {other} task has no SQL or Python code to write"))),
    }
}

/// Each task's table as written in `pipeline.toml` (keys and values as the user wrote them,
/// defaults not filled in), as JSON by task id: what an editor needs to recreate a task exactly.
pub fn task_tables(dir: &Path) -> Result<std::collections::BTreeMap<String, serde_json::Value>> {
    let path = dir.join(SPEC_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("cannot read", &path, e))?;
    let doc: serde_json::Value =
        toml_edit::de::from_str(&text).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    let mut out = std::collections::BTreeMap::new();
    for t in doc.get("task").and_then(|t| t.as_array()).into_iter().flatten() {
        if let Some(id) = t.get("id").and_then(|i| i.as_str()) {
            out.insert(id.to_string(), t.clone());
        }
    }
    Ok(out)
}

/// A JSON value as a TOML value (objects become inline tables; null is not representable).
pub fn json_to_toml(v: &serde_json::Value) -> Result<Value> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => return Err(Error::Invalid("null has no TOML form; remove the key instead".into())),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) => Value::from(f),
            _ => return Err(Error::Invalid(format!("number {n} does not fit TOML"))),
        },
        J::String(s) => Value::from(s.as_str()),
        J::Array(items) => {
            let mut arr = toml_edit::Array::new();
            for item in items {
                arr.push(json_to_toml(item)?);
            }
            Value::Array(arr)
        }
        J::Object(map) => {
            let mut t = toml_edit::InlineTable::new();
            for (k, item) in map {
                t.insert(k, json_to_toml(item)?);
            }
            Value::InlineTable(t)
        }
    })
}

/// A new pipeline folder `parent/name` with a minimal `pipeline.toml`; refuses an existing folder.
pub fn create_pipeline(parent: &Path, name: &str, description: Option<&str>) -> Result<Pipeline> {
    if !super::valid_name(name) {
        return Err(Error::Invalid(format!(
            "pipeline name `{name}` may only use letters, digits, `_` and `-` (at most {} characters)",
            super::MAX_NAME_LEN
        )));
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(Error::Invalid(format!("{} already exists", dir.display())));
    }
    let mut text = format!("[pipeline]\nname = \"{name}\"\n");
    if let Some(d) = description {
        text.push_str(&format!("description = {}\n", Value::from(d)));
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    write_atomic(&dir.join(SPEC_FILE), text.as_bytes())?;
    Ok(load(&dir)?)
}
