//! Flushing the log into Parquet, and merging a closed day's files into one.
//!
//! A flush takes the log's entries after the manifest's `flushed_through` up to a last entry N,
//! records N as its intent in the log, writes one file per day named by N with put-if-absent,
//! publishes a manifest listing them with `flushed_through = N`, and only then drops the entries
//! from the log. A flush cut off at any step is redone from the log under the same names: files
//! already written are kept (put-if-absent), and entries the manifest already covers are dropped
//! without being written twice. No acknowledged row is lost, none is published twice.

use std::path::Path;

use polars::prelude::*;

use super::dataset::Dataset;
use super::rows::lines_to_frame;
use super::target::{IngestManifest, Superseded, Target};
use super::wal::Wal;
use super::IngestError;

/// What one flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Rows written.
    pub rows: u64,
    /// Files published (relative paths).
    pub files: Vec<String>,
    /// Their bytes.
    pub bytes: u64,
    /// The last log entry they cover.
    pub through: i64,
}

/// The `day=YYYY-MM-DD` folder of a day number (days since 1970-01-01).
pub fn day_folder(day: i32) -> String {
    let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(day as i64);
    format!("day={}", d.format("%Y-%m-%d"))
}

/// The day a `day=YYYY-MM-DD/…` path belongs to.
fn day_of_path(rel: &str) -> Option<chrono::NaiveDate> {
    let folder = rel.split('/').next()?;
    chrono::NaiveDate::parse_from_str(folder.strip_prefix("day=")?, "%Y-%m-%d").ok()
}

