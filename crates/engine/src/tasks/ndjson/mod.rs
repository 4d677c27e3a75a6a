//! The fast NDJSON reader of `source` tasks: files are cut into chunks at line ends, worker
//! threads parse the chunks straight into column builders ([`parse`], reading only the fields
//! the schema holds, with [`scan`]), and the frames come back in file order to one consumer (the
//! Parquet artifact writer), with a bounded number of chunks in flight, so memory stays flat
//! however large the input.
//!
//! The result is the frame Polars' reader gives for the same task: the schema is Polars' own
//! inference (per file when paths add columns, combined as `source::scan` combines them), a
//! chunk the fast parser does not fill exactly like Polars is re-read by Polars' parser, and
//! sources it does not cover at all (compressed files, files that disagree on nested fields,
//! previews with a row limit) are left to Polars' reader by [`Outcome::NotCovered`].
//!
//! A DuckDB query over a source view reads the same chunks differently: its own scan threads
//! take them one at a time and parse them ([`OnDemand`]), only the columns the query uses.

mod infer;
mod on_demand;
pub mod parse;
pub mod row_group;
mod scan;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use crate::fsutil::WritebackFile;
use crate::s3::{self, S3Access};
use crate::spec::SourceTask;
use crate::tasks::source::{flatten, has_literal_columns, literal_columns, scan_files_with, FLATTEN_DEPTH, INFER_ROWS};
use crate::tasks::{CancelFlag, TaskError};

pub use on_demand::{OnDemand, Pulled, Worker};

/// Bytes per chunk: large enough that a chunk is a reasonable Parquet row group (~100k+ rows of
/// typical logs), small enough that a few in flight per thread stay cheap.
pub const CHUNK_BYTES: usize = 32 << 20;

/// Set to `polars` to read NDJSON sources with Polars' reader (to compare, or to rule this one out).
pub const READER_ENV: &str = "POLDER_NDJSON_READER";

/// How the reader runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bytes per chunk (a line longer than this makes a longer chunk).
    pub chunk_bytes: usize,
    /// Parsing threads.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Options { chunk_bytes: CHUNK_BYTES, threads }
    }
}

/// What the reader did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Rows read.
    pub rows: u64,
    /// Bytes of input.
    pub bytes: u64,
    /// Chunks the fast parser filled.
    pub fast_chunks: u64,
    /// Chunks re-read with Polars' parser (a conversion, or an error to report).
    pub polars_chunks: u64,
}

/// Whether the reader read the source.
#[derive(Debug)]
pub enum Outcome {
    /// Read: every frame went to the consumer.
    Read(Stats),
    /// Left to Polars' reader, for this reason (nothing was consumed).
    NotCovered(String),
}

/// Whether the environment asks for Polars' reader instead.
pub fn disabled_by_env() -> bool {
    std::env::var(READER_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("polars"))
}

/// Reads the source into a Parquet file at `output` (LZ4, one row group per chunk). The chunks'
/// pages are encoded on the parsing threads ([`row_group`]); this thread only appends them.
pub fn write_parquet(
    src: &SourceTask,
    files: &[PathBuf],
    s3: Option<&S3Access>,
    output: &Path,
    options: &Options,
    cancel: &CancelFlag,
) -> Result<Outcome, TaskError> {
    let cannot_write = |e: PolarsError| TaskError::data(format!("cannot write {}", output.display()), e);
    let mut writer: Option<row_group::Writer<WritebackFile>> = None;
    let encode = |df: DataFrame| row_group::encode(df).map_err(cannot_write);
    let plans = match plan(src, files, s3) {
        Ok(p) => p,
        Err(reason) => return Ok(Outcome::NotCovered(reason)),
    };
    let outcome = read_with(src, files, s3, &plans, options, cancel, &encode, &mut |encoded| {
        if writer.is_none() {
            if let Some(dir) = output.parent() {
                std::fs::create_dir_all(dir).map_err(|e| TaskError::data(format!("cannot create {}", dir.display()), e))?;
            }
            let file =
                std::fs::File::create(output).map_err(|e| TaskError::data(format!("cannot create {}", output.display()), e))?;
            writer = Some(row_group::Writer::new(WritebackFile::new(file), encoded.schema()).map_err(cannot_write)?);
        }
        writer.as_mut().expect("created above").write(&encoded).map_err(cannot_write)
    })?;
    if let Some(w) = writer {
        w.finish().map_err(cannot_write)?;
    }
    Ok(outcome)
}

