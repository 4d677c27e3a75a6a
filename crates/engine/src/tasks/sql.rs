//! The `sql` task: one query over upstream outputs (read as tables named by task id), on Polars or DuckDB.

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::duckdb_files::Settings;
use crate::polars_sql;
use crate::spec::{SqlEngine, SqlTask, TaskKind};
use std::collections::BTreeMap;

use crate::tasks::frame::sink_parquet;
use crate::tasks::view_scan;
use crate::tasks::Input;
use crate::tasks::{quote_ident, quote_str, TaskContext, TaskError, TaskOutcome};

/// The lazy plan of a Polars SQL query over `upstream` (tables named by task id), with the
/// changes that make Polars answer like DuckDB: explicit NULLS LAST, and widened decimal and
/// integer inputs when the query computes (see [`polars_sql`]).
pub fn polars_plan(query: &str, upstream: &BTreeMap<String, Input>) -> Result<LazyFrame, String> {
    quiet_polars_warnings();
    let query = query.trim().trim_end_matches(';');
    let (text, computes) = match crate::sqlrefs::parse(query, SqlEngine::Polars) {
        Ok(stmts) => {
            let computes = polars_sql::analyze(&stmts).computes;
            (polars_sql::rewrite_for_polars(query, stmts), computes)
        }
        // Polars reports the syntax error in its own words.
        Err(_) => (query.to_string(), false),
    };
    let mut sc = SQLContext::new();
    for (name, input) in upstream {
        let mut lf = input.lazy().map_err(|e| e.to_string())?;
        if computes {
            let schema = lf.collect_schema().map_err(|e| e.to_string())?;
            lf = polars_sql::widen_inputs(lf, &schema);
        }
        sc.register(name, lf);
    }
    sc.execute(&text).map_err(|e| e.to_string())
}

/// Runs a SQL task on its engine.
pub fn run(ctx: &TaskContext, task: &SqlTask) -> Result<TaskOutcome, TaskError> {
    let query = task.sql.trim().trim_end_matches(';').trim_end();
    match ctx.engine {
        SqlEngine::Polars => {
            ctx.log.line(format!("engine: polars{}\n{query}", if task.auto { " (auto)" } else { "" }));
            match polars_plan(query, ctx.upstream) {
                Ok(lf) => run_polars(ctx, task, lf)?,
                // `auto` promised DuckDB's answer; a query Polars cannot plan gets DuckDB itself.
                Err(message) if task.auto => {
                    ctx.log.line(format!("Polars cannot plan this query ({message}); engine = \"auto\" runs it on DuckDB"));
                    run_duckdb(ctx, task, query)?
                }
                Err(message) => return Err(sql_error(SqlEngine::Polars, task, message)),
            }
        }
        SqlEngine::DuckDb => {
            let why = task.route.as_deref().map(|r| format!(" (auto: {r})")).unwrap_or_default();
            ctx.log.line(format!("engine: duckdb{why}\n{query}"));
            run_duckdb(ctx, task, query)?
        }
    }
    Ok(TaskOutcome { has_output: true, ..Default::default() })
}

fn sql_error(engine: SqlEngine, task: &SqlTask, message: String) -> TaskError {
    TaskError::Sql { engine: engine.as_str(), file: task.file.clone(), message }
}

fn run_polars(ctx: &TaskContext, task: &SqlTask, mut lf: LazyFrame) -> Result<(), TaskError> {
    if let Some(limit) = ctx.limit {
        lf = lf.limit(limit as IdxSize);
    }
    ctx.cancel.check()?;
    // Column and type errors surface when the plan runs; they are still the query's fault.
    sink_parquet(lf, ctx.output).map_err(|e| sql_error(SqlEngine::Polars, task, e.to_string()))
}

