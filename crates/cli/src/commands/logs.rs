//! `polder logs RUN TASK`: print a task's log from the local workspace.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

/// Arguments of `polder logs`.
#[derive(clap::Args)]
pub struct Args {
    /// The run id (see `polder runs`).
    run: i64,
    /// The task id.
    task: String,
}

/// Prints the log file of the task run.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let ws = super::open_workspace(workspace)?;
    let tr = ws.store.task_runs(args.run)?.into_iter().find(|t| t.task_id == args.task);
    let tr = tr.with_context(|| format!("run {} has no task '{}'; see `polder show {}`", args.run, args.task, args.run))?;
    let rel = tr
        .log_path
        .with_context(|| format!("task '{}' did not run in run {} ({}), so it has no log", args.task, args.run, tr.status))?;
    let path = ws.resolve(&rel);
    print!("{}", std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?);
    Ok(ExitCode::SUCCESS)
}
