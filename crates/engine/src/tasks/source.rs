//! The `source` task: reads CSV, Parquet, NDJSON, JSON or Arrow IPC files (globs) into an artifact.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_buffer::Buffer;

use crate::spec::{PathColumn, PathColumnType, SourceFormat, SourceTask};
use crate::tasks::frame::{polars_err, sink_parquet};
use crate::tasks::{TaskContext, TaskError, TaskOutcome};

/// Default rows used to infer a JSON/CSV schema.
const INFER_ROWS: usize = 10_000;

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
    if ctx.files.is_empty() {
        return Err(TaskError::NoFiles {
            pattern: src.path.clone(),
            resolved: ctx.pipeline_dir.join(&src.path).display().to_string(),
        });
    }
    ctx.log.line(format!("reading {} {:?} file(s) matching {}", ctx.files.len(), src.format, src.path));
    let mut lf = lazy(src, ctx.files)?;
    if let Some(limit) = ctx.limit {
        lf = lf.limit(limit as IdxSize);
    }
    ctx.cancel.check()?;
    sink_parquet(lf, ctx.output).map_err(polars_err("cannot read source"))?;
    Ok(TaskOutcome { has_output: true, ..Default::default() })
}

/// The source's frame: all files, flattened and with the path column as configured.
pub fn lazy(src: &SourceTask, files: &[PathBuf]) -> Result<LazyFrame, TaskError> {
    if files.is_empty() {
        return Err(TaskError::NoFiles { pattern: src.path.clone(), resolved: src.path.clone() });
    }
    let lf = scan(src, files)?;
    if src.flatten {
        flatten(lf, src.flatten_separator.as_deref())
    } else {
        Ok(lf)
    }
}

/// A lazy frame over all files, with the path-derived column when configured.
pub fn scan(src: &SourceTask, files: &[PathBuf]) -> Result<LazyFrame, TaskError> {
    match &src.path_column {
        None => scan_files(src, files),
        Some(pc) => {
            // One scan per file with a literal column: cheaper than a regex over every row's path.
            let re = regex::Regex::new(&pc.pattern).map_err(|e| TaskError::Data(format!("invalid path_column pattern: {e}")))?;
            let mut frames = Vec::with_capacity(files.len());
            for f in files {
                let value = path_value(pc, &re, f)?;
                frames.push(scan_files(src, std::slice::from_ref(f))?.with_column(value.alias(pc.name.as_str())));
            }
            let args = UnionArgs { parallel: true, rechunk: false, to_supertypes: true, ..Default::default() };
            concat_lf_diagonal(frames, args).map_err(polars_err("cannot combine source files"))
        }
    }
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
    PlRefPath::try_from_path(p).map_err(|e| TaskError::data(p.display(), e))
}

fn scan_files(src: &SourceTask, files: &[PathBuf]) -> Result<LazyFrame, TaskError> {
    let paths: Buffer<PlRefPath> = files.iter().map(|p| plpath(p)).collect::<Result<Vec<_>, _>>()?.into_iter().collect();
    let infer = src.infer_schema_rows.unwrap_or(INFER_ROWS);
    let what =
        || format!("cannot read {} as {:?}", files.first().map(|f| f.display().to_string()).unwrap_or_default(), src.format);
    let lf = match src.format {
        SourceFormat::Ndjson => LazyJsonLineReader::new_paths(paths).with_infer_schema_length(NonZeroUsize::new(infer)).finish(),
        SourceFormat::Csv => LazyCsvReader::new_paths(paths)
            .with_separator(src.delimiter)
            .with_infer_schema_length(Some(infer))
            .with_try_parse_dates(true)
            .finish(),
        SourceFormat::Parquet => {
            let args = ScanArgsParquet { hive_options: HiveOptions::new_disabled(), ..Default::default() };
            LazyFrame::scan_parquet_sources(ScanSources::Paths(paths), args)
        }
        SourceFormat::Ipc => {
            let args = UnifiedScanArgs { hive_options: HiveOptions::new_disabled(), ..Default::default() };
            LazyFrame::scan_ipc_sources(ScanSources::Paths(paths), Default::default(), args)
        }
        SourceFormat::Json => {
            // JSON arrays cannot be streamed; each file is read whole.
            let mut frames = Vec::with_capacity(files.len());
            for f in files {
                let file = std::fs::File::open(f).map_err(|e| TaskError::data(format!("cannot open {}", f.display()), e))?;
                let df = JsonReader::new(file)
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

/// Lifts struct columns' fields to top-level columns until none is left.
pub fn flatten(mut lf: LazyFrame, separator: Option<&str>) -> Result<LazyFrame, TaskError> {
    for _ in 0..16 {
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
