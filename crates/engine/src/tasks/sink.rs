//! The `sink` task: writes an upstream output to Parquet (optionally hive-partitioned), CSV, or a DuckDB table.
//! Files are written beside the target and renamed into place; DuckDB writes are one transaction.
//! `s3://` targets: one object per file sink (a multipart upload, visible once complete); a
//! partitioned one is published with a manifest (see [`crate::s3::publish_partitioned`]).

use std::path::Path;
use std::time::Duration;

use crate::duckdb_files;
use crate::fsutil::{publish, sweep_temps_beside, temp_path_for};
use crate::s3::{self, S3Access};
use crate::spec::{SinkFormat, SinkTask, WriteMode};
use crate::tasks::frame::{artifact_info, polars_err, scan_artifact, sink_csv, sink_ndjson, sink_object};
use crate::tasks::{quote_ident, quote_str, TaskContext, TaskError, TaskOutcome};

/// How long a sink waits for another process to release a DuckDB file.
const DUCKDB_LOCK_WAIT: Duration = Duration::from_secs(60);

/// Runs a sink task.
pub fn run(ctx: &TaskContext, sink: &SinkTask) -> Result<TaskOutcome, TaskError> {
    // Database sinks stream their input, which may be a view (a folder of Parquet loaded
    // without a stored copy); the others read a stored artifact.
    if matches!(sink.format, SinkFormat::Postgres | SinkFormat::ClickHouse) {
        let input = ctx.upstream_input(&sink.input)?;
        let rows = match sink.format {
            SinkFormat::Postgres => crate::postgres::sink::write(ctx, sink, input)?,
            _ => crate::clickhouse::sink::write(ctx, sink, input)?,
        };
        return Ok(TaskOutcome { has_output: false, rows: Some(rows), ..Default::default() });
    }
    let input = ctx.input(&sink.input)?;
    let rows = artifact_info(input)?.rows;
    if let Some(url) = sink.path.as_deref().filter(|p| s3::is_s3(p)) {
        let access = ctx.s3.ok_or_else(|| TaskError::Data(format!("no S3 access for {url}")))?;
        // Fail in seconds, naming the connection, before any work: reachable, accepted, bucket there.
        let bucket = s3::S3Url::parse(url).map_err(|e| TaskError::Data(e.to_string()))?.bucket;
        s3::check(access, &bucket).map_err(|e| TaskError::Data(e.to_string()))?;
        if sink.partition_by.is_empty() {
            write_object(ctx, sink, input, url, access)?;
        } else {
            write_partitioned_object(ctx, sink, input, url, access)?;
        }
        return Ok(TaskOutcome { has_output: false, rows: Some(rows), ..Default::default() });
    }
    match sink.format {
        SinkFormat::Parquet | SinkFormat::Ndjson if !sink.partition_by.is_empty() => write_partitioned(ctx, sink, input)?,
        SinkFormat::Parquet | SinkFormat::Csv | SinkFormat::Ndjson => write_file(ctx, sink, input)?,
        SinkFormat::DuckDb => write_duckdb(ctx, sink, input)?,
        SinkFormat::Postgres | SinkFormat::ClickHouse => unreachable!("database sinks returned above"),
    }
    Ok(TaskOutcome { has_output: false, rows: Some(rows), ..Default::default() })
}

/// The sink's target path (relative paths start at the pipeline folder).
pub fn target(ctx: &TaskContext, rel: &str) -> std::path::PathBuf {
    ctx.pipeline_dir.join(rel)
}

fn write_file(ctx: &TaskContext, sink: &SinkTask, input: &Path) -> Result<(), TaskError> {
    let dest = target(ctx, sink.path.as_deref().unwrap_or_default());
    prepare(ctx, &dest)?;
    let tmp = temp_path_for(&dest);
    let written = match sink.format {
        SinkFormat::Csv => sink_csv(scan_artifact(input)?, &tmp).map_err(polars_err("cannot write sink")),
        SinkFormat::Ndjson => sink_ndjson(scan_artifact(input)?, &tmp).map_err(polars_err("cannot write sink")),
        // The artifact is a Parquet file of these rows already: copied, not decoded and encoded
        // again (a tenth of a second for the medallion's 470k-row gold table; seconds for a large one).
        _ => std::fs::copy(input, &tmp)
            .map(drop)
            .map_err(|e| TaskError::data(format!("cannot copy {} to {}", input.display(), tmp.display()), e)),
    };
    let res = written.and_then(|_| ctx.cancel.check()).and_then(|_| {
        publish(&tmp, &dest).map_err(|e| TaskError::data(format!("cannot move output into {}", dest.display()), e))
    });
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    ctx.log.line(format!("wrote {}", dest.display()));
    res
}