/// Reads the source into one frame (for tests and small inputs).
pub fn read_frame(
    src: &SourceTask,
    files: &[PathBuf],
    s3: Option<&S3Access>,
    options: &Options,
) -> Result<(Outcome, Option<DataFrame>), TaskError> {
    let mut out: Option<DataFrame> = None;
    let outcome = read(src, files, s3, options, &CancelFlag::default(), &mut |df: DataFrame| {
        match &mut out {
            None => out = Some(df),
            Some(acc) => {
                acc.vstack_mut_owned(df).map_err(|e| TaskError::data("cannot combine chunks", e))?;
            }
        }
        Ok(())
    })?;
    Ok((outcome, out))
}

/// A source ready to read: how each file's chunks become frames, and the frames' schema.
pub struct Planned {
    files: Vec<FilePlan>,
    /// The schema of the frames the reader gives (flattened, with the path's columns).
    pub schema: SchemaRef,
}

/// Plans reading the source (Polars infers the files' schemas), or says why the fast reader
/// leaves it to Polars.
pub fn prepare(src: &SourceTask, files: &[PathBuf], s3: Option<&S3Access>) -> Result<Planned, String> {
    let plans = plan(src, files, s3)?;
    let first = &plans[0];
    // The shape one chunk gets in `frame`, applied to no rows.
    let mut lf = DataFrame::empty_with_schema(&first.schema).lazy();
    if !first.literals.is_empty() {
        lf = lf.with_columns(first.literals.clone());
    }
    if let Some(align) = &first.align {
        lf = lf.select(align.clone());
    }
    if src.flatten {
        lf = flatten(lf, src.flatten_separator.as_deref()).map_err(|e| e.to_string())?;
    }
    let schema = lf.collect_schema().map_err(|e| format!("schema inference: {e}"))?;
    Ok(Planned { files: plans, schema })
}

/// How one file's chunks become frames of the source's final shape.
struct FilePlan {
    /// The file's own schema, as Polars infers it (or the first file's, for one multi-file scan).
    schema: SchemaRef,
    /// Whether the fast parser fills every column.
    fast: bool,
    /// The path's literal columns.
    literals: Vec<Expr>,
    /// Casts and null columns that give the file the combined schema (None: it has it).
    align: Option<Vec<Expr>>,
    /// `literals` evaluated (one row), to shape chunks without a query ([`shape`]); None if
    /// they could not be (the query then reports why).
    literal_row: Option<DataFrame>,
}

/// `literals` evaluated on one row.
fn literal_row(literals: &[Expr]) -> Option<DataFrame> {
    if literals.is_empty() {
        return Some(DataFrame::empty());
    }
    df!("one" => [0i32]).ok()?.lazy().select(literals).collect().ok()
}

impl FilePlan {
    /// This plan cut to what `columns` of the final frame need: struct fields that flatten into
    /// no wanted column and top-level fields nobody reads leave the parsed schema.
    fn project(&self, src: &SourceTask, columns: &[PlSmallStr]) -> FilePlan {
        let wanted: std::collections::HashSet<&str> = columns.iter().map(PlSmallStr::as_str).collect();
        let sep = src.flatten_separator.as_deref();
        let mut schema: Schema = self
            .schema
            .iter()
            .filter_map(|(name, dtype)| cut(name.as_str(), dtype, src.flatten, sep, &wanted).map(|d| (name.clone(), d)))
            .collect();
        if schema.is_empty() {
            // Only path columns are wanted, but rows must still be counted: keep one field.
            if let Some((name, dtype)) = self.schema.iter().find(|(_, d)| !d.is_nested()).or_else(|| self.schema.iter().next()) {
                schema.insert(name.clone(), dtype.clone());
            }
        }
        let literal_names: Vec<PlSmallStr> = self.literals.iter().filter_map(|e| e.clone().meta().output_name().ok()).collect();
        let align = self.align.as_ref().map(|exprs| {
            exprs
                .iter()
                .filter(|e| {
                    (*e).clone()
                        .meta()
                        .output_name()
                        .is_ok_and(|n| schema.contains(&n) || literal_names.contains(&n) || !self.schema.contains(&n))
                })
                .cloned()
                .collect()
        });
        let fast = parse::supported(&schema);
        FilePlan { schema: Arc::new(schema), fast, literals: self.literals.clone(), align, literal_row: self.literal_row.clone() }
    }
}