/// The log entry number in a `flush-N.parquet` or `merged-N.parquet` name.
fn seq_of_path(rel: &str) -> i64 {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.trim_end_matches(".parquet").rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Parquet for delivery: zstd (smaller on S3 than the artifacts' LZ4), statistics on.
fn parquet_bytes(df: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .finish(df)?;
    Ok(buf)
}

/// One flush of at most about `max_bytes` of log (None: nothing to flush).
pub fn flush_once(ds: &Dataset, wal: &Wal, target: &Target, max_bytes: u64) -> Result<Option<FlushReport>, IngestError> {
    flush_upto(ds, wal, target, i64::MAX, max_bytes)
}

/// One flush of entries up to `upto`, at most about `max_bytes` of them.
fn flush_upto(ds: &Dataset, wal: &Wal, target: &Target, upto: i64, max_bytes: u64) -> Result<Option<FlushReport>, IngestError> {
    match write_files_upto(ds, wal, target, upto, max_bytes)? {
        Some(Written::Files(manifest, report)) => {
            publish(wal, target, &manifest)?;
            Ok(Some(report))
        }
        Some(Written::AlreadyPublished(through)) => {
            wal.finish_flush(through)?;
            Ok(Some(FlushReport { through, ..Default::default() }))
        }
        None => Ok(None),
    }
}

/// What the first half of a flush did.
#[derive(Debug)]
pub enum Written {
    /// Files written; the manifest that lists them is still to be published.
    Files(IngestManifest, FlushReport),
    /// A flush cut off after publishing: only the log's copy of its rows is left to drop.
    AlreadyPublished(i64),
}

/// The first half of a flush: records the intent, writes the day files (put-if-absent), and
/// returns the manifest to publish. A crash after it leaves files no manifest lists (invisible
/// to readers) and the intent, so the next flush redoes exactly this one.
pub fn write_files(ds: &Dataset, wal: &Wal, target: &Target, max_bytes: u64) -> Result<Option<Written>, IngestError> {
    write_files_upto(ds, wal, target, i64::MAX, max_bytes)
}

fn write_files_upto(ds: &Dataset, wal: &Wal, target: &Target, upto: i64, max_bytes: u64) -> Result<Option<Written>, IngestError> {
    let mut manifest = target.read_manifest()?;
    let through = match wal.intent()? {
        // A flush was cut off: redo exactly it, even if more rows came since.
        Some(n) => n,
        None => match wal.plan_through(manifest.flushed_through, upto, max_bytes)? {
            Some(n) => n,
            None => return Ok(None),
        },
    };
    if through <= manifest.flushed_through {
        return Ok(Some(Written::AlreadyPublished(through)));
    }
    wal.set_intent(through)?;
    let days = wal.read(manifest.flushed_through, through)?;
    let mut report = FlushReport { through, ..Default::default() };
    for (day, rows) in &days {
        let mut df = lines_to_frame(ds, &rows.lines).map_err(|e| IngestError::polars(&ds.name, "reading the log", e))?;
        let body = parquet_bytes(&mut df).map_err(|e| IngestError::polars(&ds.name, "writing Parquet", e))?;
        let rel = format!("{}/flush-{through:016}.parquet", day_folder(*day));
        report.bytes += body.len() as u64;
        target.put_if_absent(&rel, body)?;
        report.rows += rows.rows;
        report.files.push(rel);
    }
    for f in &report.files {
        if !manifest.files.contains(f) {
            manifest.files.push(f.clone());
        }
    }
    manifest.flushed_through = through;
    Ok(Some(Written::Files(manifest, report)))
}

/// The second half of a flush: publishes the manifest, then drops the rows from the log.
pub fn publish(wal: &Wal, target: &Target, manifest: &IngestManifest) -> Result<(), IngestError> {
    target.write_manifest(manifest)?;
    wal.finish_flush(manifest.flushed_through)?;
    Ok(())
}

/// Flushes what the log holds when called (rows arriving meanwhile wait for the next flush, so
/// a busy log is not cut into tiny files), in flushes of about `max_bytes`; the reports of each.
pub fn flush_all(ds: &Dataset, wal: &Wal, target: &Target, max_bytes: u64) -> Result<Vec<FlushReport>, IngestError> {
    let upto = wal.last_seq()?.max(wal.intent()?.unwrap_or(0));
    let mut out = Vec::new();
    while let Some(r) = flush_upto(ds, wal, target, upto, max_bytes)? {
        let done = r.through >= upto;
        out.push(r);
        if done {
            break;
        }
    }
    Ok(out)
}

/// Files an open day may have before it is merged anyway.
pub const OPEN_DAY_MAX_FILES: usize = 64;

/// What a merge pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Days merged (`YYYY-MM-DD`).
    pub days: Vec<String>,
    /// Files replaced.
    pub files_in: usize,
    /// Superseded files removed after their grace period.
    pub removed: usize,
}

/// Merges the files of each closed day (ended `compact_after_secs` ago), of each day with more
/// than [`OPEN_DAY_MAX_FILES`] files, or of every day with `force`, into one file sorted by the event time, publishing each merge by a manifest swap;
/// removes files superseded more than `grace_ms` ago. `scratch` is a local folder for the merged
/// file before it is published.
pub fn compact(
    ds: &Dataset,
    target: &Target,
    scratch: &Path,
    now_ms: i64,
    force: bool,
    grace_ms: i64,
) -> Result<CompactReport, IngestError> {
    let mut manifest = target.read_manifest()?;
    let mut report = CompactReport::default();
    let mut by_day: std::collections::BTreeMap<chrono::NaiveDate, Vec<String>> = Default::default();
    for f in &manifest.files {
        if let Some(d) = day_of_path(f) {
            by_day.entry(d).or_default().push(f.clone());
        }
    }
    for (day, files) in by_day {
        let end_ms = (day + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis();
        let closed = now_ms >= end_ms + ds.compact_after_secs as i64 * 1000;
        // An open day is merged too once it has many files, so readers of today do not open
        // a thousand small ones (each merge folds the previous merged file in).
        let crowded = files.len() > OPEN_DAY_MAX_FILES;
        if files.len() < 2 || !(closed || force || crowded) {
            continue;
        }
        let through = files.iter().map(|f| seq_of_path(f)).max().unwrap_or(0);
        let rel = format!("day={}/merged-{through:016}.parquet", day.format("%Y-%m-%d"));
        merge_files(ds, target, &files, &rel, scratch)?;
        manifest.files.retain(|f| !files.contains(f));
        manifest.files.push(rel);
        manifest.superseded.extend(files.iter().map(|f| Superseded { file: f.clone(), since_ms: now_ms }));
        target.write_manifest(&manifest)?;
        report.days.push(day.format("%Y-%m-%d").to_string());
        report.files_in += files.len();
    }
    let (old, keep): (Vec<_>, Vec<_>) = manifest.superseded.iter().cloned().partition(|s| now_ms - s.since_ms >= grace_ms);
    if !old.is_empty() {
        for s in &old {
            target.delete(&s.file)?;
        }
        manifest.superseded = keep;
        target.write_manifest(&manifest)?;
        report.removed = old.len();
    }
    Ok(report)
}

/// Writes the rows of `files` into one file sorted by the event time and publishes it as `rel`
/// (not yet listed: the caller swaps the manifest).
fn merge_files(ds: &Dataset, target: &Target, files: &[String], rel: &str, scratch: &Path) -> Result<(), IngestError> {
    let urls: Vec<String> = files.iter().map(|f| target.url(f)).collect();
    let lf = scan(&urls, target)?;
    let lf = match ds.event_time.as_deref() {
        // Stable: rows of one instant keep their arrival order.
        Some(col) => lf.sort([col], SortMultipleOptions::default().with_maintain_order(true)),
        None => lf,
    };
    std::fs::create_dir_all(scratch).map_err(|e| IngestError::io(scratch.to_path_buf(), e))?;
    let local = scratch.join(format!("{}-{}", ds.name, rel.replace('/', "_")));
    let opts = ParquetWriteOptions {
        compression: ParquetCompression::Zstd(None),
        statistics: StatisticsOptions::full(),
        ..Default::default()
    };
    let written = (|| {
        lf.sink(
            SinkDestination::File { target: SinkTarget::Path(PlRefPath::try_from_path(&local)?) },
            FileWriteFormat::Parquet(Arc::new(opts)),
            UnifiedSinkArgs { mkdir: true, ..Default::default() },
        )?
        .collect_with_engine(Engine::Streaming)
        .map(|_| ())
    })();
    let result =
        written.map_err(|e| IngestError::polars(&ds.name, "merging a day", e)).and_then(|()| target.put_file(rel, &local));
    let _ = std::fs::remove_file(&local);
    result
}

/// A lazy frame over dataset files (paths or URLs).
pub fn scan(urls: &[String], target: &Target) -> Result<LazyFrame, IngestError> {
    let paths: polars_buffer::Buffer<PlRefPath> = urls.iter().map(|u| PlRefPath::new(u.as_str())).collect();
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        cloud_options: target.s3().map(crate::s3::S3Access::cloud_options),
        ..Default::default()
    };
    LazyFrame::scan_parquet_sources(ScanSources::Paths(paths), args)
        .map_err(|e| IngestError::Target(format!("cannot read {}: {e}", urls.first().map(String::as_str).unwrap_or(""))))
}

/// The manifest's live files as full paths or URLs.
pub fn live_files(manifest: &IngestManifest, target: &Target) -> Vec<String> {
    manifest.files.iter().map(|f| target.url(f)).collect()
}
