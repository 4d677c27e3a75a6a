//! A dataset's declaration, `ingest/<name>.toml` in the workspace: its columns, where its Parquet
//! goes, and when the log is flushed. Errors name the file, line and column.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::SpecError;
use crate::spec::fields::{Fields, Problems};

/// The folder of dataset declarations, under the workspace root.
pub const INGEST_DIR: &str = "ingest";

/// The column a dataset with `unknown_fields = "keep"` stores unknown fields in (a JSON object
/// as text, NULL when a row had none).
pub const EXTRA_COLUMN: &str = "_extra";

/// A column's type, as written in the declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// UTF-8 text (`str`, `string`, `text`).
    Str,
    /// 64-bit integer (`i64`, `int`, `bigint`).
    I64,
    /// 64-bit float (`f64`, `float`, `double`).
    F64,
    /// `bool`.
    Bool,
    /// A calendar date: `"YYYY-MM-DD"` in JSON.
    Date,
    /// An instant in UTC, microseconds: RFC 3339 text or epoch milliseconds in JSON.
    Timestamp,
}

impl ColumnType {
    /// Every spelling the declaration accepts.
    pub const NAMES: &'static [&'static str] =
        &["str", "string", "text", "i64", "int", "bigint", "f64", "float", "double", "bool", "date", "timestamp"];

    /// Parses one spelling.
    pub fn parse(s: &str) -> Option<ColumnType> {
        Some(match s {
            "str" | "string" | "text" => ColumnType::Str,
            "i64" | "int" | "bigint" => ColumnType::I64,
            "f64" | "float" | "double" => ColumnType::F64,
            "bool" => ColumnType::Bool,
            "date" => ColumnType::Date,
            "timestamp" => ColumnType::Timestamp,
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Str => "str",
            ColumnType::I64 => "i64",
            ColumnType::F64 => "f64",
            ColumnType::Bool => "bool",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
        }
    }
}

/// One declared column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Column {
    /// Its name (a JSON field name, a Parquet column name).
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether a row may lack it or hold null.
    pub nullable: bool,
}

/// What to do with fields the declaration does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UnknownFields {
    /// Refuse the batch, naming the row and the field.
    Reject,
    /// Keep them, as a JSON object in the `_extra` text column.
    Keep,
}

/// When the log is flushed into Parquet: whichever limit is reached first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlushPolicy {
    /// Rows waiting in the log.
    pub max_rows: u64,
    /// Bytes waiting in the log.
    pub max_bytes: u64,
    /// Age of the oldest waiting row, in seconds.
    pub max_age_secs: u64,
}

/// A declared dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dataset {
    /// Its name: the file name without `.toml`, and the URL segment.
    pub name: String,
    /// The declaration file (not served: it is a path on the runner's disk).
    #[serde(skip)]
    pub file: PathBuf,
    /// Free text.
    pub description: Option<String>,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The timestamp or date column whose UTC day partitions the rows (None: day of arrival).
    pub event_time: Option<String>,
    /// What happens to fields the declaration does not name.
    pub unknown_fields: UnknownFields,
    /// Where the Parquet goes: a folder (relative to the workspace root) or an `s3://` URL.
    pub path: String,
    /// The workspace connection an `s3://` path is written through (None: the AWS_* environment).
    pub connection: Option<String>,
    /// When the log is flushed.
    pub flush: FlushPolicy,
    /// A closed day's files are merged into one sorted file this long after the day ended (UTC).
    pub compact_after_secs: u64,
    /// Largest request body accepted.
    pub max_body_bytes: u64,
    /// Largest log (rows not yet flushed) before requests get 429.
    pub max_wal_bytes: u64,
}

impl Dataset {
    /// Whether the rows go to object storage.
    pub fn is_s3(&self) -> bool {
        crate::s3::is_s3(&self.path)
    }

    /// The columns stored, with `_extra` when unknown fields are kept.
    pub fn stored_columns(&self) -> Vec<Column> {
        let mut cols = self.columns.clone();
        if self.unknown_fields == UnknownFields::Keep {
            cols.push(Column { name: EXTRA_COLUMN.into(), ty: ColumnType::Str, nullable: true });
        }
        cols
    }

    /// The index of a declared column.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Whether `s` can name a dataset (a file name and a URL segment).
pub fn valid_dataset_name(s: &str) -> bool {
    crate::spec::valid_name(s)
}

/// The declaration files under `root/ingest`, sorted.
pub fn dataset_files(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join(INGEST_DIR)) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    files.sort();
    files
}

/// Every dataset declared under `root`, each with its load result.
pub fn discover(root: &Path) -> Vec<(PathBuf, Result<Dataset, SpecError>)> {
    dataset_files(root).into_iter().map(|f| (f.clone(), load(&f))).collect()
}

