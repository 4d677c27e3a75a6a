//! The `source` task: reads CSV, Parquet, NDJSON, JSON or Arrow IPC files (globs), local or in
//! S3, into an artifact.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_buffer::Buffer;

use crate::s3::{self, S3Access};
use crate::spec::{PathColumn, PathColumnType, SourceFormat, SourceTask};
use crate::tasks::frame::{polars_err, sink_parquet};
use crate::tasks::ndjson;
use crate::tasks::{TaskContext, TaskError, TaskOutcome};

/// Default rows used to infer a JSON/CSV schema.
pub const INFER_ROWS: usize = 10_000;

/// Expands the task's path (a file or glob, relative to the pipeline folder) to sorted files.
pub fn resolve_files(pipeline_dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = pipeline_dir.join(pattern);
    let full_str = full.to_string_lossy();
    let paths = glob::glob(&full_str).map_err(|e| format!("invalid glob `{pattern}`: {e}"))?;
    let mut files: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
    files.sort();
    Ok(files)
}

/// Runs a source task.
pub fn run(ctx: &TaskContext, src: &SourceTask) -> Result<TaskOutcome, TaskError> {
    if src.format == SourceFormat::Postgres {
        let rows = crate::postgres::source::read(ctx, src)?;
        return Ok(TaskOutcome { has_output: true, rows: Some(rows), ..Default::default() });
    }
    if src.format == SourceFormat::Dataset {
        let mut lf = dataset_frame(ctx, src)?;
        if let Some(limit) = ctx.limit {
            lf = lf.limit(limit as IdxSize);
        }
        ctx.cancel.check()?;
        sink_parquet(lf, ctx.output).map_err(polars_err("cannot read the dataset"))?;
        return Ok(TaskOutcome { has_output: true, ..Default::default() });
    }
    let remote = s3::is_s3(&src.path);
    let listed;
    let mut files = ctx.files;
    if remote && files.is_empty() {
        // Listing failed while planning (or found nothing): this attempt lists again.
        let access = ctx.s3.ok_or_else(|| TaskError::Data(format!("no S3 access for {}", src.path)))?;
        listed = s3::list(access, &src.path)
            .map_err(|e| TaskError::Data(e.to_string()))?
            .into_iter()
            .map(|o| PathBuf::from(o.url))
            .collect::<Vec<_>>();
        files = listed.as_slice();
    }
    if files.is_empty() {
        let resolved = if remote { src.path.clone() } else { ctx.pipeline_dir.join(&src.path).display().to_string() };
        return Err(TaskError::NoFiles { pattern: src.path.clone(), resolved });
    }
    let what = if remote { "object" } else { "file" };
    ctx.log.line(format!("reading {} {} {what}(s) matching {}", files.len(), src.format.as_str(), src.path));
    if src.format == SourceFormat::Ndjson && ctx.limit.is_none() && !ndjson::disabled_by_env() {
        let started = std::time::Instant::now();
        match ndjson::write_parquet(src, files, ctx.s3, ctx.output, &ndjson::Options::default(), ctx.cancel)? {
            ndjson::Outcome::Read(stats) => {
                let secs = started.elapsed().as_secs_f64();
                ctx.log.line(format!(
                    "fast NDJSON reader: {} rows, {:.1} MB in {secs:.2} s ({:.0} MB/s); {} chunk(s) parsed fast, {} by Polars' parser",
                    crate::memory::group_digits(stats.rows),
                    stats.bytes as f64 / 1e6,
                    stats.bytes as f64 / 1e6 / secs.max(1e-9),
                    stats.fast_chunks,
                    stats.polars_chunks
                ));
                return Ok(TaskOutcome { has_output: true, ..Default::default() });
            }
            ndjson::Outcome::NotCovered(reason) => ctx.log.line(format!("Polars' NDJSON reader: {reason}")),
        }
    }
    let mut lf = lazy(src, files, ctx.s3).map_err(|e| locate_malformed(src, files, e))?;
    if let Some(limit) = ctx.limit {
        lf = lf.limit(limit as IdxSize);
    }
    ctx.cancel.check()?;
    sink_parquet(lf, ctx.output).map_err(polars_err("cannot read source")).map_err(|e| locate_malformed(src, files, e))?;
    Ok(TaskOutcome { has_output: true, ..Default::default() })
}

