//! The PostgreSQL sink: the upstream artifact streamed in batches through binary COPY, never
//! into the visible table directly, so a failure, a cancel or a killed run leaves it as it was.
//!
//! - `create` and `replace`: loaded into a new table beside the target through several COPY
//!   streams at once (one server process each), which then takes the target's place (drop and
//!   rename in one transaction): readers see the old table or the new one. A killed run leaves
//!   the new table (`…__polder_new`) for the next run to drop.
//! - `append`: rows added to the table (created if missing) in one transaction, all or none.
//! - `upsert`: rows loaded into a temporary table, then `INSERT … ON CONFLICT (key) DO UPDATE`;
//!   a missing table is created with `key` as its primary key.
//!
//! An existing table must have a column of the matching type (as [`PgType`] maps the frame's)
//! for every column of the data; every mismatch is named before any row is sent.

use std::time::Instant;

use bytes::Bytes;
use futures::SinkExt;
use tokio_postgres::error::SqlState;

use super::access::{describe, PgAccess};
use super::copy::{encode_rows, HEADER, TRAILER};
use super::PgType;
use crate::spec::{SinkTask, WriteMode};
use crate::tasks::{quote_ident, Input, TaskContext, TaskError};

/// Rows per batch read from the artifact and encoded at once.
const BATCH_ROWS: usize = 65_536;

/// At most this many COPY streams load a new table at once (one per core up to it): two
/// sessions loaded 10M rows in 4.3 s where one took 7.4 s on 2 cores (bench/README.md).
const MAX_STREAMS: usize = 4;

/// Set to a number of COPY streams for new tables, whatever the cores (benchmarks).
pub const STREAMS_ENV: &str = "POLDER_PG_STREAMS";

/// How many COPY streams load a new table.
fn streams() -> usize {
    if let Some(n) = std::env::var(STREAMS_ENV).ok().and_then(|v| v.parse::<usize>().ok()) {
        return n.max(1);
    }
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_STREAMS)
}

