//! A pipeline's `format = "dataset"` source: the files the manifest lists, and, when asked, the
//! rows still waiting in the log.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::dataset::{self, Dataset};
use super::rows::{frame_schema, lines_to_frame};
use super::target::Target;
use super::{flush, wal, IngestError};

/// The dataset's rows: the Parquet `files` planned for the task, or, with `wal` (rows not yet
/// flushed wanted), the files of a fresh manifest plus the log's rows it does not cover yet.
pub fn frame(ds: &Dataset, target: &Target, files: &[PathBuf], wal: Option<&Path>) -> Result<LazyFrame, IngestError> {
    let (urls, unflushed): (Vec<String>, Vec<u8>) = match wal {
        None => (files.iter().map(|f| f.to_string_lossy().into_owned()).collect(), Vec::new()),
        Some(wal_file) => {
            // The log first, then the manifest: a flush between the two moves rows from the log
            // into files the manifest then lists, and its `flushed_through` says which to skip.
            let entries = wal::read_unflushed(wal_file, 0)?;
            let m = target.read_manifest()?;
            let lines = entries.into_iter().filter(|(seq, _)| *seq > m.flushed_through).flat_map(|(_, l)| l).collect();
            (flush::live_files(&m, target), lines)
        }
    };
    let mut parts = Vec::new();
    if !urls.is_empty() {
        parts.push(flush::scan(&urls, target)?);
    }
    if !unflushed.is_empty() {
        parts.push(lines_to_frame(ds, &unflushed).map_err(|e| IngestError::polars(&ds.name, "reading the log", e))?.lazy());
    }
    if parts.is_empty() {
        // Nothing flushed yet: the declared columns, no rows.
        return Ok(DataFrame::empty_with_schema(&frame_schema(ds)).lazy());
    }
    let args = UnionArgs { parallel: true, rechunk: false, to_supertypes: true, ..Default::default() };
    concat(parts, args).map_err(|e| IngestError::polars(&ds.name, "combining files", e))
}

/// Points a `dataset` source at its dataset: its folder as `path`, its connection, declaration
/// and (for `include_unflushed`) log; returns the local files its manifest lists (an `s3://`
/// folder is listed by the planner, through the same manifest). Errors say what to fix.
pub fn resolve(src: &mut crate::spec::SourceTask, root: &Path, state_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let name = src.dataset.clone().unwrap_or_default();
    let file = super::declaration_path(root, &name);
    if !file.exists() {
        let known: Vec<String> =
            dataset::dataset_files(root).iter().filter_map(|f| f.file_stem().map(|s| s.to_string_lossy().into_owned())).collect();
        return Err(format!(
            "dataset '{name}' is not declared: no {} (declared: {})",
            file.display(),
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ));
    }
    let ds = dataset::load(&file).map_err(|e| format!("dataset '{name}': {e}"))?;
    src.connection = ds.connection.clone();
    src.dataset_files = Some((file, src.include_unflushed.then(|| super::wal_path(state_dir, &name))));
    if ds.is_s3() {
        src.path = ds.path.clone();
        return Ok(Vec::new());
    }
    let target = Target::new(root, &ds.path, None).map_err(|e| e.to_string())?;
    let manifest = target.read_manifest().map_err(|e| e.to_string())?;
    src.path = root.join(&ds.path).to_string_lossy().into_owned();
    Ok(flush::live_files(&manifest, &target).into_iter().map(PathBuf::from).collect())
}

/// A resolved `dataset` source's rows: its planned `files`, or a fresh manifest's when there are
/// none planned or unflushed rows are wanted; `s3` reaches an `s3://` dataset.
pub fn source_frame(
    src: &crate::spec::SourceTask,
    files: &[PathBuf],
    s3: Option<&crate::s3::S3Access>,
) -> Result<LazyFrame, String> {
    let name = src.dataset.as_deref().unwrap_or_default();
    let Some((decl, wal)) = &src.dataset_files else {
        return Err(format!("dataset '{name}' was not planned (no declaration attached)"));
    };
    let ds = dataset::load(decl).map_err(|e| format!("dataset '{name}': {e}"))?;
    let target = Target::new(Path::new("/"), &src.path, s3.cloned()).map_err(|e| e.to_string())?;
    let fresh;
    let mut files = files;
    if files.is_empty() && wal.is_none() {
        let m = target.read_manifest().map_err(|e| e.to_string())?;
        fresh = flush::live_files(&m, &target).into_iter().map(PathBuf::from).collect::<Vec<_>>();
        files = fresh.as_slice();
    }
    frame(&ds, &target, files, wal.as_deref()).map_err(|e| e.to_string())
}

/// A local dataset as an output the grid and the inspectors read (a source view with no task).
pub fn view_input(root: &Path, state_dir: &Path, name: &str, include_unflushed: bool) -> Result<crate::tasks::Input, String> {
    let mut src = crate::spec::SourceTask::new(crate::spec::SourceFormat::Dataset, "");
    src.dataset = Some(name.to_string());
    src.include_unflushed = include_unflushed;
    let files = resolve(&mut src, root, state_dir)?;
    if crate::s3::is_s3(&src.path) {
        return Err(format!("dataset '{name}' is in object storage ({}); read it with a pipeline's dataset source", src.path));
    }
    let plan = crate::tasks::ViewPlan {
        id: name.to_string(),
        kind: crate::spec::TaskKind::Source(src),
        files,
        upstream: Default::default(),
    };
    Ok(crate::tasks::Input::View(std::sync::Arc::new(plan)))
}
