//! The PostgreSQL sink: the upstream artifact streamed in batches through one binary COPY into a
//! table, inside one transaction, so a failure, a cancel or a killed run leaves the table as it was.
//!
//! - `create`: the table must not exist; it is created from the frame's schema.
//! - `replace`: loaded into a new table beside the target, which then takes the target's place
//!   (drop and rename in the same transaction): readers see the old table or the new one.
//! - `append`: rows added to the table (created if missing), all or none.
//! - `upsert`: rows loaded into a temporary table, then `INSERT … ON CONFLICT (key) DO UPDATE`;
//!   a missing table is created with `key` as its primary key.
//!
//! An existing table must have a column of the matching type (as [`PgType`] maps the frame's)
//! for every column of the data; every mismatch is named before any row is sent.

use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Instant;

use bytes::Bytes;
use futures::SinkExt;
use polars::prelude::*;
use tokio_postgres::error::SqlState;

use super::access::{describe, PgAccess};
use super::copy::{encode_rows, HEADER, TRAILER};
use super::PgType;
use crate::spec::{SinkTask, WriteMode};
use crate::tasks::frame::scan_artifact;
use crate::tasks::{quote_ident, TaskContext, TaskError};

/// Rows per batch read from the artifact and encoded at once.
const BATCH_ROWS: usize = 65_536;

