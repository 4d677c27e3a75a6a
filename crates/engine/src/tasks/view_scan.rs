//! How a DuckDB SQL task reads a `materialize = "view"` source: a table function streams the
//! source's rows into the query as DuckDB asks for them, only the columns the query uses (DuckDB's
//! projection pushdown), with no artifact written or read between them. NDJSON sources are parsed
//! by DuckDB's own scan threads, a chunk at a time, with the fast reader
//! ([`super::ndjson::OnDemand`]), so their unused fields are skipped, not built; other sources
//! come from a thread running Polars' scan of the same columns.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::ThreadId;
use std::time::Instant;

use duckdb::core::{DataChunkHandle, FlatVector, Inserter, LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::{BindInfo, InitInfo, TableFunctionInfo, VTab};
use polars::prelude::*;
use polars_arrow::array::{Array, BinaryViewArray};

use super::ndjson;
use super::source;
use crate::spec::{SourceFormat, SourceTask};
use crate::tasks::{quote_ident, quote_str, CancelFlag, TaskError, TaskLog};

/// The table function's name in every DuckDB instance a task borrows.
const FUNCTION: &str = "polder_view";

/// Rows DuckDB takes per call (its vector size).
const VECTOR: usize = 2048;

/// Frames in flight between Polars' reader and DuckDB.
const IN_FLIGHT: usize = 4;

/// The NDJSON chunk a DuckDB thread takes and parses at a time: a thirty-second of a stored
/// source's. Its columns stay in the core's cache while DuckDB uses them, and DuckDB's
/// aggregation holds memory of its own beside them (bench/README.md: 256 KB to 2 MB ran the
/// 20M-row medallion's view equally fast, 1 MB with the least memory; a reader of its own with
/// 32 MB chunks peaked 0.15 GB higher).
const VIEW_CHUNK_BYTES: usize = 1 << 20;

/// One piece of a view's stream: a frame, `None` at its end, or why the reader stopped. A stream
/// that breaks off without its end (a reader thread that died) is an error, never a short table.
type Piece = Result<Option<DataFrame>, TaskError>;

/// Sources exposed to DuckDB right now, by key: the table function finds its source here.
static EXPOSED: LazyLock<Mutex<HashMap<String, Arc<Exposed>>>> = LazyLock::new(Default::default);
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// A source view as the table function reads it.
struct Exposed {
    id: String,
    src: SourceTask,
    files: Vec<PathBuf>,
    /// The fast reader's plan (None: Polars reads the source).
    planned: Option<ndjson::Planned>,
    schema: SchemaRef,
    cancel: Arc<CancelFlag>,
    /// When it was exposed: the log says how long DuckDB took to ask for the first rows.
    exposed_at: Instant,
    /// What the last read did, for the task log.
    report: Mutex<Vec<String>>,
}

impl Exposed {
    /// What the fast reader read of this source, for the log.
    fn describe(&self, stats: &ndjson::Stats, columns: usize) -> String {
        format!(
            "{} rows, {columns} of {} column(s), {:.1} MB of NDJSON by the fast reader ({} chunk(s) fast, {} by Polars' parser)",
            crate::memory::group_digits(stats.rows),
            self.schema.len(),
            stats.bytes as f64 / 1e6,
            stats.fast_chunks,
            stats.polars_chunks
        )
    }
}

/// A source view exposed to one DuckDB connection as a temporary view; withdrawn on drop.
pub struct Exposure {
    key: String,
    exposed: Arc<Exposed>,
    sql: String,
}

impl Drop for Exposure {
    fn drop(&mut self) {
        EXPOSED.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }
}

impl Exposure {
    /// The statement that made the view (to make it on another connection of the instance).
    pub fn view_sql(&self) -> &str {
        &self.sql
    }

    /// Writes what the reads of the view did to `log`.
    pub fn log_to(&self, log: &TaskLog) {
        for line in self.exposed.report.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            log.line(line);
        }
    }
}