/// Loads one declaration file.
pub fn load(file: &Path) -> Result<Dataset, SpecError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| SpecError::single(None, format!("cannot read dataset declaration {}: {e}", file.display())))?;
    parse(file, &text)
}

/// Defaults: flush at 100k rows, 64 MB or one minute; merge a day an hour after it ends.
const DEFAULT_FLUSH: FlushPolicy = FlushPolicy { max_rows: 100_000, max_bytes: 64 << 20, max_age_secs: 60 };
const DEFAULT_COMPACT_AFTER: u64 = 3600;
const DEFAULT_MAX_BODY: u64 = 16 << 20;
const DEFAULT_MAX_WAL: u64 = 1 << 30;

/// Parses the text of a declaration file.
pub fn parse(file: &Path, text: &str) -> Result<Dataset, SpecError> {
    let doc = toml_edit::Document::parse(text.to_string()).map_err(|e| {
        let loc = e.span().map(|s| crate::error::Location::from_offset(file, text, s.start));
        SpecError::single(loc, format!("invalid TOML: {}", e.message().trim()))
    })?;
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut p = Problems::new(file, text);
    if !valid_dataset_name(&name) {
        p.push(None, format!("dataset name `{name}` (the file name) may only use letters, digits, `_` and `-`"));
    }
    let what = format!("dataset '{name}'");
    let mut top = Fields::new(doc.as_table(), Some(0..0), what.clone());
    let description = top.str(&mut p, "description");
    let event_time = top.str(&mut p, "event_time");
    let unknown_fields = match top.choice(&mut p, "unknown_fields", &["reject", "keep"]).as_deref() {
        Some("keep") => UnknownFields::Keep,
        _ => UnknownFields::Reject,
    };

    let mut columns = Vec::new();
    match top.item("columns").and_then(|i| i.as_table_like().map(|t| (t, i.span()))) {
        Some((t, _)) => {
            for (k, v) in t.iter() {
                let Some(decl) = v.as_str() else {
                    p.push(v.span(), format!("column `{k}` of {what} must be a type in quotes, e.g. \"i64 not null\""));
                    continue;
                };
                match parse_column(k, decl) {
                    Ok(c) => columns.push(c),
                    Err(e) => p.push(v.span(), format!("column `{k}` of {what}: {e}")),
                }
            }
            if columns.is_empty() && p.list.is_empty() {
                p.push(None, format!("{what} declares no columns; add a [columns] table, e.g. id = \"i64 not null\""));
            }
        }
        None => p.push(None, format!("{what} needs a [columns] table, e.g. id = \"i64 not null\"")),
    }
    if columns.iter().any(|c| c.name == EXTRA_COLUMN) {
        p.push(top.span_of("columns"), format!("`{EXTRA_COLUMN}` is where kept unknown fields go; name the column otherwise"));
    }
    if let Some(et) = &event_time {
        match columns.iter().find(|c| &c.name == et) {
            Some(c) if matches!(c.ty, ColumnType::Timestamp | ColumnType::Date) => {
                if c.nullable {
                    p.push(
                        top.span_of("event_time"),
                        format!("event_time column `{et}` partitions the rows by day, so it must be `not null`"),
                    );
                }
            }
            Some(c) => p.push(
                top.span_of("event_time"),
                format!("event_time column `{et}` is {}; it must be a timestamp or a date", c.ty.as_str()),
            ),
            None if columns.is_empty() => {}
            None => p.push(top.span_of("event_time"), format!("event_time names `{et}`, which is not a declared column")),
        }
    }

    let (mut path, mut connection) = (None, None);
    match top.item("target").and_then(|i| i.as_table_like()) {
        Some(t) => {
            let mut f = Fields::new(t, None, format!("[target] of {what}"));
            path = f.req_str(&mut p, "path");
            connection = f.str(&mut p, "connection");
            if connection.is_some() && !path.as_deref().is_some_and(crate::s3::is_s3) {
                p.push(f.span_of("connection"), "`connection` goes with an s3:// path; a local folder needs none");
            }
            if let Some(pth) = &path {
                if crate::s3::is_s3(pth) {
                    if let Err(e) = crate::s3::S3Url::parse(pth) {
                        p.push(f.span_of("path"), e.to_string());
                    }
                } else if Path::new(pth).is_absolute() || pth.split('/').any(|s| s == "..") {
                    p.push(f.span_of("path"), "a local target is a folder inside the workspace (relative, without `..`)");
                }
            }
            f.finish(&mut p);
        }
        None => p.push(None, format!("{what} needs a [target] table with `path` (a folder or s3:// URL)")),
    }

    let mut flush = DEFAULT_FLUSH;
    if let Some(t) = top.item("flush").and_then(|i| i.as_table_like()) {
        let mut f = Fields::new(t, None, format!("[flush] of {what}"));
        if let Some(n) = f.uint(&mut p, "max_rows") {
            flush.max_rows = n.max(1);
        }
        if let Some(n) = f.bytes(&mut p, "max_bytes") {
            flush.max_bytes = n.max(1);
        }
        if let Some(d) = f.secs(&mut p, "max_age_secs") {
            flush.max_age_secs = d.as_secs();
        }
        f.finish(&mut p);
    }
    let mut compact_after_secs = DEFAULT_COMPACT_AFTER;
    if let Some(t) = top.item("compact").and_then(|i| i.as_table_like()) {
        let mut f = Fields::new(t, None, format!("[compact] of {what}"));
        if let Some(d) = f.secs(&mut p, "after_secs") {
            compact_after_secs = d.as_secs();
        }
        f.finish(&mut p);
    }
    let (mut max_body_bytes, mut max_wal_bytes) = (DEFAULT_MAX_BODY, DEFAULT_MAX_WAL);
    if let Some(t) = top.item("limits").and_then(|i| i.as_table_like()) {
        let mut f = Fields::new(t, None, format!("[limits] of {what}"));
        if let Some(n) = f.bytes(&mut p, "max_body") {
            max_body_bytes = n;
        }
        if let Some(n) = f.bytes(&mut p, "max_wal") {
            max_wal_bytes = n;
        }
        f.finish(&mut p);
    }
    top.finish(&mut p);
    if !p.list.is_empty() {
        return Err(SpecError { problems: p.list });
    }
    Ok(Dataset {
        name,
        file: file.to_path_buf(),
        description,
        columns,
        event_time,
        unknown_fields,
        path: path.unwrap_or_default(),
        connection,
        flush,
        compact_after_secs,
        max_body_bytes,
        max_wal_bytes,
    })
}