/// The part of a field (named `name` in the final frame) that wanted columns come from.
fn cut(
    name: &str,
    dtype: &DataType,
    flatten: bool,
    sep: Option<&str>,
    wanted: &std::collections::HashSet<&str>,
) -> Option<DataType> {
    match dtype {
        DataType::Struct(fields) if flatten => {
            let kept: Vec<Field> = fields
                .iter()
                .filter_map(|f| {
                    // `unnest` names a field `{struct}{sep}{field}` with a separator, else `{field}`.
                    let inner = match sep {
                        Some(s) => format!("{name}{s}{}", f.name),
                        None => f.name.to_string(),
                    };
                    cut(&inner, &f.dtype, flatten, sep, wanted).map(|d| Field::new(f.name.clone(), d))
                })
                .collect();
            (!kept.is_empty()).then_some(DataType::Struct(kept))
        }
        _ => wanted.contains(name).then(|| dtype.clone()),
    }
}

/// The file plans, or why the source is left to Polars.
fn plan(src: &SourceTask, files: &[PathBuf], s3: Option<&S3Access>) -> Result<Vec<FilePlan>, String> {
    if files.is_empty() {
        return Err("no files".into());
    }
    for f in files {
        if let Some(kind) = compressed(f) {
            return Err(format!("{} is {kind}-compressed", f.display()));
        }
    }
    let infer = |lf: &mut LazyFrame| lf.collect_schema().map_err(|e| format!("schema inference: {e}"));
    if !has_literal_columns(src) {
        // One scan over all files: every file is read with the first one's schema.
        let known = known_schema(src, &files[0]);
        let schema = infer(&mut scan_files_with(src, files, s3, known).map_err(|e| e.to_string())?)?;
        let fast = parse::supported(&schema);
        return Ok(files
            .iter()
            .map(|_| FilePlan { schema: schema.clone(), fast, literals: Vec::new(), align: None, literal_row: literal_row(&[]) })
            .collect());
    }
    // One scan per file, combined by name with common types (as `source::scan` does).
    let literals = literal_columns(src, files).map_err(|e| e.to_string())?;
    let mut scans = Vec::with_capacity(files.len());
    let mut schemas = Vec::with_capacity(files.len());
    let mut shaped: Vec<SchemaRef> = Vec::with_capacity(files.len());
    for (schema, shape, lf) in infer_each(src, files, &literals, s3)? {
        schemas.push(schema);
        shaped.push(shape);
        scans.push(lf);
    }
    let args = UnionArgs { parallel: true, rechunk: false, to_supertypes: true, ..Default::default() };
    let combined = infer(&mut concat_lf_diagonal(scans, args).map_err(|e| e.to_string())?)?;
    let mut plans = Vec::with_capacity(files.len());
    for ((schema, shaped), literals) in schemas.into_iter().zip(shaped).zip(literals) {
        let align = if *shaped == *combined {
            None
        } else {
            let mut exprs = Vec::with_capacity(combined.len());
            for (name, dtype) in combined.iter() {
                exprs.push(match shaped.get(name) {
                    Some(have) if have == dtype => col(name.clone()),
                    Some(have) if have.is_nested() || dtype.is_nested() => {
                        return Err(format!("files differ in the fields of `{name}` ({have} vs {dtype})"));
                    }
                    Some(_) => col(name.clone()).cast(dtype.clone()),
                    None => lit(NULL).cast(dtype.clone()).alias(name.clone()),
                });
            }
            Some(exprs)
        };
        let fast = parse::supported(&schema);
        let literal_row = literal_row(&literals);
        plans.push(FilePlan { schema, fast, literals, align, literal_row });
    }
    Ok(plans)
}