/// Makes source view `id` readable as table `id` by `conn`'s queries.
pub fn expose(
    conn: &duckdb::Connection,
    id: &str,
    src: &SourceTask,
    files: &[PathBuf],
    cancel: &CancelFlag,
    log: &TaskLog,
) -> Result<Exposure, TaskError> {
    register(conn)?;
    let started = Instant::now();
    let planned = if src.format == SourceFormat::Ndjson && !ndjson::disabled_by_env() {
        match ndjson::prepare(src, files, None) {
            Ok(p) => {
                log.line(format!("view '{id}': schema of {} file(s) in {:.2} s", files.len(), started.elapsed().as_secs_f64()));
                Some(p)
            }
            Err(reason) => {
                log.line(format!("view '{id}': Polars' NDJSON reader: {reason}"));
                None
            }
        }
    } else {
        None
    };
    let schema = match &planned {
        Some(p) => p.schema.clone(),
        None => source::lazy(src, files, None)
            .and_then(|mut lf| lf.collect_schema().map_err(|e| TaskError::data("cannot read source schema", e)))
            .map_err(|e| source::locate_malformed(src, files, e))
            .map_err(|e| TaskError::Data(format!("view '{id}': {e}")))?,
    };
    let own_cancel = CancelFlag::new();
    let flag = own_cancel.clone();
    cancel.on_cancel(move || flag.set());
    let exposed = Arc::new(Exposed {
        id: id.to_string(),
        src: src.clone(),
        files: files.to_vec(),
        planned,
        schema,
        cancel: own_cancel,
        exposed_at: Instant::now(),
        report: Mutex::new(Vec::new()),
    });
    let key = format!("{}-{}", std::process::id(), NEXT_KEY.fetch_add(1, Ordering::Relaxed));
    EXPOSED.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), exposed.clone());
    let sql = format!("CREATE TEMP VIEW {} AS SELECT * FROM {FUNCTION}({})", quote_ident(id), quote_str(&key));
    let exposure = Exposure { key, exposed, sql };
    conn.execute_batch(&exposure.sql).map_err(|e| TaskError::data(format!("cannot expose view '{id}' to DuckDB"), e))?;
    Ok(exposure)
}

/// DuckDB's threads for a query that reads a stream: one per core (None), like any query.
///
/// A DuckDB thread whose scan waits for the next frame used to leave the thread that ran the
/// query polling DuckDB's task queue, on the core the reader's threads needed (runs took 8.4 s
/// or 10.5 s at random at 20M rows); queries now run through [`crate::duckdb_raw`], whose
/// thread sleeps instead. `POLDER_VIEW_DUCKDB_THREADS` sets a count, to measure.
pub fn duckdb_threads() -> Option<usize> {
    std::env::var("POLDER_VIEW_DUCKDB_THREADS").ok().and_then(|v| v.parse().ok())
}