fn dataset_frame(ctx: &TaskContext, src: &SourceTask) -> Result<LazyFrame, TaskError> {
    let name = src.dataset.as_deref().unwrap_or_default();
    ctx.log.line(match src.include_unflushed {
        true => format!("reading dataset '{name}' at {}: flushed files and rows still in the log", src.path),
        false => format!("reading dataset '{name}' at {}: {} file(s) planned", src.path, ctx.files.len()),
    });
    crate::ingest::read::source_frame(src, ctx.files, ctx.s3).map_err(TaskError::Data)
}

/// For an NDJSON source Polars refused without saying where, the file and line at fault.
pub fn locate_malformed(src: &SourceTask, files: &[PathBuf], e: TaskError) -> TaskError {
    match (&e, src.format) {
        (TaskError::Data(_), SourceFormat::Ndjson) => ndjson::first_malformed(files).map(TaskError::Data).unwrap_or(e),
        _ => e,
    }
}

/// The source's frame: all files (`s3://` URLs read through `s3`), flattened and with the path
/// and hive columns as configured.
pub fn lazy(src: &SourceTask, files: &[PathBuf], s3: Option<&S3Access>) -> Result<LazyFrame, TaskError> {
    if src.format == SourceFormat::Dataset {
        return crate::ingest::read::source_frame(src, files, s3).map_err(TaskError::Data);
    }
    if files.is_empty() {
        return Err(TaskError::NoFiles { pattern: src.path.clone(), resolved: src.path.clone() });
    }
    let lf = scan(src, files, s3)?;
    if src.flatten {
        flatten(lf, src.flatten_separator.as_deref())
    } else {
        Ok(lf)
    }
}

/// A lazy frame over all files, with the path-derived and hive columns when configured.
pub fn scan(src: &SourceTask, files: &[PathBuf], s3: Option<&S3Access>) -> Result<LazyFrame, TaskError> {
    if !has_literal_columns(src) {
        return scan_files(src, files, s3);
    }
    // One scan per file with literal columns: cheaper than a regex over every row's path.
    let literals = literal_columns(src, files)?;
    let mut frames = Vec::with_capacity(files.len());
    for (f, columns) in files.iter().zip(literals) {
        frames.push(scan_files(src, std::slice::from_ref(f), s3)?.with_columns(columns));
    }
    let args = UnionArgs { parallel: true, rechunk: false, to_supertypes: true, ..Default::default() };
    concat_lf_diagonal(frames, args).map_err(polars_err("cannot combine source files"))
}

/// Whether the source adds columns from file paths (`path_column`, `hive`).
pub fn has_literal_columns(src: &SourceTask) -> bool {
    src.path_column.is_some() || src.hive
}

/// Per file, the columns its path gives (`path_column`, then the hive partitions), as literals.
pub fn literal_columns(src: &SourceTask, files: &[PathBuf]) -> Result<Vec<Vec<Expr>>, TaskError> {
    let re = match &src.path_column {
        Some(pc) => {
            Some(regex::Regex::new(&pc.pattern).map_err(|e| TaskError::Data(format!("invalid path_column pattern: {e}")))?)
        }
        None => None,
    };
    let hive = if src.hive { hive_columns(&src.path, files)? } else { Vec::new() };
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let mut columns = Vec::new();
        if let (Some(pc), Some(re)) = (&src.path_column, &re) {
            columns.push(path_value(pc, re, f)?.alias(pc.name.as_str()));
        }
        for (name, values) in &hive {
            columns.push(values[i].clone().alias(name.as_str()));
        }
        out.push(columns);
    }
    Ok(out)
}

