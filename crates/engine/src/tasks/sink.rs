//! The `sink` task: writes an upstream output to Parquet (optionally hive-partitioned), CSV, or a DuckDB table.
//! Files are written beside the target and renamed into place; DuckDB writes are one transaction.

use std::path::Path;
use std::time::Duration;

use crate::duckdb_files;
use crate::fsutil::{publish, sweep_temps_beside, temp_path_for};
use crate::spec::{SinkFormat, SinkTask, WriteMode};
use crate::tasks::frame::{artifact_info, polars_err, scan_artifact, sink_csv, sink_parquet};
use crate::tasks::{quote_ident, quote_str, TaskContext, TaskError, TaskOutcome};

/// How long a sink waits for another process to release a DuckDB file.
const DUCKDB_LOCK_WAIT: Duration = Duration::from_secs(60);

/// Runs a sink task.
pub fn run(ctx: &TaskContext, sink: &SinkTask) -> Result<TaskOutcome, TaskError> {
    let input = ctx.input(&sink.input)?;
    let rows = artifact_info(input)?.rows;
    match sink.format {
        SinkFormat::Parquet if !sink.partition_by.is_empty() => write_partitioned(ctx, sink, input)?,
        SinkFormat::Parquet | SinkFormat::Csv => write_file(ctx, sink, input)?,
        SinkFormat::DuckDb => write_duckdb(ctx, sink, input)?,
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
    let lf = scan_artifact(input)?;
    let res = match sink.format {
        SinkFormat::Csv => sink_csv(lf, &tmp),
        _ => sink_parquet(lf, &tmp),
    }
    .map_err(polars_err("cannot write sink"))
    .and_then(|_| ctx.cancel.check())
    .and_then(|_| publish(&tmp, &dest).map_err(|e| TaskError::data(format!("cannot move output into {}", dest.display()), e)));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    ctx.log.line(format!("wrote {}", dest.display()));
    res
}

fn write_partitioned(ctx: &TaskContext, sink: &SinkTask, input: &Path) -> Result<(), TaskError> {
    let dest = target(ctx, sink.path.as_deref().unwrap_or_default());
    prepare(ctx, &dest)?;
    let tmp = temp_path_for(&dest);
    let conn = duckdb_files::open_in_memory_within(ctx.memory).map_err(|e| TaskError::data("cannot start DuckDB", e))?;
    let cols: Vec<String> = sink.partition_by.iter().map(|c| quote_ident(c)).collect();
    let copy = format!(
        "COPY (SELECT * FROM read_parquet({})) TO {} (FORMAT parquet, PARTITION_BY ({}))",
        quote_str(&input.to_string_lossy()),
        quote_str(&tmp.to_string_lossy()),
        cols.join(", ")
    );
    let res = conn
        .execute_batch(&copy)
        .map_err(|e| TaskError::data("cannot write partitioned Parquet", e))
        .and_then(|_| ctx.cancel.check());
    if let Err(e) = res {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
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
    }
    tx.commit().map_err(err)?;
    ctx.log.line(format!("wrote table {table} in {} ({:?})", db_path.display(), sink.mode));
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