/// Loads `input` into the sink's table; the number of rows loaded.
pub fn write(ctx: &TaskContext, sink: &SinkTask, input: &Path) -> Result<u64, TaskError> {
    let access = ctx.postgres.ok_or_else(|| TaskError::Data("no PostgreSQL access for this sink".into()))?;
    let table = Table::parse(sink.table.as_deref().unwrap_or_default());
    let schema =
        scan_artifact(input)?.collect_schema().map_err(|e| TaskError::data(format!("cannot read {}", input.display()), e))?;
    let mut columns = Vec::with_capacity(schema.len());
    for (name, dtype) in schema.iter() {
        let ty = PgType::of(dtype).map_err(|e| TaskError::Data(format!("column '{name}': {e}")))?;
        columns.push((name.to_string(), ty));
    }
    for k in &sink.key {
        if !columns.iter().any(|(c, _)| c == k) {
            return Err(TaskError::Data(format!(
                "key column '{k}' is not in the data (columns: {})",
                columns.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let started = Instant::now();
    let rows = super::block_on(|| load(ctx, sink, access, &table, &columns, input))
        .map_err(|e| TaskError::data("cannot start the PostgreSQL client", e))??;
    let secs = started.elapsed().as_secs_f64();
    ctx.log.line(format!(
        "loaded {rows} rows into {} at {} ({:?}) in {secs:.2} s ({:.0} rows/s)",
        table.display,
        access.address(),
        sink.mode,
        rows as f64 / secs.max(1e-9)
    ));
    Ok(rows)
}

/// A table name as written, and quoted.
struct Table {
    display: String,
    schema: Option<String>,
    name: String,
}

impl Table {
    fn parse(text: &str) -> Table {
        let (schema, name) = match text.split_once('.') {
            Some((s, n)) => (Some(s.to_string()), n.to_string()),
            None => (None, text.to_string()),
        };
        Table { display: text.to_string(), schema, name }
    }

    /// The quoted name of `name` in this table's schema.
    fn sibling(&self, name: &str) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(name)),
            None => quote_ident(name),
        }
    }

    fn quoted(&self) -> String {
        self.sibling(&self.name)
    }
}

async fn load(
    ctx: &TaskContext<'_>,
    sink: &SinkTask,
    access: &PgAccess,
    table: &Table,
    columns: &[(String, PgType)],
    input: &Path,
) -> Result<u64, TaskError> {
    let client = access.connect().await.map_err(TaskError::Data)?;
    super::access::cancel_queries_on(ctx.cancel, &client);
    let at = access.address();
    let failed =
        |what: &str, e: tokio_postgres::Error| TaskError::Data(format!("{what} {} at {at}: {}", table.display, describe(&e)));
    if let Some(schema) = &table.schema {
        // Outside the load's transaction: two sinks creating one schema at once would fail one
        // of them (IF NOT EXISTS is not safe against a concurrent creator): losing that race is fine.
        // Only when missing: creating needs a privilege a loader of an existing schema may lack.
        let exists = client
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[schema])
            .await
            .map_err(|e| failed("cannot look up the schema of", e))?
            .is_some();
        let create = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
        let created = if exists { Ok(()) } else { client.batch_execute(&create).await };
        if let Err(e) = created {
            let raced = e.code().is_some_and(|c| *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::DUPLICATE_SCHEMA);
            if !raced {
                return Err(failed("cannot create the schema of", e));
            }
        }
    }
    client.batch_execute("BEGIN").await.map_err(|e| failed("cannot start a transaction for", e))?;
    let existing = existing_columns(&client, table).await.map_err(|e| failed("cannot look up", e))?;
    let target = table.quoted();
    let list: Vec<String> = columns.iter().map(|(c, _)| quote_ident(c)).collect();
    let list = list.join(", ");
    let definition = |primary_key: &[String]| {
        let mut cols: Vec<String> = columns.iter().map(|(c, t)| format!("{} {}", quote_ident(c), t.sql_name())).collect();
        if !primary_key.is_empty() {
            let key: Vec<String> = primary_key.iter().map(|k| quote_ident(k)).collect();
            cols.push(format!("PRIMARY KEY ({})", key.join(", ")));
        }
        cols.join(", ")
    };
    if let Some(existing) = &existing {
        if sink.mode == WriteMode::Create {
            return Err(TaskError::Data(format!(
                "table {} already exists at {at}; use mode = \"replace\", \"append\" or \"upsert\"",
                table.display
            )));
        }
        if sink.mode != WriteMode::Replace {
            check_fit(table, existing, columns)?;
        }
    }
    // Where the COPY goes.
    let into = match sink.mode {
        WriteMode::Replace => {
            let staging = table.sibling(&staging_name(&table.name, "new"));
            client
                .batch_execute(&format!("DROP TABLE IF EXISTS {staging}; CREATE TABLE {staging} ({})", definition(&[])))
                .await
                .map_err(|e| failed("cannot create the new table for", e))?;
            staging
        }
        WriteMode::Upsert => {
            if existing.is_none() {
                client
                    .batch_execute(&format!("CREATE TABLE {target} ({})", definition(&sink.key)))
                    .await
                    .map_err(|e| failed("cannot create", e))?;
            }
            let staging = quote_ident(&staging_name(&table.name, "upsert"));
            client
                .batch_execute(&format!("CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {list} FROM {target} WITH NO DATA"))
                .await
                .map_err(|e| failed("cannot create the staging table for", e))?;
            staging
        }
        WriteMode::Create | WriteMode::Append => {
            if existing.is_none() {
                client
                    .batch_execute(&format!("CREATE TABLE {target} ({})", definition(&[])))
                    .await
                    .map_err(|e| failed("cannot create", e))?;
            }
            target.clone()
        }
    };
    let rows = copy(ctx, &client, &into, &list, columns, input).await.map_err(|e| match e {
        CopyError::Task(e) => e,
        CopyError::Pg(e) => failed("cannot load", e),
    })?;
    match sink.mode {
        WriteMode::Replace => {
            let rename = format!("DROP TABLE IF EXISTS {target}; ALTER TABLE {into} RENAME TO {}", quote_ident(&table.name));
            client.batch_execute(&rename).await.map_err(|e| failed("cannot swap in the new", e))?;
        }
        WriteMode::Upsert => {
            let updates: Vec<String> = columns
                .iter()
                .filter(|(c, _)| !sink.key.contains(c))
                .map(|(c, _)| format!("{q} = EXCLUDED.{q}", q = quote_ident(c)))
                .collect();
            let key: Vec<String> = sink.key.iter().map(|k| quote_ident(k)).collect();
            let action = if updates.is_empty() { "NOTHING".to_string() } else { format!("UPDATE SET {}", updates.join(", ")) };
            let merge =
                format!("INSERT INTO {target} ({list}) SELECT {list} FROM {into} ON CONFLICT ({}) DO {action}", key.join(", "));
            client.batch_execute(&merge).await.map_err(|e| {
                let mut message = describe(&e);
                if message.contains("cannot affect row a second time") {
                    message.push_str(&format!("; the data has two rows with the same key ({})", sink.key.join(", ")));
                } else if message.contains("no unique or exclusion constraint") {
                    message.push_str(&format!(
                        "; the table needs a primary key or unique index on ({}) for mode = \"upsert\"",
                        sink.key.join(", ")
                    ));
                }
                TaskError::Data(format!("cannot upsert into {} at {at}: {message}", table.display))
            })?;
        }
        WriteMode::Create | WriteMode::Append => {}
    }
    ctx.cancel.check()?;
    client.batch_execute("COMMIT").await.map_err(|e| failed("cannot commit the load of", e))?;
    Ok(rows)
}

/// A name beside `name` for a work table, within PostgreSQL's 63-byte identifiers.
fn staging_name(name: &str, what: &str) -> String {
    let suffix = format!("__polder_{what}");
    let mut base = name.to_string();
    while base.len() + suffix.len() > 63 {
        base.pop();
    }
    base + &suffix
}

/// The table's columns and their types (`format_type`), or None when it does not exist.
async fn existing_columns(
    client: &tokio_postgres::Client,
    table: &Table,
) -> Result<Option<Vec<(String, String)>>, tokio_postgres::Error> {
    let quoted = table.quoted();
    let exists: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&quoted]).await?.get(0);
    if !exists {
        return Ok(None);
    }
    let rows = client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&quoted],
        )
        .await?;
    Ok(Some(rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
}

/// Whether an existing column of `existing` type takes `ty`'s binary values.
fn takes(existing: &str, ty: PgType) -> bool {
    existing == ty.sql_name() || (ty == PgType::Text && (existing.starts_with("character varying") || existing == "citext"))
}

/// Every column of the data the table lacks or types differently, or Ok.
fn check_fit(table: &Table, existing: &[(String, String)], columns: &[(String, PgType)]) -> Result<(), TaskError> {
    let mut problems = Vec::new();
    for (name, ty) in columns {
        match existing.iter().find(|(c, _)| c == name) {
            None => problems.push(format!("column '{name}' is not in the table (the data has {})", ty.sql_name())),
            Some((_, has)) if !takes(has, *ty) => {
                problems.push(format!("column '{name}' is {has} in the table, {} in the data", ty.sql_name()))
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(TaskError::Data(format!(
        "table {} does not fit the data: {}; change the table (ALTER TABLE), cast the columns in an upstream SQL task, or use mode = \"replace\"",
        table.display,
        problems.join("; ")
    )))
}

enum CopyError {
    Task(TaskError),
    Pg(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for CopyError {
    fn from(e: tokio_postgres::Error) -> Self {
        CopyError::Pg(e)
    }
}

/// Streams the artifact's rows into `into` (quoted) through one binary COPY.
async fn copy(
    ctx: &TaskContext<'_>,
    client: &tokio_postgres::Client,
    into: &str,
    list: &str,
    columns: &[(String, PgType)],
    input: &Path,
) -> Result<u64, CopyError> {
    let types: Vec<PgType> = columns.iter().map(|(_, t)| *t).collect();
    let sink = client.copy_in(&format!("COPY {into} ({list}) FROM STDIN (FORMAT binary)")).await?;
    futures::pin_mut!(sink);
    sink.send(Bytes::from_static(HEADER)).await?;
    let batches = scan_artifact(input)
        .and_then(|lf| {
            lf.collect_batches(Engine::Streaming, true, NonZeroUsize::new(BATCH_ROWS), false)
                .map_err(|e| TaskError::data(format!("cannot read {}", input.display()), e))
        })
        .map_err(CopyError::Task)?;
    let mut rows = 0u64;
    for batch in batches {
        ctx.cancel.check().map_err(CopyError::Task)?;
        let df = batch.map_err(|e| CopyError::Task(TaskError::data(format!("cannot read {}", input.display()), e)))?;
        let mut data = Vec::new();
        encode_rows(&df, &types, rows, &mut data).map_err(|e| CopyError::Task(TaskError::Data(e.to_string())))?;
        rows += df.height() as u64;
        sink.send(Bytes::from(data)).await?;
    }
    sink.send(Bytes::from_static(TRAILER)).await?;
    let copied = sink.finish().await?;
    Ok(copied)
}