fn run_duckdb(ctx: &TaskContext, task: &SqlTask, query: &str) -> Result<(), TaskError> {
    let streams = ctx.upstream.values().any(|i| matches!(i, Input::View(v) if matches!(v.kind, TaskKind::Source(_))));
    // A stream has no batch indexes: DuckDB would keep its row order by running parts of the
    // plan on one thread (see `Settings::keep_insertion_order`). A preview (a row limit) keeps
    // it, so the same rows come back each time.
    let settings = match streams {
        true => Settings { threads: view_scan::duckdb_threads(), keep_insertion_order: ctx.limit.is_some() },
        false => Settings::default(),
    };
    let conn = ctx.confined_duckdb_with(settings)?;
    let handle = conn.interrupt_handle();
    ctx.cancel.on_cancel(move || handle.interrupt());
    // Source views stream into the query (only the columns it reads); stored outputs are scanned.
    // `setup` makes the same views on the connection that runs the query (see below).
    let mut exposures = Vec::new();
    let mut setup = Vec::new();
    for (name, input) in ctx.upstream {
        if let Input::View(v) = input {
            if let TaskKind::Source(src) = &v.kind {
                let exposure = view_scan::expose(&conn, name, src, &v.files, ctx.cancel, ctx.log)?;
                setup.push(exposure.view_sql().to_string());
                exposures.push(exposure);
                continue;
            }
        }
        let path = ctx.input(name)?;
        let view = format!(
            "CREATE TEMP VIEW {} AS SELECT * FROM read_parquet({})",
            quote_ident(name),
            quote_str(&path.to_string_lossy())
        );
        conn.execute_batch(&view).map_err(|e| TaskError::data(format!("cannot expose upstream '{name}' to DuckDB"), e))?;
        setup.push(view);
    }
    // The query keeps lines of its own inside the wrapper, so DuckDB's `LINE n:` excerpts
    // show the user's text; `wrapper_lines` is subtracted from n in error messages.
    let (body, wrapper_lines): (String, usize) = match ctx.limit {
        Some(n) => (format!("SELECT * FROM (\n{query}\n) LIMIT {n}"), 2),
        None => (query.to_string(), 1),
    };
    let failed = |message: String| {
        if ctx.cancel.is_set() {
            TaskError::Cancelled
        } else {
            sql_error(SqlEngine::DuckDb, task, crate::sqlerror::shift_duckdb_lines(&message, wrapper_lines))
        }
    };
    // DuckDB writes 128-bit integers (what SUM over integers gives) to Parquet as DOUBLE, which
    // silently loses digits past 2^53; they are written as BIGINT, and a value that does not fit
    // fails the task instead.
    let wide = wide_integer_columns(&conn, &body).map_err(|e| failed(e.to_string()))?;
    let select = if wide.is_empty() {
        body
    } else {
        let replace: Vec<String> = wide.iter().map(|c| format!("CAST({c} AS BIGINT) AS {c}", c = quote_ident(c))).collect();
        format!("SELECT * REPLACE ({}) FROM (\n{body}\n)", replace.join(", "))
    };
    let copy = format!("COPY (\n{select}\n) TO {} (FORMAT parquet)", quote_str(&ctx.output.to_string_lossy()));
    // Through the C API's pending result: DuckDB's own loop would spin on a core while another
    // of its threads holds the query's only task (a stream's scan, a final merge).
    let copied = conn.run_pending(&setup, &copy, ctx.cancel).map_err(failed);
    for exposure in &exposures {
        exposure.log_to(ctx.log);
    }
    copied
}

/// The result columns of `query` that are 128-bit integers.
fn wide_integer_columns(conn: &duckdb::Connection, query: &str) -> duckdb::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("DESCRIBE (\n{query}\n)"))?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut wide = Vec::new();
    for row in rows {
        let (name, dtype) = row?;
        if dtype == "HUGEINT" || dtype == "UHUGEINT" {
            wide.push(name);
        }
    }
    Ok(wide)
}

/// Sends Polars' own warnings to the debug log instead of stderr. They speak of Polars' Python
/// API ("Casting from String to Date is deprecated … use `str.to_date()`", printed for every
/// `DATE '…'` literal of a SQL query), which a Polder user cannot act on.
fn quiet_polars_warnings() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        polars::error::set_warning_function(|message, kind| tracing::debug!(target: "polars", "{kind:?}: {message}"));
    });
}