/// Registers the table function once per DuckDB instance (pooled instances keep it).
fn register(conn: &duckdb::Connection) -> Result<(), TaskError> {
    let failed = |e: duckdb::Error| TaskError::data("cannot register Polder's view scan with DuckDB", e);
    let known: i64 = conn
        .query_row("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [FUNCTION], |r| r.get(0))
        .map_err(failed)?;
    if known == 0 {
        conn.register_table_function::<ViewScan>(FUNCTION).map_err(failed)?;
    }
    Ok(())
}

/// A column's DuckDB type, or why DuckDB cannot take it from a stream.
fn duckdb_type(dtype: &DataType) -> Result<LogicalTypeId, String> {
    Ok(match dtype {
        DataType::Boolean => LogicalTypeId::Boolean,
        DataType::Int8 => LogicalTypeId::Tinyint,
        DataType::Int16 => LogicalTypeId::Smallint,
        DataType::Int32 => LogicalTypeId::Integer,
        DataType::Int64 => LogicalTypeId::Bigint,
        DataType::UInt8 => LogicalTypeId::UTinyint,
        DataType::UInt16 => LogicalTypeId::USmallint,
        DataType::UInt32 => LogicalTypeId::UInteger,
        DataType::UInt64 => LogicalTypeId::UBigint,
        DataType::Float32 => LogicalTypeId::Float,
        DataType::Float64 => LogicalTypeId::Double,
        DataType::String | DataType::Categorical(..) | DataType::Enum(..) => LogicalTypeId::Varchar,
        DataType::Binary => LogicalTypeId::Blob,
        DataType::Date => LogicalTypeId::Date,
        DataType::Time => LogicalTypeId::Time,
        DataType::Datetime(_, Some(_)) => LogicalTypeId::TimestampTZ,
        DataType::Datetime(TimeUnit::Milliseconds, None) => LogicalTypeId::TimestampMs,
        DataType::Datetime(TimeUnit::Microseconds, None) => LogicalTypeId::Timestamp,
        DataType::Datetime(TimeUnit::Nanoseconds, None) => LogicalTypeId::TimestampNs,
        // Parquet artifacts give DuckDB an all-null column as INTEGER.
        DataType::Null => LogicalTypeId::Integer,
        other => return Err(format!("{other}")),
    })
}

/// The table function.
struct ViewScan;

/// The source a call binds to.
struct Bound {
    exposed: Arc<Exposed>,
}

/// One execution's stream of rows, shared by DuckDB's threads.
struct Streaming {
    /// Projected column names, in output order.
    columns: Vec<PlSmallStr>,
    /// For each output vector, the index in `columns` (None: DuckDB's row id, filled with nulls).
    outputs: Vec<Option<usize>>,
    rows: Rows,
    exposed: Arc<Exposed>,
}

/// Where a stream's rows come from.
enum Rows {
    /// NDJSON chunks each DuckDB thread takes and parses itself, with what each thread holds.
    Pulled(Box<ndjson::OnDemand>, Mutex<HashMap<ThreadId, Pulling>>),
    /// Frames a thread running Polars' reader sends.
    Sent(Mutex<StreamState>),
}

/// One DuckDB thread's parsed chunk and its buffers.
#[derive(Default)]
struct Pulling {
    frame: Option<DataFrame>,
    offset: usize,
    worker: ndjson::Worker,
}

struct StreamState {
    frames: Option<Receiver<Piece>>,
    /// Whether the reader was started: on the first rows asked for, not at init, so a query
    /// DuckDB only plans or describes reads nothing.
    started: bool,
    current: Option<DataFrame>,
    offset: usize,
    failed: Option<String>,
}

impl Drop for Streaming {
    fn drop(&mut self) {
        if let Rows::Sent(state) = &self.rows {
            // The reader stops at its next frame once nobody receives.
            state.lock().unwrap_or_else(|p| p.into_inner()).frames.take();
        }
    }
}

impl VTab for ViewScan {
    type BindData = Bound;
    type InitData = Streaming;

    fn bind(bind: &BindInfo) -> Result<Bound, Box<dyn std::error::Error>> {
        let key = bind.get_parameter(0).to_string();
        let exposed = EXPOSED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
            .ok_or_else(|| format!("no Polder view is exposed as '{key}'"))?;
        for (name, dtype) in exposed.schema.iter() {
            // A column of a type the stream cannot give is declared as text; reading it fails (init).
            let ty = duckdb_type(dtype).unwrap_or(LogicalTypeId::Varchar);
            bind.add_result_column(name, LogicalTypeHandle::from(ty));
        }
        Ok(Bound { exposed })
    }

    fn init(init: &InitInfo) -> Result<Streaming, Box<dyn std::error::Error>> {
        // SAFETY: DuckDB hands back the bind data `bind` set for this call.
        let bound = unsafe { &*init.get_bind_data::<Bound>() };
        let exposed = bound.exposed.clone();
        let width = exposed.schema.len() as u64;
        let mut columns: Vec<PlSmallStr> = Vec::new();
        let mut outputs = Vec::new();
        for index in init.get_column_indices() {
            if index >= width {
                outputs.push(None);
                continue;
            }
            let (name, dtype) = exposed.schema.get_at_index(index as usize).expect("index within the schema");
            if let Err(ty) = duckdb_type(dtype) {
                return Err(format!(
                    "column '{name}' of view '{}' is {ty}, which DuckDB cannot read from a view yet; \
                     set materialize = \"table\" on '{}' (or read the column in a Polars SQL task)",
                    exposed.id, exposed.id
                )
                .into());
            }
            outputs.push(Some(columns.len()));
            columns.push(name.clone());
        }
        if columns.is_empty() {
            // No column is read (`count(*)`), but the rows still have to be counted: one column
            // carries them, unseen.
            let (name, _) = exposed.schema.get_at_index(0).ok_or_else(|| format!("view '{}' has no columns", exposed.id))?;
            columns.push(name.clone());
        }
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        init.set_max_threads(threads as u64);
        let local = !exposed.files.iter().any(|f| crate::s3::is_s3(&f.to_string_lossy()));
        let rows = match &exposed.planned {
            Some(planned) if local => {
                let reader = ndjson::OnDemand::new(&exposed.src, &exposed.files, planned, &columns, VIEW_CHUNK_BYTES)
                    .map_err(|e| format!("view '{}': {e}", exposed.id))?;
                Rows::Pulled(Box::new(reader), Mutex::new(HashMap::new()))
            }
            _ => Rows::Sent(Mutex::new(StreamState { frames: None, started: false, current: None, offset: 0, failed: None })),
        };
        Ok(Streaming { columns, outputs, rows, exposed })
    }

    fn func(func: &TableFunctionInfo<Self>, output: &mut DataChunkHandle) -> Result<(), Box<dyn std::error::Error>> {
        let stream = func.get_init_data();
        let next = match &stream.rows {
            Rows::Pulled(reader, threads) => stream.pull(reader, threads)?,
            Rows::Sent(state) => stream.next_slice(state)?,
        };
        let Some(slice) = next else {
            output.set_len(0);
            return Ok(());
        };
        let rows = slice.height();
        for (vector, source) in stream.outputs.iter().enumerate() {
            let mut out = output.flat_vector(vector);
            match source {
                Some(c) => fill(&mut out, slice.columns()[*c].as_materialized_series(), rows)?,
                None => (0..rows).for_each(|r| out.set_null(r)),
            }
        }
        output.set_len(rows);
        Ok(())
    }

    fn parameters() -> Option<Vec<LogicalTypeHandle>> {
        Some(vec![LogicalTypeHandle::from(LogicalTypeId::Varchar)])
    }

    fn supports_pushdown() -> bool {
        true
    }
}

impl Streaming {
    /// The next rows for one DuckDB vector from the calling thread's chunk, which it parses
    /// when the last one is used up (None: the source is read to its end).
    fn pull(&self, reader: &ndjson::OnDemand, threads: &Mutex<HashMap<ThreadId, Pulling>>) -> Result<Option<DataFrame>, String> {
        let me = std::thread::current().id();
        let mut mine = threads.lock().unwrap_or_else(|p| p.into_inner()).remove(&me).unwrap_or_default();
        let next = self.pull_into(reader, &mut mine);
        // A thread done with the source (or failed) lets its buffers go.
        if matches!(next, Ok(Some(_))) {
            threads.lock().unwrap_or_else(|p| p.into_inner()).insert(me, mine);
        }
        next
    }

    /// [`Self::pull`] with the calling thread's state; writes the report line once the source is read.
    fn pull_into(&self, reader: &ndjson::OnDemand, mine: &mut Pulling) -> Result<Option<DataFrame>, String> {
        loop {
            if let Some(df) = &mine.frame {
                if mine.offset < df.height() {
                    let slice = df.slice(mine.offset as i64, VECTOR);
                    mine.offset += slice.height();
                    return Ok(Some(slice));
                }
            }
            mine.frame = None;
            if self.exposed.cancel.is_set() {
                return Err("cancelled".into());
            }
            let Some(pulled) = reader.next(&mut mine.worker).map_err(|e| format!("view '{}': {e}", self.exposed.id))? else {
                if let Some((stats, took)) = reader.summary() {
                    let line = format!(
                        "view '{}' streamed into DuckDB in {:.2} s by its threads: {}",
                        self.exposed.id,
                        took.as_secs_f64(),
                        self.exposed.describe(&stats, self.columns.len())
                    );
                    self.exposed.report.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                }
                return Ok(None);
            };
            let mut df = pulled.frame;
            // One chunk per column: each vector is a slice of one array.
            df.rechunk_mut();
            mine.frame = Some(df);
            mine.offset = 0;
        }
    }

    /// Starts the reader thread; its frames come through the returned channel.
    fn start(&self) -> std::io::Result<Receiver<Piece>> {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let reading = self.exposed.clone();
        let wanted = self.columns.clone();
        std::thread::Builder::new().name(format!("view {}", self.exposed.id)).spawn(move || {
            let started = Instant::now();
            let asked_after = started.duration_since(reading.exposed_at).as_secs_f64();
            let send = |df: DataFrame| tx.send(Ok(Some(df))).map_err(|_| TaskError::Cancelled);
            match produce(&reading, &wanted, send) {
                Ok(how) => {
                    let line = format!(
                        "view '{}' streamed into DuckDB in {:.2} s (asked for {asked_after:.2} s after it was exposed): {how}",
                        reading.id,
                        started.elapsed().as_secs_f64()
                    );
                    reading.report.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                    let _ = tx.send(Ok(None));
                }
                // DuckDB stopped reading (a LIMIT, an error elsewhere, a cancel): nothing to say.
                Err(TaskError::Cancelled) => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        })?;
        Ok(rx)
    }

    /// The next rows for one DuckDB vector from the reader thread's frames (None: the view is
    /// read to its end).
    fn next_slice(&self, state: &Mutex<StreamState>) -> Result<Option<DataFrame>, String> {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        if !state.started {
            state.started = true;
            state.frames = Some(self.start().map_err(|e| e.to_string())?);
        }
        loop {
            if let Some(message) = &state.failed {
                return Err(message.clone());
            }
            if let Some(df) = &state.current {
                if state.offset < df.height() {
                    let slice = df.slice(state.offset as i64, VECTOR);
                    state.offset += slice.height();
                    return Ok(Some(slice));
                }
            }
            let Some(frames) = &state.frames else { return Ok(None) };
            match frames.recv() {
                Ok(Ok(Some(df))) => {
                    let mut df = df.select(self.columns.iter().cloned()).map_err(|e| e.to_string())?;
                    // One chunk per column: each vector is a slice of one array.
                    df.rechunk_mut();
                    state.current = Some(df);
                    state.offset = 0;
                }
                Ok(Err(e)) => {
                    let message = if self.exposed.cancel.is_set() {
                        "cancelled".to_string()
                    } else {
                        format!("view '{}': {e}", self.exposed.id)
                    };
                    state.failed = Some(message);
                }
                Ok(Ok(None)) => {
                    state.frames = None;
                    state.current = None;
                }
                Err(_) => {
                    state.failed = Some(if self.exposed.cancel.is_set() {
                        "cancelled".to_string()
                    } else {
                        format!("view '{}': its reader stopped before the end of the source", self.exposed.id)
                    });
                }
            }
        }
    }
}

/// Reads `columns` of the exposed source with Polars' reader into `send`, frame by frame; says
/// how it read.
fn produce(
    exposed: &Exposed,
    columns: &[PlSmallStr],
    mut send: impl FnMut(DataFrame) -> Result<(), TaskError>,
) -> Result<String, TaskError> {
    exposed.cancel.check()?;
    let selected: Vec<Expr> = columns.iter().map(|c| col(c.clone())).collect();
    let located = |e: TaskError| source::locate_malformed(&exposed.src, &exposed.files, e);
    // In batches on Polars' streaming engine, in order: memory stays bounded however large the
    // source (collecting it whole held every row before the first reached DuckDB).
    let batches = source::lazy(&exposed.src, &exposed.files, None)
        .and_then(|lf| {
            lf.select(selected)
                .collect_batches(Engine::Streaming, true, None, false)
                .map_err(|e| TaskError::data("cannot read source", e))
        })
        .map_err(located)?;
    let mut rows = 0;
    for batch in batches {
        let df = batch.map_err(|e| located(TaskError::data("cannot read source", e)))?;
        rows += df.height();
        send(df)?;
    }
    Ok(format!(
        "{} rows, {} of {} column(s), by Polars' reader",
        crate::memory::group_digits(rows as u64),
        columns.len(),
        exposed.schema.len()
    ))
}

/// Copies `rows` values of `s` into DuckDB's vector.
fn fill(out: &mut FlatVector, s: &Series, rows: usize) -> Result<(), String> {
    macro_rules! numbers {
        ($ca:expr, $t:ty) => {{
            let ca = $ca;
            let arr = ca.downcast_iter().next().ok_or("empty column")?;
            // SAFETY: the vector holds `VECTOR` values of the column's DuckDB type, which has `$t`'s layout.
            let dst = unsafe { out.as_mut_slice_with_len::<$t>(rows) };
            dst.copy_from_slice(&arr.values()[..rows]);
            if let Some(valid) = arr.validity() {
                for (r, ok) in valid.iter().enumerate() {
                    if !ok {
                        out.set_null(r);
                    }
                }
            }
        }};
    }
    let e = |e: PolarsError| e.to_string();
    match s.dtype() {
        DataType::Boolean => {
            let ca = s.bool().map_err(e)?;
            // SAFETY: DuckDB's BOOLEAN is one byte per value.
            let dst = unsafe { out.as_mut_slice_with_len::<bool>(rows) };
            let mut nulls = Vec::new();
            for (r, v) in ca.iter().enumerate() {
                match v {
                    Some(v) => dst[r] = v,
                    None => nulls.push(r),
                }
            }
            nulls.into_iter().for_each(|r| out.set_null(r));
        }
        DataType::Int8 => numbers!(s.i8().map_err(e)?, i8),
        DataType::Int16 => numbers!(s.i16().map_err(e)?, i16),
        DataType::Int32 => numbers!(s.i32().map_err(e)?, i32),
        DataType::Int64 => numbers!(s.i64().map_err(e)?, i64),
        DataType::UInt8 => numbers!(s.u8().map_err(e)?, u8),
        DataType::UInt16 => numbers!(s.u16().map_err(e)?, u16),
        DataType::UInt32 => numbers!(s.u32().map_err(e)?, u32),
        DataType::UInt64 => numbers!(s.u64().map_err(e)?, u64),
        DataType::Float32 => numbers!(s.f32().map_err(e)?, f32),
        DataType::Float64 => numbers!(s.f64().map_err(e)?, f64),
        // Days since 1970-01-01 in both.
        DataType::Date => numbers!(s.date().map_err(e)?.physical(), i32),
        DataType::Datetime(unit, Some(_)) => {
            // DuckDB's TIMESTAMPTZ is microseconds (UTC, as Polars keeps the instant).
            let us = s.datetime().map_err(e)?.physical().clone();
            let us = match unit {
                TimeUnit::Milliseconds => &us * 1000,
                TimeUnit::Microseconds => us,
                TimeUnit::Nanoseconds => us.apply_values(|v| v.div_euclid(1000)),
            };
            numbers!(&us, i64)
        }
        DataType::Datetime(..) => numbers!(s.datetime().map_err(e)?.physical(), i64),
        // Polars' TIME is nanoseconds since midnight, DuckDB's microseconds.
        DataType::Time => numbers!(&s.time().map_err(e)?.physical().apply_values(|v| v / 1000), i64),
        DataType::Null => (0..rows).for_each(|r| out.set_null(r)),
        DataType::String | DataType::Categorical(..) | DataType::Enum(..) => {
            let strings = s.cast(&DataType::String).map_err(e)?.rechunk();
            let bytes = strings.str().map_err(e)?.as_binary();
            let arr = bytes.downcast_iter().next().ok_or("empty column")?;
            fill_views(out, arr, rows);
        }
        DataType::Binary => fill_views(out, s.binary().map_err(e)?.downcast_iter().next().ok_or("empty column")?, rows),
        other => return Err(format!("cannot stream a {other} column into DuckDB")),
    }
    Ok(())
}

/// Copies string or binary values: a value of up to 12 bytes is the same 16 bytes in Arrow's
/// views and DuckDB's `string_t` (length, then the bytes, zero-padded), so those are copied as
/// they are; longer ones are handed to DuckDB, which copies them into the vector's own heap.
fn fill_views(out: &mut FlatVector, arr: &BinaryViewArray, rows: usize) {
    let views = &arr.views()[..rows];
    // SAFETY: a VARCHAR/BLOB vector holds `VECTOR` 16-byte `string_t`s; `View` is 16 bytes.
    unsafe {
        let dst = out.as_mut_ptr::<u8>();
        std::ptr::copy_nonoverlapping(views.as_ptr().cast::<u8>(), dst, rows * std::mem::size_of::<polars_arrow::array::View>());
    }
    let validity = arr.validity();
    for (r, view) in views.iter().enumerate() {
        if validity.is_some_and(|v| !v.get_bit(r)) {
            out.set_null(r);
        } else if view.length > 12 {
            // SAFETY: `r` is within the array.
            out.insert(r, unsafe { arr.value_unchecked(r) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parquet_source_streams_in_batches_in_order_not_collected_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.parquet");
        let n = 600_000i64;
        let mut df = df!("id" => (0..n).collect::<Vec<_>>(), "g" => (0..n).map(|i| i % 7).collect::<Vec<_>>()).unwrap();
        let file = std::fs::File::create(&path).unwrap();
        ParquetWriter::new(file).with_row_group_size(Some(50_000)).finish(&mut df).unwrap();
        let src = SourceTask::new(SourceFormat::Parquet, path.to_string_lossy());
        let files = vec![path];
        let schema = source::lazy(&src, &files, None).unwrap().collect_schema().unwrap();
        let exposed = Exposed {
            id: "big".into(),
            src,
            files,
            planned: None,
            schema,
            cancel: CancelFlag::new(),
            exposed_at: Instant::now(),
            report: Mutex::new(Vec::new()),
        };
        let mut frames = Vec::new();
        let how = produce(&exposed, &["id".into()], |df| {
            frames.push(df);
            Ok(())
        })
        .unwrap();
        assert!(how.starts_with("600,000 rows, 1 of 2 column(s)"), "{how}");
        assert!(frames.len() > 1, "the source came in one frame");
        let ids: Vec<i64> =
            frames.iter().flat_map(|f| f.column("id").unwrap().i64().unwrap().into_no_null_iter().collect::<Vec<_>>()).collect();
        assert_eq!(ids, (0..n).collect::<Vec<_>>(), "rows in the source's order");
    }

    /// A view's NDJSON pulled by one thread comes in file order and is reported once read; a
    /// cancel stops a pulling thread at its next chunk, and a stream cut off is not reported.
    #[test]
    fn threads_pulling_a_view_stop_at_their_next_chunk_once_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        let lines: String = (0..20_000).map(|id| format!("{{\"id\": {id}, \"tag\": \"t{}\"}}\n", id % 7)).collect();
        std::fs::write(&path, lines).unwrap();
        let src = SourceTask::new(SourceFormat::Ndjson, path.to_string_lossy());
        let files = vec![path];
        let stream = || {
            let planned = ndjson::prepare(&src, &files, None).unwrap();
            let columns: Vec<PlSmallStr> = vec!["id".into()];
            // 4 KB chunks: ~170 rows each, fewer than a DuckDB vector.
            let reader = ndjson::OnDemand::new(&src, &files, &planned, &columns, 4096).unwrap();
            let exposed = Arc::new(Exposed {
                id: "events".into(),
                src: src.clone(),
                files: files.clone(),
                schema: planned.schema.clone(),
                planned: Some(planned),
                cancel: CancelFlag::new(),
                exposed_at: Instant::now(),
                report: Mutex::new(Vec::new()),
            });
            Streaming {
                columns,
                outputs: vec![Some(0)],
                rows: Rows::Pulled(Box::new(reader), Mutex::new(HashMap::new())),
                exposed,
            }
        };
        let pull = |s: &Streaming| match &s.rows {
            Rows::Pulled(reader, threads) => s.pull(reader, threads),
            Rows::Sent(_) => unreachable!(),
        };

        let whole = stream();
        let mut ids = Vec::new();
        while let Some(df) = pull(&whole).unwrap() {
            ids.extend(df.column("id").unwrap().i64().unwrap().into_no_null_iter());
        }
        assert_eq!(ids, (0..20_000).collect::<Vec<i64>>(), "one thread pulls in file order");
        let report = whole.exposed.report.lock().unwrap().clone();
        assert_eq!(report.len(), 1, "{report:?}");
        assert!(report[0].contains("20,000 rows, 1 of 2 column(s)"), "{report:?}");

        let cut = stream();
        let first = pull(&cut).unwrap().unwrap();
        assert_eq!(first.column("id").unwrap().i64().unwrap().get(0), Some(0));
        cut.exposed.cancel.set();
        assert_eq!(pull(&cut).unwrap_err(), "cancelled");
        assert!(cut.exposed.report.lock().unwrap().is_empty(), "a stream cut off is reported as read");
    }
}
