//! The ClickHouse sink: the upstream artifact sent as `Native` blocks of 64k rows in one HTTP
//! `INSERT` (gzip for a server elsewhere), never straight into the target:
//!
//! - `create`: a new MergeTree table (`order_by` is its sorting key), dropped again if the load fails.
//! - `replace`: loaded into a new table beside the target, which then takes the target's name
//!   (`RENAME TABLE`); a failed load leaves the target as it was.
//! - `append`: loaded into a copy of the target's structure, then moved over with one
//!   `INSERT … SELECT` on the server; a failed load adds nothing.
//!
//! Columns are `Nullable` except the sorting key's; an existing table must have every column of
//! the data with the same type, else each mismatch is named before any row is sent.

use std::time::Instant;

use polars::prelude::*;

use super::native::{encode_block, ColumnSpec};
use super::{quote_ident, ChAccess, ChType, LOW_CARDINALITY_SETTING};
use crate::spec::{SinkTask, WriteMode};
use crate::tasks::{Input, TaskContext, TaskError};

/// Rows per block sent.
const BATCH_ROWS: usize = 65_536;

/// Loads `input` into the sink's table; the number of rows loaded.
pub fn write(ctx: &TaskContext, sink: &SinkTask, input: &Input) -> Result<u64, TaskError> {
    let access = ctx.clickhouse.ok_or_else(|| TaskError::Data("no ClickHouse access for this sink".into()))?;
    let table = sink.table.as_deref().unwrap_or_default();
    let (db, name) = match table.split_once('.') {
        Some((d, n)) => (Some(d), n),
        None => (None, table),
    };
    let sibling = |n: &str| match db {
        Some(d) => format!("{}.{}", quote_ident(d), quote_ident(n)),
        None => quote_ident(n),
    };
    let target = sibling(name);
    let at = &access.url;
    let failed = |what: &str, e: String| TaskError::Data(format!("{what} {table} at {at}: {e}"));
    let schema = input.schema()?;
    let mut specs = Vec::with_capacity(schema.len());
    for (col, dtype) in schema.iter() {
        let ty = ChType::of(dtype).map_err(|e| TaskError::Data(format!("column '{col}': {e}")))?;
        let nullable = !sink.order_by.iter().any(|k| k == col.as_str());
        specs.push(ColumnSpec { name: col.to_string(), ty, nullable, low_cardinality: false });
    }
    for k in &sink.order_by {
        if !specs.iter().any(|s| &s.name == k) {
            return Err(TaskError::Data(format!("order_by column '{k}' is not in the data")));
        }
    }
    let exists = access.execute(&format!("EXISTS TABLE {target}")).map_err(|e| failed("cannot look up", e))?.trim() == "1";
    if exists && sink.mode == WriteMode::Create {
        return Err(TaskError::Data(format!("table {table} already exists at {at}; use mode = \"replace\" or \"append\"")));
    }
    let needs_key = !exists || sink.mode == WriteMode::Replace;
    if needs_key && sink.order_by.is_empty() {
        return Err(TaskError::Data(format!(
            "creating table {table} needs `order_by = [\"…\"]`: the columns of its MergeTree sorting key"
        )));
    }
    let mut batches = input.batches(BATCH_ROWS)?;
    let first = batches.next().transpose()?;
    // 18.x servers create LowCardinality columns only when asked to (the type was experimental).
    let experimental = access.low_cardinality_is_experimental().map_err(|e| failed("cannot read the settings of", e))?;
    let create_settings: &[(&str, &str)] = if experimental { &[(LOW_CARDINALITY_SETTING, "1")] } else { &[] };
    if exists && sink.mode == WriteMode::Append {
        specs = fit(access, &target, table, specs)?;
    } else {
        choose_low_cardinality(&mut specs, &schema, sink.low_cardinality.as_deref(), experimental, first.as_ref())?;
    }
    let definition = || {
        let cols: Vec<String> = specs.iter().map(|s| format!("{} {}", quote_ident(&s.name), s.type_name())).collect();
        let key: Vec<String> = sink.order_by.iter().map(|k| quote_ident(k)).collect();
        format!("({}) ENGINE = MergeTree ORDER BY ({})", cols.join(", "), key.join(", "))
    };
    let started = Instant::now();
    // Where the blocks go, and what makes them the table's.
    let staging = match sink.mode {
        WriteMode::Create => target.clone(),
        WriteMode::Replace => sibling(&format!("{name}__polder_new")),
        _ => sibling(&format!("{name}__polder_append")),
    };
    let prepare = match sink.mode {
        WriteMode::Create => format!("CREATE TABLE {target} {}", definition()),
        WriteMode::Replace => format!("CREATE TABLE {staging} {}", definition()),
        _ if !exists => format!("CREATE TABLE {target} {}", definition()),
        _ => String::new(),
    };
    if sink.mode != WriteMode::Create {
        access.execute(&format!("DROP TABLE IF EXISTS {staging}")).map_err(|e| failed("cannot clear the work table of", e))?;
    }
    if !prepare.is_empty() {
        access.execute_with(&prepare, create_settings).map_err(|e| failed("cannot create", e))?;
    }
    if sink.mode == WriteMode::Append {
        access
            .execute_with(&format!("CREATE TABLE {staging} AS {target}"), create_settings)
            .map_err(|e| failed("cannot create the work table of", e))?;
    }
    let loaded = send(ctx, access, &staging, &specs, first.into_iter().map(Ok).chain(batches)).and_then(|rows| {
        let list: Vec<String> = specs.iter().map(|s| quote_ident(&s.name)).collect();
        let list = list.join(", ");
        match sink.mode {
            WriteMode::Create => {}
            WriteMode::Replace if exists => {
                let old = sibling(&format!("{name}__polder_old"));
                access.execute(&format!("DROP TABLE IF EXISTS {old}")).map_err(|e| failed("cannot swap in the new", e))?;
                access
                    .execute(&format!("RENAME TABLE {target} TO {old}, {staging} TO {target}"))
                    .map_err(|e| failed("cannot swap in the new", e))?;
                access.execute(&format!("DROP TABLE {old}")).map_err(|e| failed("cannot drop the old", e))?;
            }
            WriteMode::Replace => {
                access.execute(&format!("RENAME TABLE {staging} TO {target}")).map_err(|e| failed("cannot name the new", e))?;
            }
            _ => {
                access
                    .execute(&format!("INSERT INTO {target} ({list}) SELECT {list} FROM {staging}"))
                    .map_err(|e| failed("cannot append to", e))?;
                access.execute(&format!("DROP TABLE {staging}")).map_err(|e| failed("cannot drop the work table of", e))?;
            }
        };
        Ok(rows)
    });
    let rows = match loaded {
        Ok(rows) => rows,
        Err(e) => {
            // Nothing half-loaded stays: the table this run made is dropped again.
            let _ = access.execute(&format!("DROP TABLE IF EXISTS {staging}"));
            return Err(e);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    ctx.log.line(format!(
        "loaded {rows} rows into {table} at {at} ({:?}) in {secs:.2} s ({:.0} rows/s)",
        sink.mode,
        rows as f64 / secs.max(1e-9)
    ));
    Ok(rows)
}

/// At most this many distinct values in the first block make a text column `LowCardinality`
/// (ClickHouse's own advice: dictionaries beyond ~10k values gain little).
const DICTIONARY_LIMIT: usize = 10_000;

/// Marks the text columns a new table stores as `LowCardinality`: those `listed`, or, with no
/// list, those whose first block repeats its values (at most half of it distinct, and at most
/// [`DICTIONARY_LIMIT`]) where the server has the type without a setting; 18.x servers get
/// only listed columns, the type being experimental there.
fn choose_low_cardinality(
    specs: &mut [ColumnSpec],
    schema: &Schema,
    listed: Option<&[String]>,
    experimental: bool,
    first: Option<&DataFrame>,
) -> Result<(), TaskError> {
    let is_text = |dtype: &DataType| matches!(dtype, DataType::String | DataType::Categorical(..) | DataType::Enum(..));
    match listed {
        Some(listed) => {
            for col in listed {
                let Some(dtype) = schema.get(col.as_str()) else {
                    return Err(TaskError::Data(format!("low_cardinality column '{col}' is not in the data")));
                };
                if !is_text(dtype) {
                    return Err(TaskError::Data(format!(
                        "low_cardinality column '{col}' is {dtype}; only text columns are stored as LowCardinality here"
                    )));
                }
            }
            for spec in specs.iter_mut() {
                spec.low_cardinality = listed.contains(&spec.name);
            }
        }
        None if experimental => {}
        None => {
            let Some(first) = first else { return Ok(()) };
            for spec in specs.iter_mut() {
                let Some(column) = first.column(&spec.name).ok().filter(|c| is_text(c.dtype())) else { continue };
                let distinct = column.n_unique().unwrap_or(usize::MAX);
                spec.low_cardinality = distinct <= DICTIONARY_LIMIT && distinct.saturating_mul(2) <= first.height();
            }
        }
    }
    Ok(())
}

/// The data's columns as the existing table types them, or every mismatch.
fn fit(access: &ChAccess, target: &str, table: &str, specs: Vec<ColumnSpec>) -> Result<Vec<ColumnSpec>, TaskError> {
    let described = access
        .execute(&format!("DESCRIBE TABLE {target} FORMAT TabSeparatedRaw"))
        .map_err(|e| TaskError::Data(format!("cannot describe {table}: {e}")))?;
    let existing: Vec<(String, String)> = described
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('\t');
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect();
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(specs.len());
    for mut spec in specs {
        match existing.iter().find(|(c, _)| c == &spec.name) {
            None => problems.push(format!("column '{}' is not in the table (the data has {})", spec.name, spec.ty.name())),
            Some((_, has)) => {
                fn unwrap<'t>(t: &'t str, wrapper: &str) -> Option<&'t str> {
                    t.strip_prefix(wrapper).and_then(|t| t.strip_suffix(')'))
                }
                let (low_cardinality, typ) = match unwrap(has, "LowCardinality(") {
                    Some(inner) => (true, inner),
                    None => (false, has.as_str()),
                };
                let (nullable, base) = match unwrap(typ, "Nullable(") {
                    Some(inner) => (true, inner),
                    None => (false, typ),
                };
                if base != spec.ty.name() || (low_cardinality && spec.ty != ChType::String) {
                    problems.push(format!("column '{}' is {has} in the table, {} in the data", spec.name, spec.ty.name()));
                }
                spec.nullable = nullable;
                spec.low_cardinality = low_cardinality;
            }
        }
        out.push(spec);
    }
    if problems.is_empty() {
        return Ok(out);
    }
    Err(TaskError::Data(format!(
        "table {table} does not fit the data: {}; change the table, cast the columns in an upstream SQL task, or use mode = \"replace\"",
        problems.join("; ")
    )))
}

