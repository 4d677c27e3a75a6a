//! The `validate` task: data quality checks over one upstream output, run on DuckDB.
//! Its output is a sample of failing rows, with a `_check` column naming the failed check.

use crate::spec::{Check, CheckRule, Literal, Severity, ValidateTask};
use crate::tasks::{quote_ident, quote_str, TaskContext, TaskError, TaskOutcome};

/// Runs every check, writes the failing-row sample, then fails if an error-severity check failed.
pub fn run(ctx: &TaskContext, v: &ValidateTask) -> Result<TaskOutcome, TaskError> {
    let input = ctx.input(&v.input)?;
    let conn = ctx.confined_duckdb()?;
    let handle = conn.interrupt_handle();
    ctx.cancel.on_cancel(move || handle.interrupt());
    let view = quote_ident(&v.input);
    let db_err = |what: String| move |e: duckdb::Error| TaskError::Data(format!("{what}: {e}"));
    conn.execute_batch(&format!(
        "CREATE TEMP VIEW {view} AS SELECT * FROM read_parquet({})",
        quote_str(&input.to_string_lossy())
    ))
    .map_err(db_err(format!("cannot read the output of '{}'", v.input)))?;
    let total: i64 =
        conn.query_row(&format!("SELECT COUNT(*) FROM {view}"), [], |r| r.get(0)).map_err(db_err("cannot count rows".into()))?;
    ctx.log.line(format!("{} rows in '{}'", crate::memory::group_digits(total.max(0) as u64), v.input));

    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    let mut samples = Vec::new();
    for check in &v.checks {
        ctx.cancel.check()?;
        let label = label(check);
        let failed_rows: i64 = match (&check.rule, predicate(check, &view)) {
            (CheckRule::RowCount { min, max }, _) => {
                let low = min.is_some_and(|m| (total as u64) < m);
                let high = max.is_some_and(|m| (total as u64) > m);
                if low || high {
                    let bounds = format!(
                        "{}..{}",
                        min.map(|m| m.to_string()).unwrap_or_default(),
                        max.map(|m| m.to_string()).unwrap_or_default()
                    );
                    let msg = format!("{label}: {total} rows, expected {bounds}");
                    push(check.severity, msg, &mut failures, &mut warnings, ctx);
                } else {
                    ctx.log.line(format!("ok   {label}"));
                }
                continue;
            }
            (_, Some(pred)) => {
                let sql = format!("SELECT COUNT(*) FROM {view} WHERE {pred}");
                let n = conn.query_row(&sql, [], |r| r.get(0)).map_err(|e| {
                    TaskError::Data(format!("check {label} could not run: {e}; check the column name or expression"))
                })?;
                if n > 0 {
                    samples.push(format!(
                        "(SELECT {} AS _check, * FROM {view} WHERE {pred} LIMIT {})",
                        quote_str(&label),
                        v.sample_rows
                    ));
                }
                n
            }
            (_, None) => unreachable!("every rule but row_count has a predicate"),
        };
        if failed_rows > 0 {
            push(check.severity, format!("{label}: {failed_rows} of {total} rows fail"), &mut failures, &mut warnings, ctx);
        } else {
            ctx.log.line(format!("ok   {label}"));
        }
    }

    let body = if samples.is_empty() {
        format!("SELECT CAST(NULL AS VARCHAR) AS _check, * FROM {view} WHERE false")
    } else {
        samples.join(" UNION ALL ")
    };
    conn.execute_batch(&format!("COPY ({body}) TO {} (FORMAT parquet)", quote_str(&ctx.output.to_string_lossy())))
        .map_err(db_err("cannot write the failing-row sample".into()))?;
    let failure = (!failures.is_empty()).then_some(TaskError::Validation { failures });
    Ok(TaskOutcome { has_output: true, rows: None, warnings, failure })
}

fn push(severity: Severity, msg: String, failures: &mut Vec<String>, warnings: &mut Vec<String>, ctx: &TaskContext) {
    match severity {
        Severity::Error => {
            ctx.log.line(format!("FAIL {msg}"));
            failures.push(msg);
        }
        Severity::Warn => {
            ctx.log.line(format!("WARN {msg}"));
            warnings.push(msg);
        }
    }
}

/// A short name for a check, e.g. `unique(Contract)`.
pub fn label(check: &Check) -> String {
    let col = check.column.as_deref().unwrap_or("");
    match &check.rule {
        CheckRule::NotNull => format!("not_null({col})"),
        CheckRule::Unique => format!("unique({col})"),
        CheckRule::AcceptedValues(_) => format!("accepted_values({col})"),
        CheckRule::Range { .. } => format!("range({col})"),
        CheckRule::Regex(_) => format!("regex({col})"),
        CheckRule::RowCount { .. } => "row_count".to_string(),
        CheckRule::Expr(e) => format!("expr({e})"),
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Str(s) => quote_str(s),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::Bool(b) => b.to_string().to_uppercase(),
    }
}

/// The SQL condition true for failing rows (None for table-level rules).
fn predicate(check: &Check, view: &str) -> Option<String> {
    let c = quote_ident(check.column.as_deref().unwrap_or(""));
    Some(match &check.rule {
        CheckRule::NotNull => format!("{c} IS NULL"),
        CheckRule::Unique => format!("{c} IN (SELECT {c} FROM {view} WHERE {c} IS NOT NULL GROUP BY {c} HAVING COUNT(*) > 1)"),
        CheckRule::AcceptedValues(vals) => {
            let list: Vec<String> = vals.iter().map(literal).collect();
            format!("{c} IS NOT NULL AND {c} NOT IN ({})", list.join(", "))
        }
        CheckRule::Range { min, max } => {
            let mut parts = Vec::new();
            if let Some(m) = min {
                parts.push(format!("{c} < {}", literal(m)));
            }
            if let Some(m) = max {
                parts.push(format!("{c} > {}", literal(m)));
            }
            format!("({})", parts.join(" OR "))
        }
        CheckRule::Regex(re) => format!("{c} IS NOT NULL AND NOT regexp_matches(CAST({c} AS VARCHAR), {})", quote_str(re)),
        CheckRule::Expr(e) => format!("({e}) IS NOT TRUE"),
        CheckRule::RowCount { .. } => return None,
    })
}