/// Hive partition columns (`key=value` folders below the path's literal part), one literal per
/// file, typed as DuckDB types them: all integers → Int64, all `YYYY-MM-DD` → Date, else text
/// (a file without the folder gets NULL).
fn hive_columns(pattern: &str, files: &[PathBuf]) -> Result<Vec<(String, Vec<Expr>)>, TaskError> {
    let literal = &pattern[..pattern.find(['*', '?', '[', '{']).unwrap_or(pattern.len())];
    // The folders the pattern names itself are not partitions, however they are called.
    let fixed_depth = literal.split('/').count().saturating_sub(1);
    let mut names: Vec<String> = Vec::new();
    let mut per_file: Vec<Vec<(String, String)>> = Vec::with_capacity(files.len());
    for f in files {
        let text = f.to_string_lossy();
        let rel = match text.find(literal.trim_start_matches("./")) {
            Some(at) if !literal.is_empty() => &text[at..],
            _ => &text[..],
        };
        let segments: Vec<&str> = rel.split('/').collect();
        let dirs = &segments[..segments.len().saturating_sub(1)];
        let mut parts = Vec::new();
        for seg in dirs.iter().skip(fixed_depth) {
            if let Some((k, v)) = seg.split_once('=') {
                if !k.is_empty() {
                    let value = percent_decode(v);
                    if !names.iter().any(|n| n == k) {
                        names.push(k.to_string());
                    }
                    parts.push((k.to_string(), value));
                }
            }
        }
        per_file.push(parts);
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let values: Vec<Option<&str>> =
            per_file.iter().map(|p| p.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())).collect();
        let present = || values.iter().flatten();
        let exprs: Vec<Expr> = if present().all(|v| v.parse::<i64>().is_ok()) {
            values
                .iter()
                .map(|v| {
                    v.map_or(lit(NULL).cast(DataType::Int64), |v| lit(v.parse::<i64>().unwrap_or_default()).cast(DataType::Int64))
                })
                .collect()
        } else if present().all(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()) {
            values
                .iter()
                .map(|v| match v.and_then(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()) {
                    Some(d) => lit(d).cast(DataType::Date),
                    None => lit(NULL).cast(DataType::Date),
                })
                .collect()
        } else {
            values.iter().map(|v| v.map_or(lit(NULL).cast(DataType::String), |v| lit(v.to_string()))).collect()
        };
        out.push((name, exprs));
    }
    Ok(out)
}

/// `%XX` escapes (as DuckDB and Spark write special characters in partition folders).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn path_value(pc: &PathColumn, re: &regex::Regex, file: &Path) -> Result<Expr, TaskError> {
    let text = file.to_string_lossy();
    let captured = re.captures(&text).and_then(|c| c.get(1)).map(|m| m.as_str()).ok_or_else(|| {
        TaskError::Data(format!(
            "file {} does not match path_column pattern `{}`; fix the pattern or the file name",
            file.display(),
            pc.pattern
        ))
    })?;
    match pc.dtype {
        PathColumnType::String => Ok(lit(captured.to_string())),
        PathColumnType::Int => captured.parse::<i64>().map(lit).map_err(|e| {
            TaskError::Data(format!("path_column `{}`: `{captured}` from {} is not an integer: {e}", pc.name, file.display()))
        }),
        PathColumnType::Date => {
            let d = chrono::NaiveDate::parse_from_str(captured, &pc.format).map_err(|e| {
                TaskError::Data(format!(
                    "path_column `{}`: `{captured}` from {} is not a date in format {}: {e}",
                    pc.name,
                    file.display(),
                    pc.format
                ))
            })?;
            Ok(lit(d).cast(DataType::Date))
        }
    }
}

fn plpath(p: &Path) -> Result<PlRefPath, TaskError> {
    let text = p.to_string_lossy();
    if s3::is_s3(&text) {
        // A URL as listed; a local path conversion would mangle its `//`.
        return Ok(PlRefPath::new(text.as_ref()));
    }
    PlRefPath::try_from_path(p).map_err(|e| TaskError::data(p.display(), e))
}

/// A lazy frame over `files` as Polars reads them (one schema, inferred from the first file).
pub fn scan_files(src: &SourceTask, files: &[PathBuf], s3: Option<&S3Access>) -> Result<LazyFrame, TaskError> {
    scan_files_with(src, files, s3, None)
}