fn write_object(ctx: &TaskContext, sink: &SinkTask, input: &Path, url: &str, access: &S3Access) -> Result<(), TaskError> {
    sink_object(scan_artifact(input)?, url, sink.format, access.cloud_options())
        .map_err(|e| TaskError::Data(format!("cannot write {url} through {}: {e}", access.who())))?;
    ctx.log.line(format!("wrote {url}"));
    Ok(())
}

/// Partitions locally with DuckDB (as for a local folder), then publishes the files to the
/// bucket under run-unique names with a manifest.
fn write_partitioned_object(
    ctx: &TaskContext,
    sink: &SinkTask,
    input: &Path,
    url: &str,
    access: &S3Access,
) -> Result<(), TaskError> {
    let staging = temp_path_for(ctx.output);
    let result = (|| {
        partition_with_duckdb(ctx, sink, input, &staging)?;
        let token = run_token();
        let mut files = Vec::new();
        collect_files(&staging, &staging, &mut files).map_err(|e| TaskError::data("cannot read the partitioned output", e))?;
        files.sort();
        let named: Vec<(String, std::path::PathBuf)> = files
            .into_iter()
            .enumerate()
            .map(|(i, rel)| {
                let dir = rel.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
                (format!("{dir}{}{token}-{i}.{}", s3::PART_PREFIX, sink.format.extension()), staging.join(&rel))
            })
            .collect();
        let append = sink.mode == WriteMode::Append;
        let report = s3::publish_partitioned(access, url, &sink.partition_by, &named, append, &|| ctx.cancel.check().is_err())
            .map_err(|e| TaskError::Data(e.to_string()))?;
        ctx.log.line(format!(
            "wrote {url} partitioned by {}: {} file(s), {} bytes, manifest {}{}",
            sink.partition_by.join(", "),
            report.files,
            report.bytes,
            s3::MANIFEST,
            if report.removed > 0 { format!("; removed {} superseded file(s)", report.removed) } else { String::new() }
        ));
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// A name part no other run of any process repeats: time and randomness.
fn run_token() -> String {
    let mut r = [0u8; 4];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut r);
    format!("{}-{:02x}{:02x}{:02x}{:02x}", chrono::Utc::now().format("%Y%m%dT%H%M%S"), r[0], r[1], r[2], r[3])
}

/// Files under `dir`, as paths relative to `root` with `/` separators.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            collect_files(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// `COPY … PARTITION_BY` into the folder `dest` (which must not exist): Parquet, or NDJSON.
fn partition_with_duckdb(ctx: &TaskContext, sink: &SinkTask, input: &Path, dest: &Path) -> Result<(), TaskError> {
    let conn = duckdb_files::open_in_memory_within(ctx.memory).map_err(|e| TaskError::data("cannot start DuckDB", e))?;
    let cols: Vec<String> = sink.partition_by.iter().map(|c| quote_ident(c)).collect();
    let format = if sink.format == SinkFormat::Ndjson { "json" } else { "parquet" };
    let copy = format!(
        "COPY (SELECT * FROM read_parquet({})) TO {} (FORMAT {format}, PARTITION_BY ({}))",
        quote_str(&input.to_string_lossy()),
        quote_str(&dest.to_string_lossy()),
        cols.join(", ")
    );
    let res = conn
        .execute_batch(&copy)
        .map_err(|e| TaskError::data(format!("cannot write partitioned {format}"), e))
        .and_then(|_| ctx.cancel.check());
    if res.is_err() {
        let _ = std::fs::remove_dir_all(dest);
    }
    res
}

fn write_partitioned(ctx: &TaskContext, sink: &SinkTask, input: &Path) -> Result<(), TaskError> {
    let dest = target(ctx, sink.path.as_deref().unwrap_or_default());
    prepare(ctx, &dest)?;
    let tmp = temp_path_for(&dest);
    partition_with_duckdb(ctx, sink, input, &tmp)?;
    // Swap folders: the old one moves aside, the new one in, then the old one goes.
    let old = temp_path_for(&dest);
    let had_old = dest.exists();
    let io = |e: std::io::Error| TaskError::data(format!("cannot replace {}", dest.display()), e);
    if had_old {
        std::fs::rename(&dest, &old).map_err(io)?;
    }
    publish(&tmp, &dest).map_err(io)?;
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    ctx.log.line(format!("wrote {} partitioned by {}", dest.display(), sink.partition_by.join(", ")));
    Ok(())
}

fn write_duckdb(ctx: &TaskContext, sink: &SinkTask, input: &Path) -> Result<(), TaskError> {
    let db_path = target(ctx, sink.database.as_deref().unwrap_or_default());
    let table = sink.table.as_deref().unwrap_or_default();
    let qualified: Vec<String> = table.split('.').map(quote_ident).collect();
    let qtable = qualified.join(".");
    ensure_parent(&db_path)?;
    let file = ctx.duckdb.get(&db_path, DUCKDB_LOCK_WAIT).map_err(TaskError::Data)?;
    ctx.log.line(format!("waiting for the writer lock of {}", db_path.display()));
    let mut conn = file.conn.lock().unwrap_or_else(|p| p.into_inner());
    ctx.cancel.check()?;
    if let Some(m) = ctx.memory {
        // The file's instance is shared by its sinks, so each writer sets its own budget while it
        // holds the lock. A database file spills beside itself (`<file>.tmp`), DuckDB's default.
        conn.execute_batch(&format!("SET memory_limit = '{}KiB'", (m.bytes / 1024).max(1)))
            .map_err(|e| TaskError::Data(format!("cannot set the memory limit of {}: {e}", db_path.display())))?;
    }
    let src = format!("read_parquet({})", quote_str(&input.to_string_lossy()));
    let err = |e: duckdb::Error| TaskError::Data(format!("cannot write table {table} in {}: {e}", db_path.display()));
    let tx = conn.transaction().map_err(err)?;
    if qualified.len() == 2 {
        tx.execute_batch(&format!("CREATE SCHEMA IF NOT EXISTS {}", qualified[0])).map_err(err)?;
    }
    let (schema, name) = match table.split_once('.') {
        Some((s, n)) => (s, n),
        None => ("main", table),
    };
    let exists: bool = tx
        .query_row(
            "SELECT COUNT(*) > 0 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
            |r| r.get(0),
        )
        .map_err(err)?;
    match sink.mode {
        WriteMode::Create if exists => {
            return Err(TaskError::Data(format!(
                "table {table} already exists in {}; use mode = \"replace\" or \"append\"",
                db_path.display()
            )))
        }
        WriteMode::Create => tx.execute_batch(&format!("CREATE TABLE {qtable} AS SELECT * FROM {src}")).map_err(err)?,
        WriteMode::Replace => {
            tx.execute_batch(&format!("CREATE OR REPLACE TABLE {qtable} AS SELECT * FROM {src}")).map_err(err)?
        }
        WriteMode::Append if exists => {
            tx.execute_batch(&format!("INSERT INTO {qtable} BY NAME SELECT * FROM {src}")).map_err(err)?
        }
        WriteMode::Append => tx.execute_batch(&format!("CREATE TABLE {qtable} AS SELECT * FROM {src}")).map_err(err)?,
        // Refused when the pipeline loads.
        WriteMode::Upsert => return Err(TaskError::Data("mode = \"upsert\" is for postgres sinks".into())),
    }
    tx.commit().map_err(err)?;
    ctx.log.line(format!("wrote table {table} in {} (mode {})", db_path.display(), sink.mode.as_str()));
    Ok(())
}

/// Creates the target's folder and removes what dead writers of it left there.
fn prepare(ctx: &TaskContext, dest: &Path) -> Result<(), TaskError> {
    ensure_parent(dest)?;
    let swept = sweep_temps_beside(dest, ctx.owners);
    if swept > 0 {
        ctx.log.line(format!("removed {swept} temp output(s) left beside {} by interrupted runs", dest.display()));
    }
    Ok(())
}

fn ensure_parent(dest: &Path) -> Result<(), TaskError> {
    if let Some(p) = dest.parent() {
        std::fs::create_dir_all(p).map_err(|e| TaskError::data(format!("cannot create {}", p.display()), e))?;
    }
    Ok(())
}
