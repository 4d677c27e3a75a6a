//! The `sql` task: one query over upstream outputs (read as tables named by task id), on Polars or DuckDB.

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::spec::{SqlEngine, SqlTask};
use std::collections::BTreeMap;

use crate::tasks::frame::sink_parquet;
use crate::tasks::Input;
use crate::tasks::{quote_ident, quote_str, TaskContext, TaskError, TaskOutcome};

/// The lazy plan of a Polars SQL query over `upstream` (tables named by task id).
pub fn polars_plan(query: &str, upstream: &BTreeMap<String, Input>) -> Result<LazyFrame, String> {
    let mut sc = SQLContext::new();
    for (name, input) in upstream {
        sc.register(name, input.lazy().map_err(|e| e.to_string())?);
    }
    sc.execute(query.trim().trim_end_matches(';')).map_err(|e| e.to_string())
}

/// Runs a SQL task on its engine.
pub fn run(ctx: &TaskContext, task: &SqlTask) -> Result<TaskOutcome, TaskError> {
    let query = task.sql.trim().trim_end_matches(';').trim_end();
    ctx.log.line(format!("engine: {}\n{query}", ctx.engine.as_str()));
    let sql_err = |message: String| TaskError::Sql { engine: ctx.engine.as_str(), file: task.file.clone(), message };
    match ctx.engine {
        SqlEngine::Polars => {
            let mut lf = polars_plan(query, ctx.upstream).map_err(sql_err)?;
            if let Some(limit) = ctx.limit {
                lf = lf.limit(limit as IdxSize);
            }
            ctx.cancel.check()?;
            // Column and type errors surface when the plan runs; they are still the query's fault.
            sink_parquet(lf, ctx.output).map_err(|e| sql_err(e.to_string()))?;
        }
        SqlEngine::DuckDb => {
            let conn = ctx.confined_duckdb()?;
            let handle = conn.interrupt_handle();
            ctx.cancel.on_cancel(move || handle.interrupt());
            for name in ctx.upstream.keys() {
                let path = ctx.input(name)?;
                let view = format!(
                    "CREATE VIEW {} AS SELECT * FROM read_parquet({})",
                    quote_ident(name),
                    quote_str(&path.to_string_lossy())
                );
                conn.execute_batch(&view)
                    .map_err(|e| TaskError::data(format!("cannot expose upstream '{name}' to DuckDB"), e))?;
            }
            // The query keeps lines of its own inside the wrapper, so DuckDB's `LINE n:` excerpts
            // show the user's text; `wrapper_lines` is subtracted from n in error messages.
            let (body, wrapper_lines) = match ctx.limit {
                Some(n) => (format!("SELECT * FROM (\n{query}\n) LIMIT {n}"), 2),
                None => (query.to_string(), 1),
            };
            let copy = format!("COPY (\n{body}\n) TO {} (FORMAT parquet)", quote_str(&ctx.output.to_string_lossy()));
            conn.execute_batch(&copy).map_err(|e| {
                if ctx.cancel.is_set() {
                    TaskError::Cancelled
                } else {
                    sql_err(crate::sqlerror::shift_duckdb_lines(&e.to_string(), wrapper_lines))
                }
            })?;
        }
    }
    Ok(TaskOutcome { has_output: true, ..Default::default() })
}
