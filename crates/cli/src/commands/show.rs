//! `polder show RUN`: one run and its task runs.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::table;

/// Arguments of `polder show`.
#[derive(clap::Args)]
pub struct Args {
    /// The run id (see `polder runs`).
    run: i64,
}

/// Prints the run, its tasks, and the errors with their log files.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let ws = super::open_workspace(workspace)?;
    let r = ws
        .store
        .get_run(args.run)?
        .with_context(|| format!("no run {} in {}; see `polder runs`", args.run, ws.root().display()))?;
    println!("run {} of pipeline '{}': {}", r.id, r.pipeline, r.status);
    println!("started {} UTC, trigger {}, params {}", table::timestamp(r.started_at_ms), r.trigger, r.params);
    let mut t = table::new(&["task", "kind", "status", "attempts", "rows", "bytes", "time", "fingerprint"]);
    let tasks = ws.store.task_runs(r.id)?;
    for tr in &tasks {
        let time = match (tr.started_at_ms, tr.ended_at_ms) {
            (Some(s), Some(e)) if tr.attempts > 0 => table::duration((e - s).max(0) as u64),
            _ => String::new(),
        };
        t.add_row(vec![
            tr.task_id.clone(),
            tr.kind.clone(),
            tr.status.to_string(),
            tr.attempts.to_string(),
            tr.rows.map(table::count).unwrap_or_default(),
            tr.bytes.map(table::count).unwrap_or_default(),
            time,
            tr.fingerprint[..12.min(tr.fingerprint.len())].to_string(),
        ]);
    }
    println!("{t}");
    for tr in tasks.iter().filter(|t| t.error.is_some()) {
        println!("\ntask '{}' ({}): {}", tr.task_id, tr.status, tr.error.as_deref().unwrap_or(""));
        if let Some(log) = &tr.log_path {
            println!("  log: {}", ws.resolve(log).display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