/// Loads `input` into the sink's table; the number of rows loaded.
pub fn write(ctx: &TaskContext, sink: &SinkTask, input: &Input) -> Result<u64, TaskError> {
    let access = ctx.postgres.ok_or_else(|| TaskError::Data("no PostgreSQL access for this sink".into()))?;
    let table = Table::parse(sink.table.as_deref().unwrap_or_default());
    let schema = input.schema()?;
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
    input: &Input,
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
    let new_table = matches!(sink.mode, WriteMode::Create | WriteMode::Replace);
    if !new_table {
        client.batch_execute("BEGIN").await.map_err(|e| failed("cannot start a transaction for", e))?;
    }
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
    if new_table {
        let staging = table.sibling(&staging_name(&table.name, "new"));
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {staging}; CREATE TABLE {staging} ({})", definition(&[])))
            .await
            .map_err(|e| failed("cannot create the new table for", e))?;
        let loaded = load_new_table(ctx, sink, access, client, table, &staging, &list, columns, input).await;
        return loaded.map_err(|(what, e)| match e {
            CopyError::Task(e) => e,
            CopyError::Pg(e) => failed(what, e),
        });
    }
    // Where the COPY goes.
    let into = match sink.mode {
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
        _ => {
            if existing.is_none() {
                client
                    .batch_execute(&format!("CREATE TABLE {target} ({})", definition(&[])))
                    .await
                    .map_err(|e| failed("cannot create", e))?;
            }
            target.clone()
        }
    };
    let rows = copy(ctx, std::slice::from_ref(&client), &into, &list, columns, input).await.map_err(|e| match e {
        CopyError::Task(e) => e,
        CopyError::Pg(e) => failed("cannot load", e),
    })?;
    if sink.mode == WriteMode::Upsert {
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
    ctx.cancel.check()?;
    client.batch_execute("COMMIT").await.map_err(|e| failed("cannot commit the load of", e))?;
    Ok(rows)
}

/// `create` and `replace`: loads the new table `staging` (made by `client`) through one COPY
/// stream per [`streams`], then gives it the target's name (`replace`: dropping the old table in
/// the same transaction). On any failure or a cancel the new table is dropped again. Errors
/// come with what failed.
#[allow(clippy::too_many_arguments)]
async fn load_new_table(
    ctx: &TaskContext<'_>,
    sink: &SinkTask,
    access: &PgAccess,
    client: tokio_postgres::Client,
    table: &Table,
    staging: &str,
    list: &str,
    columns: &[(String, PgType)],
    input: &Input,
) -> Result<u64, (&'static str, CopyError)> {
    let mut clients = vec![client];
    let mut loaded = Ok(0);
    for _ in 1..streams() {
        match access.connect().await {
            Ok(c) => {
                super::access::cancel_queries_on(ctx.cancel, &c);
                clients.push(c);
            }
            Err(e) => {
                loaded = Err(("cannot load", CopyError::Task(TaskError::Data(e))));
                break;
            }
        }
    }
    if loaded.is_ok() {
        loaded = copy(ctx, &clients, staging, list, columns, input).await.map_err(|e| ("cannot load", e));
    }
    // The other sessions end here; their COPYs are done or aborted.
    clients.truncate(1);
    let client = clients.pop().expect("the first client");
    if loaded.is_ok() {
        loaded = ctx.cancel.check().map(|_| 0).map_err(|e| ("cannot load", CopyError::Task(e))).and(loaded);
    }
    if let Ok(rows) = loaded {
        let name = quote_ident(&table.name);
        let swap = match sink.mode {
            WriteMode::Replace => {
                format!("BEGIN; DROP TABLE IF EXISTS {}; ALTER TABLE {staging} RENAME TO {name}; COMMIT", table.quoted())
            }
            _ => format!("ALTER TABLE {staging} RENAME TO {name}"),
        };
        loaded = match client.batch_execute(&swap).await {
            Ok(()) => return Ok(rows),
            Err(e) => {
                // Ends the swap's transaction, and with it its lock on the old table.
                let _ = client.batch_execute("ROLLBACK").await;
                let mut message = describe(&e);
                if e.code() == Some(&SqlState::DEPENDENT_OBJECTS_STILL_EXIST) {
                    message.push_str(
                        "; drop the dependent views before the load and create them again after it \
                         (a sql or shell task can), or use mode = \"append\" or \"upsert\"",
                    );
                }
                let what = format!("cannot swap in the new {} at {}: {message}", table.display, access.address());
                Err(("cannot swap in the new", CopyError::Task(TaskError::Data(what))))
            }
        };
    }
    // Nothing half-loaded stays (a killed run's is dropped by the next one). From a session of
    // its own: a cancel request still on its way to the loading sessions must not stop it.
    let drop = format!("DROP TABLE IF EXISTS {staging}");
    match access.connect().await {
        Ok(fresh) => drop_quietly(&fresh, &drop).await,
        Err(_) => drop_quietly(&client, &drop).await,
    }
    loaded
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

/// Whether an existing column of `existing` type takes `ty`'s binary values unchanged.
fn takes(existing: &str, ty: PgType) -> bool {
    if let PgType::Numeric { scale, .. } = ty {
        // Any numeric column takes the binary values; the server rounds to the column's scale
        // without a word (so a smaller scale is refused) and fails a value over its precision,
        // naming the column and line.
        return match existing.strip_prefix("numeric") {
            Some("") => true,
            Some(typmod) => typmod
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split_once(',')
                .and_then(|(_, s)| s.trim().parse::<u8>().ok())
                .is_some_and(|has| has >= scale),
            None => false,
        };
    }
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

/// Encoded batches kept ready ahead of the COPY stream (each up to 64k rows, a few MB).
const ENCODED_AHEAD: usize = 3;

/// Streams the artifact's rows into `into` (quoted) through one binary COPY per client, each
/// taking the next batch when it is ready for one. Reading and encoding run on a thread of their
/// own, ahead of the streams, so the server (the bound here) never waits for a batch.
async fn copy(
    ctx: &TaskContext<'_>,
    clients: &[tokio_postgres::Client],
    into: &str,
    list: &str,
    columns: &[(String, PgType)],
    input: &Input,
) -> Result<u64, CopyError> {
    let types: Vec<PgType> = columns.iter().map(|(_, t)| *t).collect();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, TaskError>>(ENCODED_AHEAD);
    let input = input.clone();
    let encoder = std::thread::spawn(move || {
        let batches = match input.batches(BATCH_ROWS) {
            Ok(b) => b,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let mut rows = 0u64;
        for batch in batches {
            let encoded = batch.and_then(|df| {
                let mut data = Vec::new();
                encode_rows(&df, &types, rows, &mut data).map_err(|e| TaskError::Data(e.to_string()))?;
                rows += df.height() as u64;
                Ok(Bytes::from(data))
            });
            let failed = encoded.is_err();
            // A closed channel: the load stopped (failed or cancelled), so does the encoder.
            if tx.blocking_send(encoded).is_err() || failed {
                return;
            }
        }
    });
    let rx = tokio::sync::Mutex::new(rx);
    let statement = format!("COPY {into} ({list}) FROM STDIN (FORMAT binary)");
    // The first failure drops the other streams, which aborts their COPYs.
    let sent = futures::future::try_join_all(clients.iter().map(|c| stream(ctx, c, &statement, &rx))).await;
    drop(rx);
    let _ = encoder.join();
    Ok(sent?.into_iter().sum())
}

async fn drop_quietly(client: &tokio_postgres::Client, statement: &str) {
    let _ = client.batch_execute(statement).await;
}

/// One COPY stream: `statement` on `client`, sending batches from `batches` until it is empty.
async fn stream(
    ctx: &TaskContext<'_>,
    client: &tokio_postgres::Client,
    statement: &str,
    batches: &tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Result<Bytes, TaskError>>>,
) -> Result<u64, CopyError> {
    let sink = client.copy_in(statement).await?;
    futures::pin_mut!(sink);
    sink.send(Bytes::from_static(HEADER)).await?;
    loop {
        let next = batches.lock().await.recv().await;
        let Some(encoded) = next else { break };
        ctx.cancel.check().map_err(CopyError::Task)?;
        sink.send(encoded.map_err(CopyError::Task)?).await?;
    }
    sink.send(Bytes::from_static(TRAILER)).await?;
    Ok(sink.finish().await?)
}
