//! A request body checked against a dataset's columns and turned into the log's form: one JSON
//! object per row with exactly the declared columns, dates as days and timestamps as UTC
//! microseconds, grouped by the day partition. A batch is all or nothing: the first bad row fails
//! it, naming the row and the column.

use std::collections::BTreeMap;
use std::io::Write;

use polars::prelude::*;
use serde_json::{Map, Value};

use super::dataset::{Column, ColumnType, Dataset, UnknownFields, EXTRA_COLUMN};

/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;

/// How a body is encoded, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// One JSON object, or an array of them (`application/json`).
    Json,
    /// One JSON object per line (`application/x-ndjson`, `application/jsonl`).
    Ndjson,
    /// An Arrow IPC stream (`application/vnd.apache.arrow.stream`).
    ArrowStream,
}

impl BodyFormat {
    /// The format a Content-Type names (no header: JSON).
    pub fn from_content_type(ct: Option<&str>) -> Result<BodyFormat, String> {
        let Some(ct) = ct else { return Ok(BodyFormat::Json) };
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/json" | "text/json" | "" => Ok(BodyFormat::Json),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/x-jsonlines"
            | "application/jsonlines" => Ok(BodyFormat::Ndjson),
            "application/vnd.apache.arrow.stream" => Ok(BodyFormat::ArrowStream),
            other => Err(format!(
                "Content-Type `{other}` is not taken; send application/json (an object or an array), application/x-ndjson or application/vnd.apache.arrow.stream"
            )),
        }
    }
}

/// Why a batch was refused; nothing of it was kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// A value does not fit its column.
    #[error("row {row}, column `{column}`: {reason}")]
    Field {
        /// Index of the row in the batch (0-based).
        row: usize,
        /// The column.
        column: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// The row as a whole is wrong (not an object, not JSON).
    #[error("row {row}: {reason}")]
    Row {
        /// Index of the row in the batch (0-based).
        row: usize,
        /// What is wrong.
        reason: String,
    },
    /// The body as a whole is wrong.
    #[error("{0}")]
    Body(String),
}

impl RowError {
    /// The row index, if one row is at fault.
    pub fn row(&self) -> Option<usize> {
        match self {
            RowError::Field { row, .. } | RowError::Row { row, .. } => Some(*row),
            RowError::Body(_) => None,
        }
    }

    /// The column, if one column is at fault.
    pub fn column(&self) -> Option<&str> {
        match self {
            RowError::Field { column, .. } => Some(column),
            _ => None,
        }
    }
}

/// The rows of one day partition, in the log's form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayRows {
    /// How many rows.
    pub rows: u64,
    /// One JSON object per row, each ending in `\n`.
    pub lines: Vec<u8>,
}

/// A checked batch, by day (days since 1970-01-01, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Rows in the batch.
    pub rows: u64,
    /// The rows, by day.
    pub days: BTreeMap<i32, DayRows>,
}

impl Batch {
    /// Adds one checked row to its day.
    fn push(&mut self, ds: &Dataset, cells: &[Cell], extra: Option<&Map<String, Value>>, event: Option<usize>, arrival_day: i32) {
        let day = day_of(cells, event, event.map(|i| ds.columns[i].ty), arrival_day);
        let d = self.days.entry(day).or_default();
        write_row(&ds.columns, cells, extra, &mut d.lines);
        d.rows += 1;
        self.rows += 1;
    }
}