/// Each file's schema as Polars infers it, its schema with `literals` added, and that scan.
/// Polars infers a file from its first rows on one thread (~12k instructions a row), so the
/// files are spread over the cores; the first failure in file order is returned.
fn infer_each(
    src: &SourceTask,
    files: &[PathBuf],
    literals: &[Vec<Expr>],
    s3: Option<&S3Access>,
) -> Result<Vec<(SchemaRef, SchemaRef, LazyFrame)>, String> {
    let infer = |lf: &mut LazyFrame| lf.collect_schema().map_err(|e| format!("schema inference: {e}"));
    let one = |f: &PathBuf, cols: &Vec<Expr>| {
        let known = known_schema(src, f);
        let mut lf = scan_files_with(src, std::slice::from_ref(f), s3, known).map_err(|e| e.to_string())?;
        let schema = infer(&mut lf)?;
        let mut lf = lf.with_columns(cols.clone());
        let shaped = infer(&mut lf)?;
        Ok((schema, shaped, lf))
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, files.len().max(1));
    let per_thread = files.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<_>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(per_thread)
            .zip(literals.chunks(per_thread))
            .map(|(files, literals)| {
                let one = &one;
                scope.spawn(move || files.iter().zip(literals).map(|(f, cols)| one(f, cols)).collect())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("schema inference panicked".into()))).collect()
    });
    let mut all = Vec::with_capacity(files.len());
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

/// `file`'s schema as Polars would infer it, found the fast way ([`infer`]) for local files.
fn known_schema(src: &SourceTask, file: &Path) -> Option<SchemaRef> {
    if s3::is_s3(&file.to_string_lossy()) {
        return None;
    }
    let rows = std::num::NonZeroUsize::new(src.infer_schema_rows.unwrap_or(INFER_ROWS));
    infer::schema_of(file, rows).map(Arc::new)
}

/// The compression a local file starts with (Polars' reader decompresses these itself).
fn compressed(path: &Path) -> Option<&'static str> {
    let name = path.to_string_lossy();
    if name.ends_with(".gz") {
        return Some("gzip");
    }
    if name.ends_with(".zst") {
        return Some("zstd");
    }
    if s3::is_s3(&name) {
        return None;
    }
    let mut head = [0u8; 4];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    magic(&head[..n])
}

fn magic(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else {
        None
    }
}

/// A piece of one file: whole lines.
struct Chunk {
    seq: u64,
    file: usize,
    /// Byte offset in the file (to count lines when one is reported).
    offset: u64,
    data: Arc<Vec<u8>>,
    range: std::ops::Range<usize>,
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        &self.data[self.range.clone()]
    }
}

/// A chunk's sequence number, input bytes and what became of it.
type Produced<T> = (u64, u64, Prepared<T>);

/// A chunk's rows, its prepared frame (none when it has no rows) and whether the fast parser
/// filled it.
type Prepared<T> = Result<(usize, Option<T>, bool), TaskError>;

/// A chunk's frame and whether the fast parser filled it.
type Parsed = Result<(DataFrame, bool), TaskError>;

/// Reads the source, handing its frames in order to `consume`.
pub fn read(
    src: &SourceTask,
    files: &[PathBuf],
    s3: Option<&S3Access>,
    options: &Options,
    cancel: &CancelFlag,
    consume: &mut dyn FnMut(DataFrame) -> Result<(), TaskError>,
) -> Result<Outcome, TaskError> {
    let plans = match plan(src, files, s3) {
        Ok(p) => p,
        Err(reason) => return Ok(Outcome::NotCovered(reason)),
    };
    read_with(src, files, s3, &plans, options, cancel, &Ok, consume)
}