/// Native blocks kept ready ahead of the request body (each up to 64k rows, a few MB).
const ENCODED_AHEAD: usize = 3;

/// Sends the artifact's rows (`batches`, read from `input`) to `into` in one `INSERT`, its body
/// the Native blocks as they are encoded (the server squashes them into parts of ~1M rows); the
/// number sent. The request runs on a thread of its own, so encoding and the server's work overlap.
fn send(
    ctx: &TaskContext,
    access: &ChAccess,
    into: &str,
    specs: &[ColumnSpec],
    batches: impl Iterator<Item = Result<DataFrame, TaskError>>,
) -> Result<u64, TaskError> {
    let statement = format!("INSERT INTO {into} FORMAT Native");
    let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Vec<u8>>>(ENCODED_AHEAD);
    std::thread::scope(|scope| {
        let request = scope.spawn(|| access.insert(&statement, Blocks { rx, current: Vec::new(), at: 0 }));
        let mut rows = 0u64;
        let mut stopped = None;
        for batch in batches {
            let encoded = ctx.cancel.check().and_then(|_| {
                let df = batch?;
                let mut block = Vec::new();
                if df.height() > 0 {
                    encode_block(&df, specs, rows, &mut block).map_err(|e| TaskError::Data(e.to_string()))?;
                }
                rows += df.height() as u64;
                Ok(block)
            });
            match encoded {
                Ok(block) if block.is_empty() => {}
                // A closed channel: the request ended early; its answer says why.
                Ok(block) => {
                    if tx.send(Some(block)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            }
        }
        if stopped.is_some() {
            // Aborts the request mid-body: the server drops the insert.
            let _ = tx.send(None);
        }
        drop(tx);
        let answer = request.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        if let Some(e) = stopped {
            return Err(e);
        }
        answer.map_err(|e| TaskError::Data(format!("cannot insert into {into} at {}: {e}", access.url)))?;
        Ok(rows)
    })
}

/// The request body: Native blocks from the encoder; `None` aborts it.
struct Blocks {
    rx: std::sync::mpsc::Receiver<Option<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

impl std::io::Read for Blocks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.current.len() {
            match self.rx.recv() {
                Ok(Some(block)) => (self.current, self.at) = (block, 0),
                Ok(None) => return Err(std::io::Error::other("the load stopped")),
                // The encoder is done: the body ends.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(df: &DataFrame) -> Vec<ColumnSpec> {
        df.columns()
            .iter()
            .map(|c| ColumnSpec {
                name: c.name().to_string(),
                ty: ChType::of(c.dtype()).unwrap(),
                nullable: true,
                low_cardinality: false,
            })
            .collect()
    }

    fn chosen(specs: &[ColumnSpec]) -> Vec<&str> {
        specs.iter().filter(|s| s.low_cardinality).map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn text_columns_that_repeat_become_low_cardinality_where_the_server_has_the_type() {
        let df = df!(
            "country" => (0..1000).map(|i| ["NL", "DE", "BE"][i % 3]).collect::<Vec<_>>(),
            "code" => (0..1000).map(|i| format!("c{}", i % 600)).collect::<Vec<_>>(),
            "n" => (0..1000).map(|i| i % 2).collect::<Vec<_>>(),
        )
        .unwrap();
        let schema = df.schema().as_ref().clone();
        let mut s = specs(&df);
        choose_low_cardinality(&mut s, &schema, None, false, Some(&df)).unwrap();
        assert_eq!(chosen(&s), ["country"], "600 of 1000 distinct is not dictionary-like");
        let mut s = specs(&df);
        choose_low_cardinality(&mut s, &schema, None, true, Some(&df)).unwrap();
        assert!(chosen(&s).is_empty(), "18.x: only listed columns");
        let mut s = specs(&df);
        choose_low_cardinality(&mut s, &schema, Some(&["code".into()]), true, Some(&df)).unwrap();
        assert_eq!(chosen(&s), ["code"]);
        let err = choose_low_cardinality(&mut specs(&df), &schema, Some(&["nope".into()]), false, None).unwrap_err();
        assert!(err.to_string().contains("low_cardinality column 'nope' is not in the data"), "{err}");
    }
}