/// `"i64 not null"` → a column.
fn parse_column(name: &str, decl: &str) -> Result<Column, String> {
    let words: Vec<String> = decl.split_whitespace().map(str::to_ascii_lowercase).collect();
    let Some(ty) = words.first() else { return Err("empty type; write e.g. \"i64 not null\"".into()) };
    let ty = ColumnType::parse(ty).ok_or_else(|| format!("unknown type `{ty}`; use one of: {}", ColumnType::NAMES.join(", ")))?;
    let nullable = match words[1..].iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["null"] => true,
        ["not", "null"] => false,
        other => return Err(format!("`{}` after the type is not understood; write `not null` or nothing", other.join(" "))),
    };
    Ok(Column { name: name.to_string(), ty, nullable })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Dataset, SpecError> {
        parse(Path::new("/ws/ingest/events.toml"), text)
    }

    #[test]
    fn a_full_declaration_reads_with_defaults() {
        let d = parse_str(
            "event_time = \"ts\"\nunknown_fields = \"keep\"\n[columns]\nid = \"i64 not null\"\nts = \"timestamp not null\"\nuser = \"str\"\n[target]\npath = \"data/events\"\n[flush]\nmax_rows = 10\n",
        )
        .unwrap();
        assert_eq!(d.name, "events");
        assert_eq!(d.columns.len(), 3);
        assert_eq!(d.columns[0], Column { name: "id".into(), ty: ColumnType::I64, nullable: false });
        assert!(d.columns[2].nullable);
        assert_eq!(d.flush.max_rows, 10);
        assert_eq!(d.flush.max_age_secs, 60);
        assert_eq!(d.stored_columns().last().unwrap().name, EXTRA_COLUMN);
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let e =
            parse_str("event_time = \"user\"\n[columns]\nid = \"int64\"\nuser = \"str\"\n[target]\npath = \"/abs\"\nbogus = 1\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("events.toml:3") && e.contains("unknown type `int64`"), "{e}");
        assert!(e.contains("event_time column `user` is str"), "{e}");
        assert!(e.contains("inside the workspace"), "{e}");
        assert!(e.contains("unknown field `bogus`"), "{e}");
        let e = parse_str("[columns]\nts = \"timestamp\"\n[target]\npath = \"x\"\n").unwrap();
        assert!(e.event_time.is_none());
        let e =
            parse_str("event_time = \"ts\"\n[columns]\nts = \"timestamp\"\n[target]\npath = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("must be `not null`"), "{e}");
        assert!(parse_str("[target]\npath = \"x\"\n").unwrap_err().to_string().contains("needs a [columns] table"));
    }
}