/// Reads the source as `plans` say: each frame goes through `prepare` on its parsing thread,
/// then to `consume` in file order.
#[allow(clippy::too_many_arguments)]
fn read_with<T: Send>(
    src: &SourceTask,
    files: &[PathBuf],
    s3: Option<&S3Access>,
    plans: &[FilePlan],
    options: &Options,
    cancel: &CancelFlag,
    prepare: &(dyn Fn(DataFrame) -> Result<T, TaskError> + Sync),
    consume: &mut dyn FnMut(T) -> Result<(), TaskError>,
) -> Result<Outcome, TaskError> {
    let threads = options.threads.max(1);
    let in_flight = 2 * threads + 2;
    let (slot_tx, slot_rx) = mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        slot_tx.send(()).expect("capacity");
    }
    let (work_tx, work_rx) = mpsc::channel::<Chunk>();
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Produced<T>>();
    // Parsed chunks' buffers go back to the reader: fresh 32 MB allocations are fresh pages the
    // kernel must zero, a noticeable share of the reader's time.
    let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
    let mut stats = Stats::default();

    std::thread::scope(|scope| -> Result<Outcome, TaskError> {
        let reader_done = done_tx.clone();
        scope.spawn(move || {
            let mut seq = 0u64;
            let mut buffers = Buffers { spare: spare_rx, kept: None };
            for (i, f) in files.iter().enumerate() {
                let mut emit = |data: Arc<Vec<u8>>, range: std::ops::Range<usize>, offset: u64| -> bool {
                    // Wait for a free slot; none comes back once the consumer has stopped.
                    if cancel.is_set() || slot_rx.recv().is_err() {
                        return false;
                    }
                    let chunk = Chunk { seq, file: i, offset, data, range };
                    seq += 1;
                    work_tx.send(chunk).is_ok()
                };
                let read = match s3 {
                    Some(access) if s3::is_s3(&f.to_string_lossy()) => split_object(access, f, options.chunk_bytes, &mut emit),
                    _ => split_file(f, options.chunk_bytes, &mut buffers, &mut emit),
                };
                match read {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        let _ = reader_done.send((seq, 0, Err(e)));
                        return;
                    }
                }
            }
        });
        for _ in 0..threads {
            let done = done_tx.clone();
            let spare = spare_tx.clone();
            let work_rx = &work_rx;
            scope.spawn(move || {
                let mut scratch = parse::Scratch::default();
                loop {
                    let next = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(chunk) = next else { break };
                    let out = frame(src, files, &plans[chunk.file], None, &chunk, &mut scratch).and_then(|(df, fast)| {
                        let rows = df.height();
                        let prepared = if rows > 0 { Some(prepare(df)?) } else { None };
                        Ok((rows, prepared, fast))
                    });
                    let (seq, len) = (chunk.seq, chunk.range.len() as u64);
                    if let Ok(buf) = Arc::try_unwrap(chunk.data) {
                        let _ = spare.send(buf);
                    }
                    if done.send((seq, len, out)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        drop(spare_tx);
        // The consumer: frames in sequence order, each slot given back once consumed.
        let mut pending: BTreeMap<u64, (u64, Prepared<T>)> = BTreeMap::new();
        let mut next = 0u64;
        let mut consumed_rows = false;
        let result = (|| -> Result<(), TaskError> {
            for (seq, bytes, out) in done_rx.iter() {
                pending.insert(seq, (bytes, out));
                while let Some((bytes, out)) = pending.remove(&next) {
                    cancel.check()?;
                    let (rows, prepared, fast) = out?;
                    if fast {
                        stats.fast_chunks += 1;
                    } else {
                        stats.polars_chunks += 1;
                    }
                    stats.rows += rows as u64;
                    stats.bytes += bytes;
                    if let Some(prepared) = prepared {
                        consume(prepared)?;
                        consumed_rows = true;
                    }
                    next += 1;
                    let _ = slot_tx.send(());
                }
            }
            cancel.check()
        })();
        // Unblock the reader (no more slots) and the workers (no more receiver) on every path.
        drop(slot_tx);
        drop(done_rx);
        result?;
        if !consumed_rows {
            return Ok(Outcome::NotCovered("no rows".into()));
        }
        Ok(Outcome::Read(stats))
    })
}

/// Parses one chunk (fast, else with Polars' parser) and gives it the source's final shape
/// (only `columns`, if given).
fn frame(
    src: &SourceTask,
    files: &[PathBuf],
    plan: &FilePlan,
    columns: Option<&[PlSmallStr]>,
    chunk: &Chunk,
    scratch: &mut parse::Scratch,
) -> Parsed {
    let bytes = chunk.bytes();
    let fast = if plan.fast { parse::parse_chunk(bytes, &plan.schema, scratch).ok() } else { None };
    let was_fast = fast.is_some();
    let df = match fast {
        Some(df) => df,
        None => match polars::io::ndjson::core::parse_ndjson(bytes, None, &plan.schema, false) {
            Ok(df) => df,
            Err(e) => return Err(locate(&files[chunk.file], chunk, &plan.schema, e)),
        },
    };
    let shape_error = |e: PolarsError| TaskError::data(format!("cannot shape {}", files[chunk.file].display()), e);
    if let (Some(row), None) = (&plan.literal_row, &plan.align) {
        return Ok((shape(df, row, src, columns).map_err(shape_error)?, was_fast));
    }
    let mut lf = df.lazy();
    if !plan.literals.is_empty() {
        lf = lf.with_columns(plan.literals.clone());
    }
    if let Some(align) = &plan.align {
        lf = lf.select(align.clone());
    }
    if src.flatten {
        lf = flatten(lf, src.flatten_separator.as_deref())?;
    }
    if let Some(cols) = columns {
        lf = lf.select(cols.iter().map(|c| col(c.clone())).collect::<Vec<_>>());
    }
    let df = lf.collect().map_err(shape_error)?;
    Ok((df, was_fast))
}

/// A parsed chunk given the source's final shape (only `columns`, if given) by the steps the
/// query in `frame` takes (the path's literal columns, then structs flattened), on the frame
/// itself: a view's chunks are small and many, and planning that query for each (on Polars'
/// thread pool) made the medallion's view run 4% slower.
fn shape(
    mut df: DataFrame,
    literal_row: &DataFrame,
    src: &SourceTask,
    columns: Option<&[PlSmallStr]>,
) -> PolarsResult<DataFrame> {
    let height = df.height();
    for c in literal_row.columns() {
        df.with_column(c.new_from_index(0, height))?;
    }
    if src.flatten {
        for _ in 0..FLATTEN_DEPTH {
            let structs: Vec<PlSmallStr> =
                df.columns().iter().filter(|c| matches!(c.dtype(), DataType::Struct(_))).map(|c| c.name().clone()).collect();
            if structs.is_empty() {
                break;
            }
            df = df.unnest(structs, src.flatten_separator.as_deref())?;
        }
    }
    match columns {
        Some(cols) => df.select(cols.iter().cloned()),
        None => Ok(df),
    }
}

/// The first line of the local `files` that is not a JSON object, as `file:line: what; what to do`
/// (for when Polars refuses a source without saying where, e.g. while inferring its schema).
pub fn first_malformed(files: &[PathBuf]) -> Option<String> {
    let mut copy = Vec::new();
    for file in files.iter().filter(|f| !s3::is_s3(&f.to_string_lossy())) {
        let bytes = std::fs::read(file).ok()?;
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if !parse::is_json_line(line) {
                continue;
            }
            copy.clear();
            copy.extend_from_slice(line);
            let problem = match simd_json::to_borrowed_value(&mut copy) {
                Ok(simd_json::BorrowedValue::Object(_)) => continue,
                Ok(_) => "not a JSON object".to_string(),
                Err(e) => format!("not valid JSON ({e})"),
            };
            let shown = String::from_utf8_lossy(&line[..line.len().min(120)]);
            let more = if line.len() > 120 { "…" } else { "" };
            return Some(format!(
                "{}:{}: {problem} (line: {shown}{more}); fix or remove the line: an NDJSON source needs one JSON object per line",
                file.display(),
                i + 1
            ));
        }
    }
    None
}

/// The error of the first line Polars' parser refuses, as `file:line: message`.
fn locate(file: &Path, chunk: &Chunk, schema: &Schema, chunk_error: PolarsError) -> TaskError {
    // An object's chunks share the whole object; a file's chunk holds only itself.
    let before = if s3::is_s3(&file.to_string_lossy()) {
        count_lines(&chunk.data[..chunk.range.start])
    } else {
        lines_before(file, chunk.offset)
    };
    for (i, line) in chunk.bytes().split(|b| *b == b'\n').enumerate() {
        if !parse::is_json_line(line) {
            continue;
        }
        if let Err(e) = polars::io::ndjson::core::parse_ndjson(line, Some(1), schema, false) {
            let shown = String::from_utf8_lossy(&line[..line.len().min(120)]);
            let more = if line.len() > 120 { "…" } else { "" };
            return TaskError::Data(format!(
                "{}:{}: {e} (line: {shown}{more}); fix or remove the line: an NDJSON source needs one JSON object per line, \
                 with each field of one type",
                file.display(),
                before + i as u64 + 1
            ));
        }
    }
    TaskError::Data(format!("{}: lines {}…: {chunk_error}", file.display(), before + 1))
}

fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Newlines in the first `offset` bytes of a local file.
fn lines_before(file: &Path, offset: u64) -> u64 {
    let Ok(f) = std::fs::File::open(file) else { return 0 };
    let mut reader = std::io::BufReader::with_capacity(1 << 20, f.take(offset));
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0;
    while let Ok(read) = reader.read(&mut buf) {
        if read == 0 {
            break;
        }
        n += count_lines(&buf[..read]);
    }
    n
}

/// The reader's chunk buffers: those the parsers gave back, and one it did not fill.
struct Buffers {
    spare: mpsc::Receiver<Vec<u8>>,
    /// A buffer taken for a file's next chunk when the file had ended: kept for the next file
    /// (dropping it made every file cost a fresh buffer, whose pages the kernel must zero).
    kept: Option<Vec<u8>>,
}

impl Buffers {
    /// An empty buffer of at least `chunk_bytes`, reused when one is free.
    fn take(&mut self, chunk_bytes: usize) -> Vec<u8> {
        let mut buf = self.kept.take().or_else(|| self.spare.try_recv().ok()).unwrap_or_else(|| Vec::with_capacity(chunk_bytes));
        buf.clear();
        buf
    }
}

/// Cuts a local file into chunks of whole lines. `Ok(false)`: the consumer stopped.
fn split_file(
    path: &Path,
    chunk_bytes: usize,
    buffers: &mut Buffers,
    emit: &mut dyn FnMut(Arc<Vec<u8>>, std::ops::Range<usize>, u64) -> bool,
) -> Result<bool, TaskError> {
    let mut chunks = FileChunks::open(path)?;
    loop {
        let mut buf = buffers.take(chunk_bytes);
        let Some(offset) = chunks.next(&mut buf, chunk_bytes)? else {
            buffers.kept = Some(buf);
            return Ok(true);
        };
        let len = buf.len();
        if !emit(Arc::new(buf), 0..len, offset) {
            return Ok(false);
        }
    }
}

/// A local file read a chunk of whole lines at a time.
struct FileChunks {
    path: PathBuf,
    file: std::fs::File,
    /// Where the next chunk starts in the file.
    offset: u64,
    /// The start of a line the last read cut, for the next chunk.
    carry: Vec<u8>,
    ended: bool,
}

impl FileChunks {
    fn open(path: &Path) -> Result<Self, TaskError> {
        let file = std::fs::File::open(path).map_err(|e| TaskError::data(format!("cannot open {}", path.display()), e))?;
        Ok(FileChunks { path: path.to_path_buf(), file, offset: 0, carry: Vec::new(), ended: false })
    }

    /// Fills `buf` (emptied first) with the next chunk, about `chunk_bytes` of whole lines (a
    /// line longer than that makes a longer chunk; the file's last line may lack its newline);
    /// returns where the chunk starts in the file, or None at the end.
    fn next(&mut self, buf: &mut Vec<u8>, chunk_bytes: usize) -> Result<Option<u64>, TaskError> {
        if self.ended {
            return Ok(None);
        }
        buf.clear();
        // A buffer is filled to its capacity and never grown (unless a line is longer than a
        // chunk): growing one copies it into fresh pages the kernel must zero, which a profile
        // showed costing more than a tenth of the reader's time.
        buf.reserve(chunk_bytes);
        buf.append(&mut self.carry);
        // Read until the new bytes hold a newline (a line longer than a chunk grows this one).
        // (At least one byte: reading none would look like the end of the file.)
        let mut want = (buf.capacity() - buf.len()).clamp(chunk_bytes / 2, chunk_bytes).max(1) as u64;
        let end = loop {
            let start = buf.len();
            let n = (&mut self.file)
                .take(want)
                .read_to_end(buf)
                .map_err(|e| TaskError::data(format!("cannot read {}", self.path.display()), e))?;
            if n == 0 {
                break None;
            }
            if let Some(at) = memchr::memrchr(b'\n', &buf[start..]) {
                break Some(start + at + 1);
            }
            want = want.saturating_mul(2);
        };
        let at = self.offset;
        match end {
            Some(end) => {
                self.carry.extend_from_slice(&buf[end..]);
                buf.truncate(end);
                self.offset += end as u64;
                Ok(Some(at))
            }
            // End of file: what is left is the last line, without a newline.
            None => {
                self.ended = true;
                Ok((!buf.is_empty()).then_some(at))
            }
        }
    }
}

/// Fetches an object and cuts it into chunks of whole lines. `Ok(false)`: the consumer stopped.
fn split_object(
    access: &S3Access,
    url: &Path,
    chunk_bytes: usize,
    emit: &mut dyn FnMut(Arc<Vec<u8>>, std::ops::Range<usize>, u64) -> bool,
) -> Result<bool, TaskError> {
    let data = s3::get(access, &url.to_string_lossy()).map_err(|e| TaskError::Data(e.to_string()))?;
    if let Some(kind) = magic(&data) {
        return Err(TaskError::Data(format!(
            "{} is {kind}-compressed without a .gz/.zst name; rename it, or set {READER_ENV}=polars",
            url.display()
        )));
    }
    let data = Arc::new(data);
    let mut start = 0;
    while start < data.len() {
        let want = (start + chunk_bytes).min(data.len());
        let end = if want == data.len() {
            want
        } else {
            match memchr::memchr(b'\n', &data[want..]) {
                Some(at) => want + at + 1,
                None => data.len(),
            }
        };
        if !emit(data.clone(), start..end, start as u64) {
            return Ok(false);
        }
        start = end;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file read to its end leaves the buffer taken for its next chunk to the next file: every
    /// file used to cost a fresh buffer, whose pages the kernel must zero.
    #[test]
    fn the_buffer_left_at_the_end_of_a_file_serves_the_next_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, "{\"a\":1}\n{\"a\":2}\n").unwrap();
        let (_give_back, spare) = mpsc::channel();
        let mut buffers = Buffers { spare, kept: None };
        let mut chunks = Vec::new();
        let mut emit = |data: Arc<Vec<u8>>, range: std::ops::Range<usize>, _| {
            chunks.push(data[range].to_vec());
            true
        };
        assert!(split_file(&path, 64, &mut buffers, &mut emit).unwrap());
        assert_eq!(chunks, [b"{\"a\":1}\n{\"a\":2}\n".to_vec()]);
        let kept = buffers.kept.as_ref().expect("the buffer taken after the last chunk is kept");
        let kept_at = kept.as_ptr();
        assert!(kept.capacity() >= 64);
        // The next file's first chunk is read into that same buffer.
        let mut first: Option<*const u8> = None;
        let mut emit = |data: Arc<Vec<u8>>, _: std::ops::Range<usize>, _| {
            first.get_or_insert(data.as_ptr());
            true
        };
        assert!(split_file(&path, 64, &mut buffers, &mut emit).unwrap());
        assert_eq!(first, Some(kept_at));
    }
}