/// [`scan_files`], with the NDJSON schema already known (`None`: Polars infers it).
pub fn scan_files_with(
    src: &SourceTask,
    files: &[PathBuf],
    s3: Option<&S3Access>,
    ndjson_schema: Option<SchemaRef>,
) -> Result<LazyFrame, TaskError> {
    let paths: Buffer<PlRefPath> = files.iter().map(|p| plpath(p)).collect::<Result<Vec<_>, _>>()?.into_iter().collect();
    let cloud = s3.map(S3Access::cloud_options);
    let infer = src.infer_schema_rows.unwrap_or(INFER_ROWS);
    let what =
        || format!("cannot read {} as {:?}", files.first().map(|f| f.display().to_string()).unwrap_or_default(), src.format);
    let lf = match src.format {
        SourceFormat::Postgres | SourceFormat::Dataset => {
            return Err(TaskError::Data("a postgres or dataset source is read by its own task".into()))
        }
        SourceFormat::Ndjson => LazyJsonLineReader::new_paths(paths)
            .with_infer_schema_length(NonZeroUsize::new(infer))
            .with_schema(ndjson_schema)
            .with_cloud_options(cloud)
            .finish(),
        SourceFormat::Csv => LazyCsvReader::new_paths(paths)
            .with_cloud_options(cloud)
            .with_separator(src.delimiter)
            .with_infer_schema_length(Some(infer))
            .with_try_parse_dates(true)
            .finish(),
        SourceFormat::Parquet => {
            let args = ScanArgsParquet { hive_options: HiveOptions::new_disabled(), cloud_options: cloud, ..Default::default() };
            LazyFrame::scan_parquet_sources(ScanSources::Paths(paths), args)
        }
        SourceFormat::Ipc => {
            let args = UnifiedScanArgs { hive_options: HiveOptions::new_disabled(), cloud_options: cloud, ..Default::default() };
            LazyFrame::scan_ipc_sources(ScanSources::Paths(paths), Default::default(), args)
        }
        SourceFormat::Json => {
            // JSON arrays cannot be streamed; each file is read whole.
            let mut frames = Vec::with_capacity(files.len());
            for f in files {
                let text = f.to_string_lossy();
                let reader: Box<dyn polars::io::mmap::MmapBytesReader> = match s3 {
                    Some(access) if s3::is_s3(&text) => {
                        Box::new(std::io::Cursor::new(s3::get(access, &text).map_err(|e| TaskError::Data(e.to_string()))?))
                    }
                    _ => {
                        Box::new(std::fs::File::open(f).map_err(|e| TaskError::data(format!("cannot open {}", f.display()), e))?)
                    }
                };
                let df = JsonReader::new(reader)
                    .infer_schema_len(NonZeroUsize::new(infer))
                    .finish()
                    .map_err(|e| TaskError::data(format!("cannot read {} as JSON", f.display()), e))?;
                frames.push(df.lazy());
            }
            let args = UnionArgs { to_supertypes: true, ..Default::default() };
            concat_lf_diagonal(frames, args)
        }
    };
    lf.map_err(|e| TaskError::data(what(), e))
}

/// How many levels of nested structs `flatten = true` unnests.
pub const FLATTEN_DEPTH: usize = 16;

/// Lifts struct columns' fields to top-level columns until none is left.
pub fn flatten(mut lf: LazyFrame, separator: Option<&str>) -> Result<LazyFrame, TaskError> {
    for _ in 0..FLATTEN_DEPTH {
        let schema = lf.collect_schema().map_err(polars_err("cannot read source schema"))?;
        let structs: Vec<PlSmallStr> =
            schema.iter().filter(|(_, dt)| matches!(dt, DataType::Struct(_))).map(|(n, _)| n.clone()).collect();
        if structs.is_empty() {
            break;
        }
        lf = lf.unnest(by_name(structs, true, false), separator.map(PlSmallStr::from));
    }
    Ok(lf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_and_types(pattern: &str, files: &[&str]) -> Vec<(String, DataType)> {
        let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        let cols = hive_columns(pattern, &files).unwrap();
        cols.into_iter()
            .map(|(name, exprs)| {
                let df = DataFrame::empty().lazy().select([exprs[0].clone().alias("x")]).collect().unwrap();
                (name, df.column("x").unwrap().dtype().clone())
            })
            .collect()
    }

    #[test]
    fn hive_folders_below_the_fixed_part_become_typed_columns() {
        let got = names_and_types(
            "s3://b/gold/*/*/*.parquet",
            &["s3://b/gold/day=2024-01-01/n=3/part-a.parquet", "s3://b/gold/day=2024-01-02/n=14/part-b.parquet"],
        );
        assert_eq!(got, [("day".to_string(), DataType::Date), ("n".to_string(), DataType::Int64)]);
        // A folder path: everything below it; the folders it names itself are not partitions.
        let got = names_and_types(
            "s3://b/x=1/gold",
            &["s3://b/x=1/gold/city=Den%20Haag/a.json", "s3://b/x=1/gold/city=Utrecht/b.json"],
        );
        assert_eq!(got, [("city".to_string(), DataType::String)]);
        assert_eq!(percent_decode("Den%20Haag%2"), "Den Haag%2");
        // Local files: relative to the pipeline folder.
        let got = names_and_types("data/*/*.csv", &["/tmp/p/data/k=a/1.csv", "/tmp/p/data/k=7/2.csv"]);
        assert_eq!(got, [("k".to_string(), DataType::String)]);
    }
}