/// Checks `body` against `ds` and turns it into a batch; `arrival_ms` is the day of rows when
/// the dataset has no event time.
pub fn decode(ds: &Dataset, format: BodyFormat, body: &[u8], arrival_ms: i64) -> Result<Batch, RowError> {
    let mut out = Batch::default();
    let arrival_day = arrival_ms.div_euclid(86_400_000) as i32;
    let event = ds.event_time.as_deref().and_then(|e| ds.column_index(e));
    match format {
        BodyFormat::Json => {
            let text = trim_bom(body);
            if text.iter().all(u8::is_ascii_whitespace) {
                return Err(RowError::Body("the body is empty; send a JSON object or an array of objects".into()));
            }
            let v: Value = serde_json::from_slice(text).map_err(|e| RowError::Body(format!("the body is not JSON: {e}")))?;
            match v {
                Value::Array(items) => {
                    for (i, item) in items.into_iter().enumerate() {
                        push_json(ds, event, arrival_day, i, item, &mut out)?;
                    }
                }
                other => push_json(ds, event, arrival_day, 0, other, &mut out)?,
            }
        }
        BodyFormat::Ndjson => {
            let mut row = 0;
            for line in trim_bom(body).split(|&b| b == b'\n') {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let v: Value = serde_json::from_slice(line).map_err(|e| RowError::Row {
                    row,
                    reason: format!("not a JSON object ({e}); NDJSON needs one object per line"),
                })?;
                push_json(ds, event, arrival_day, row, v, &mut out)?;
                row += 1;
            }
        }
        BodyFormat::ArrowStream => decode_arrow(ds, event, arrival_day, body, &mut out)?,
    }
    if out.rows == 0 {
        return Err(RowError::Body("the body holds no rows".into()));
    }
    Ok(out)
}

fn trim_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(b)
}

/// A value in the log's form.
enum Cell {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

fn write_row(cols: &[Column], cells: &[Cell], extra: Option<&Map<String, Value>>, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (c, v)) in cols.iter().zip(cells).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, &c.name).expect("writing to a Vec");
        out.push(b':');
        match v {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Str(s) => serde_json::to_writer(&mut *out, s).expect("writing to a Vec"),
            Cell::Int(n) => write!(out, "{n}").expect("writing to a Vec"),
            Cell::Float(f) => serde_json::to_writer(&mut *out, &Value::from(*f)).expect("writing to a Vec"),
            Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        }
    }
    if let Some(extra) = extra {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(EXTRA_COLUMN.as_bytes());
        out.extend_from_slice(b"\":");
        if extra.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            // Sorted by key: the same text whatever order the sender used.
            let sorted: BTreeMap<&String, &Value> = extra.iter().collect();
            let text = serde_json::to_string(&sorted).expect("a JSON map serializes");
            serde_json::to_writer(&mut *out, &text).expect("writing to a Vec");
        }
    }
    out.extend_from_slice(b"}\n");
}

fn day_of(cells: &[Cell], event: Option<usize>, ty: Option<ColumnType>, arrival_day: i32) -> i32 {
    match (event.map(|i| &cells[i]), ty) {
        (Some(Cell::Int(us)), Some(ColumnType::Timestamp)) => us.div_euclid(DAY_US) as i32,
        (Some(Cell::Int(d)), Some(ColumnType::Date)) => *d as i32,
        _ => arrival_day,
    }
}

fn push_json(
    ds: &Dataset,
    event: Option<usize>,
    arrival_day: i32,
    row: usize,
    v: Value,
    out: &mut Batch,
) -> Result<(), RowError> {
    let Value::Object(mut obj) = v else {
        return Err(RowError::Row { row, reason: format!("expected a JSON object, got {}", kind(&v)) });
    };
    let mut cells = Vec::with_capacity(ds.columns.len());
    for c in &ds.columns {
        let cell = match obj.remove(&c.name) {
            None | Some(Value::Null) if c.nullable => Cell::Null,
            None => {
                return Err(RowError::Field { row, column: c.name.clone(), reason: "missing, and the column is not null".into() })
            }
            Some(Value::Null) => {
                return Err(RowError::Field { row, column: c.name.clone(), reason: "null, and the column is not null".into() })
            }
            Some(v) => json_cell(c.ty, &v).map_err(|reason| RowError::Field { row, column: c.name.clone(), reason })?,
        };
        cells.push(cell);
    }
    let extra = match ds.unknown_fields {
        UnknownFields::Reject => {
            if let Some(k) = obj.keys().next() {
                let known: Vec<&str> = ds.columns.iter().map(|c| c.name.as_str()).collect();
                return Err(RowError::Field {
                    row,
                    column: k.clone(),
                    reason: format!(
                        "not a column of dataset '{}' (columns: {}); declare it or set unknown_fields = \"keep\"",
                        ds.name,
                        known.join(", ")
                    ),
                });
            }
            None
        }
        UnknownFields::Keep => Some(obj),
    };
    out.push(ds, &cells, extra.as_ref(), event, arrival_day);
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn json_cell(ty: ColumnType, v: &Value) -> Result<Cell, String> {
    let wrong = |want: &str| format!("expected {want}, got {}", kind(v));
    match ty {
        ColumnType::Str => v.as_str().map(|s| Cell::Str(s.to_string())).ok_or_else(|| wrong("a string")),
        ColumnType::I64 => match v {
            Value::Number(n) => n.as_i64().map(Cell::Int).ok_or_else(|| {
                if n.is_f64() {
                    format!("{n} is not a whole number; the column is i64")
                } else {
                    format!("{n} is beyond the range of i64")
                }
            }),
            _ => Err(wrong("a whole number")),
        },
        ColumnType::F64 => v.as_f64().map(Cell::Float).ok_or_else(|| wrong("a number")),
        ColumnType::Bool => v.as_bool().map(Cell::Bool).ok_or_else(|| wrong("true or false")),
        ColumnType::Date => {
            let s = v.as_str().ok_or_else(|| wrong("a date as \"YYYY-MM-DD\""))?;
            let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("`{s}` is not a date; write \"YYYY-MM-DD\""))?;
            Ok(Cell::Int((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days()))
        }
        ColumnType::Timestamp => match v {
            Value::String(s) => parse_timestamp(s).map(Cell::Int),
            Value::Number(n) => n
                .as_i64()
                .and_then(|ms| ms.checked_mul(1000))
                .map(Cell::Int)
                .ok_or_else(|| format!("{n} is not epoch milliseconds (a whole number)")),
            _ => Err(wrong("a timestamp (RFC 3339 text or epoch milliseconds)")),
        },
    }
}

/// RFC 3339 text (a `Z` or an offset required) as UTC microseconds.
fn parse_timestamp(s: &str) -> Result<i64, String> {
    let t = chrono::DateTime::parse_from_rfc3339(s).or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z"));
    match t {
        Ok(t) => Ok(t.timestamp_micros()),
        Err(_) if chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok() => {
            Err(format!("`{s}` has no time zone; add `Z` (UTC) or an offset such as +02:00"))
        }
        Err(_) => Err(format!("`{s}` is not an RFC 3339 timestamp such as 2026-12-03T10:00:00Z")),
    }
}

fn decode_arrow(ds: &Dataset, event: Option<usize>, arrival_day: i32, body: &[u8], out: &mut Batch) -> Result<(), RowError> {
    let df = IpcStreamReader::new(std::io::Cursor::new(body))
        .finish()
        .map_err(|e| RowError::Body(format!("the body is not an Arrow IPC stream: {e}")))?;
    let height = df.height();
    let known: Vec<&str> = ds.columns.iter().map(|c| c.name.as_str()).collect();
    let unknown: Vec<String> =
        df.get_column_names().iter().filter(|n| !known.contains(&n.as_str())).map(|n| n.to_string()).collect();
    if ds.unknown_fields == UnknownFields::Reject {
        if let Some(k) = unknown.first() {
            return Err(RowError::Body(format!(
                "column `{k}` is not a column of dataset '{}' (columns: {}); declare it or set unknown_fields = \"keep\"",
                ds.name,
                known.join(", ")
            )));
        }
    }
    // Each declared column as its log form: physical values after an exact cast.
    let mut cols: Vec<Option<Series>> = Vec::with_capacity(ds.columns.len());
    for c in &ds.columns {
        let Ok(col) = df.column(&c.name) else {
            if c.nullable {
                cols.push(None);
                continue;
            }
            return Err(RowError::Field {
                row: 0,
                column: c.name.clone(),
                reason: "missing from the Arrow stream, and the column is not null".into(),
            });
        };
        let s = col.as_materialized_series().clone();
        let target = match c.ty {
            ColumnType::Str => DataType::String,
            ColumnType::I64 => DataType::Int64,
            ColumnType::F64 => DataType::Float64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Date => DataType::Date,
            ColumnType::Timestamp => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
        };
        let fits = match (c.ty, s.dtype()) {
            (ColumnType::Str, DataType::String) => true,
            (ColumnType::I64, d) => d.is_integer(),
            (ColumnType::F64, d) => d.is_float() || d.is_integer(),
            (ColumnType::Bool, DataType::Boolean) => true,
            (ColumnType::Date, DataType::Date) => true,
            (ColumnType::Timestamp, DataType::Datetime(_, _)) => true,
            (_, DataType::Null) => true,
            _ => false,
        };
        if !fits {
            return Err(RowError::Field {
                row: 0,
                column: c.name.clone(),
                reason: format!("Arrow type {} does not fit a {} column", s.dtype(), c.ty.as_str()),
            });
        }
        // A zone-less timestamp is taken as UTC (Arrow's "naive" instants).
        let s = match s.dtype() {
            DataType::Datetime(tu, None) => s.cast(&DataType::Datetime(*tu, Some(TimeZone::UTC))).map_err(arrow_err)?,
            _ => s,
        };
        let cast = s.strict_cast(&target).map_err(|_| {
            // Which row overflowed: the first non-null value that a lenient cast nulls.
            let lenient = s.cast(&target).ok();
            let row = lenient
                .and_then(|l| (0..height).find(|&i| !s.is_null().get(i).unwrap_or(true) && l.is_null().get(i).unwrap_or(false)))
                .unwrap_or(0);
            RowError::Field { row, column: c.name.clone(), reason: format!("value does not fit a {} column", c.ty.as_str()) }
        })?;
        if !c.nullable && cast.null_count() > 0 {
            let row = (0..height).find(|&i| cast.is_null().get(i).unwrap_or(false)).unwrap_or(0);
            return Err(RowError::Field { row, column: c.name.clone(), reason: "null, and the column is not null".into() });
        }
        let physical = cast.to_physical_repr().into_owned();
        cols.push(Some(physical));
    }
    let unknown_series: Vec<Series> = if ds.unknown_fields == UnknownFields::Keep {
        unknown
            .iter()
            .map(|n| df.column(n).map(|c| c.as_materialized_series().clone()))
            .collect::<PolarsResult<_>>()
            .map_err(arrow_err)?
    } else {
        Vec::new()
    };
    for row in 0..height {
        let mut cells = Vec::with_capacity(cols.len());
        for (c, s) in ds.columns.iter().zip(&cols) {
            let Some(s) = s else {
                cells.push(Cell::Null);
                continue;
            };
            let v = s.get(row).map_err(arrow_err)?;
            cells.push(match (c.ty, v) {
                (_, AnyValue::Null) => Cell::Null,
                (ColumnType::Str, AnyValue::String(x)) => Cell::Str(x.to_string()),
                (ColumnType::Str, AnyValue::StringOwned(x)) => Cell::Str(x.to_string()),
                (ColumnType::Bool, AnyValue::Boolean(b)) => Cell::Bool(b),
                (ColumnType::F64, AnyValue::Float64(f)) => Cell::Float(f),
                (_, AnyValue::Int64(n)) => Cell::Int(n),
                (_, AnyValue::Int32(n)) => Cell::Int(n as i64),
                (_, other) => {
                    return Err(RowError::Field {
                        row,
                        column: c.name.clone(),
                        reason: format!("unexpected value {other} for a {} column", c.ty.as_str()),
                    })
                }
            });
        }
        let extra = if ds.unknown_fields == UnknownFields::Keep {
            let mut m = Map::new();
            for s in &unknown_series {
                let v = s.get(row).map_err(arrow_err)?;
                let j = match v {
                    AnyValue::Null => continue,
                    AnyValue::Boolean(b) => Value::Bool(b),
                    AnyValue::String(x) => Value::String(x.to_string()),
                    AnyValue::StringOwned(x) => Value::String(x.to_string()),
                    v if v.is_integer() => v.extract::<i64>().map(Value::from).unwrap_or(Value::Null),
                    v if v.is_float() => v.extract::<f64>().map(Value::from).unwrap_or(Value::Null),
                    v => Value::String(v.to_string()),
                };
                m.insert(s.name().to_string(), j);
            }
            Some(m)
        } else {
            None
        };
        out.push(ds, &cells, extra.as_ref(), event, arrival_day);
    }
    Ok(())
}

fn arrow_err(e: PolarsError) -> RowError {
    RowError::Body(format!("cannot read the Arrow stream: {e}"))
}

/// The Polars schema of the log's form (dates as days, timestamps as microseconds).
pub fn log_schema(ds: &Dataset) -> Schema {
    ds.stored_columns()
        .iter()
        .map(|c| {
            let dt = match c.ty {
                ColumnType::Str => DataType::String,
                ColumnType::I64 | ColumnType::Timestamp => DataType::Int64,
                ColumnType::F64 => DataType::Float64,
                ColumnType::Bool => DataType::Boolean,
                ColumnType::Date => DataType::Int32,
            };
            Field::new(c.name.as_str().into(), dt)
        })
        .collect()
}

/// Rows in the log's form (concatenated lines) as the dataset's frame, with its real types.
pub fn lines_to_frame(ds: &Dataset, lines: &[u8]) -> PolarsResult<DataFrame> {
    let schema = Arc::new(log_schema(ds));
    let mut df = if lines.is_empty() {
        DataFrame::empty_with_schema(&schema)
    } else {
        JsonReader::new(std::io::Cursor::new(lines)).with_json_format(JsonFormat::JsonLines).with_schema(schema).finish()?
    };
    for c in ds.stored_columns() {
        let to = match c.ty {
            ColumnType::Date => DataType::Date,
            ColumnType::Timestamp => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
            _ => continue,
        };
        let s = df.column(&c.name)?.as_materialized_series().cast(&to)?;
        df.with_column(s.into_column())?;
    }
    Ok(df)
}

/// The Polars schema readers see.
pub fn frame_schema(ds: &Dataset) -> Schema {
    lines_to_frame(ds, b"").map(|df| df.schema().as_ref().clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::dataset::parse;

    fn ds(extra: &str) -> Dataset {
        parse(
            std::path::Path::new("/ws/ingest/ev.toml"),
            &format!("event_time = \"ts\"\n{extra}\n[columns]\nid = \"i64 not null\"\nts = \"timestamp not null\"\nuser = \"str\"\namount = \"f64\"\nday = \"date\"\nok = \"bool\"\n[target]\npath = \"d\"\n"),
        )
        .unwrap()
    }

    #[test]
    fn objects_arrays_and_lines_give_the_same_rows_by_day() {
        let d = ds("");
        let one = br#"{"id":1,"ts":"2026-12-03T23:59:59.5Z","user":"a\"b","amount":1,"day":"2026-12-03","ok":true}"#;
        let b = decode(&d, BodyFormat::Json, one, 0).unwrap();
        assert_eq!(b.rows, 1);
        let day =
            chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap().signed_duration_since(chrono::NaiveDate::default()).num_days();
        let rows = &b.days[&(day as i32)];
        assert_eq!(
            String::from_utf8_lossy(&rows.lines),
            "{\"id\":1,\"ts\":1796342399500000,\"user\":\"a\\\"b\",\"amount\":1.0,\"day\":20790,\"ok\":true}\n"
        );
        let arr =
            br#"[{"id":1,"ts":1796342399000},{"id":2,"ts":"2026-12-04T00:00:00+01:00"}, {"id":3,"ts":"2026-12-04T00:00:00Z"}]"#;
        let b = decode(&d, BodyFormat::Json, arr, 0).unwrap();
        assert_eq!(b.rows, 3);
        assert_eq!(b.days.values().map(|d| d.rows).collect::<Vec<_>>(), [2, 1], "+01:00 midnight is still the 3rd in UTC");
        let nd = b"{\"id\":1,\"ts\":0}\n\n{\"id\":2,\"ts\":0}\r\n";
        assert_eq!(decode(&d, BodyFormat::Ndjson, nd, 0).unwrap().rows, 2);
        let df = lines_to_frame(&d, &b.days.values().flat_map(|d| d.lines.clone()).collect::<Vec<_>>()).unwrap();
        assert_eq!(df.height(), 3);
        assert_eq!(df.column("ts").unwrap().dtype(), &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)));
    }

    #[test]
    fn bad_rows_name_the_row_and_the_column() {
        let d = ds("");
        let e = |body: &str| decode(&d, BodyFormat::Json, body.as_bytes(), 0).unwrap_err();
        assert_eq!(
            e(r#"[{"id":1,"ts":0},{"id":"2","ts":0}]"#),
            RowError::Field { row: 1, column: "id".into(), reason: "expected a whole number, got a string".into() }
        );
        assert_eq!(e(r#"[{"ts":0}]"#).column(), Some("id"));
        assert!(e(r#"{"id":1,"ts":0,"color":"red"}"#).to_string().contains("row 0, column `color`: not a column"));
        assert!(e(r#"{"id":1.5,"ts":0}"#).to_string().contains("not a whole number"));
        assert!(e(r#"{"id":1,"ts":"2026-12-03T10:00:00"}"#).to_string().contains("no time zone"));
        assert!(e(r#"{"id":1,"ts":0,"day":"03/12/2026"}"#).to_string().contains("not a date"));
        assert!(e(r#"{"id":9223372036854775808,"ts":0}"#).to_string().contains("beyond the range"));
        assert!(e("[1]").to_string().contains("expected a JSON object"));
        assert!(e("{").to_string().contains("not JSON"));
        assert!(e("[]").to_string().contains("no rows"));
        let nd = decode(&d, BodyFormat::Ndjson, b"{\"id\":1,\"ts\":0}\n{oops\n", 0).unwrap_err();
        assert_eq!(nd.row(), Some(1));
    }

    #[test]
    fn unknown_fields_can_be_kept() {
        let d = ds("unknown_fields = \"keep\"");
        let b = decode(&d, BodyFormat::Json, br#"[{"id":1,"ts":0,"color":"red","n":[1]},{"id":2,"ts":0}]"#, 0).unwrap();
        let df = lines_to_frame(&d, &b.days[&0].lines).unwrap();
        let extra: Vec<Option<&str>> = df.column(EXTRA_COLUMN).unwrap().str().unwrap().iter().collect();
        assert_eq!(extra, [Some(r#"{"color":"red","n":[1]}"#), None]);
    }

    #[test]
    fn arrow_streams_are_checked_and_cast_exactly() {
        let d = ds("");
        let ipc = |df: &mut DataFrame| {
            let mut buf = Vec::new();
            IpcStreamWriter::new(&mut buf).finish(df).unwrap();
            buf
        };
        let ts =
            Series::new("ts".into(), [1_000_000i64, 2_000_000]).cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).unwrap();
        let mut df = DataFrame::new_infer_height(vec![
            Series::new("id".into(), [1i32, 2]).into(),
            ts.into(),
            Series::new("amount".into(), [Some(1.5f32), None]).into(),
        ])
        .unwrap();
        let b = decode(&d, BodyFormat::ArrowStream, &ipc(&mut df), 0).unwrap();
        assert_eq!(b.rows, 2);
        let lines = String::from_utf8(b.days[&0].lines.clone()).unwrap();
        assert!(lines.starts_with("{\"id\":1,\"ts\":1000000000,\"user\":null,\"amount\":1.5,"), "{lines}");
        let mut bad = DataFrame::new_infer_height(vec![
            Series::new("id".into(), [Some(1i64), None]).into(),
            Series::new("ts".into(), [0i64, 0]).cast(&DataType::Datetime(TimeUnit::Microseconds, None)).unwrap().into(),
        ])
        .unwrap();
        let e = decode(&d, BodyFormat::ArrowStream, &ipc(&mut bad), 0).unwrap_err();
        assert_eq!((e.row(), e.column()), (Some(1), Some("id")));
        let mut big = DataFrame::new_infer_height(vec![
            Series::new("id".into(), [1u64, u64::MAX]).into(),
            Series::new("ts".into(), [0i64, 0]).cast(&DataType::Datetime(TimeUnit::Microseconds, None)).unwrap().into(),
        ])
        .unwrap();
        let e = decode(&d, BodyFormat::ArrowStream, &ipc(&mut big), 0).unwrap_err();
        assert_eq!((e.row(), e.column()), (Some(1), Some("id")));
        assert!(decode(&d, BodyFormat::ArrowStream, b"nope", 0).unwrap_err().to_string().contains("not an Arrow IPC stream"));
    }
}
