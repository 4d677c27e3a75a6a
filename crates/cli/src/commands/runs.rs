//! `polder runs`: recent runs.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::table;

/// Arguments of `polder runs`.
#[derive(clap::Args)]
pub struct Args {
    /// Only runs of this pipeline.
    #[arg(long)]
    pipeline: Option<String>,
    /// How many runs.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// Prints the newest runs first.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let ws = super::open_workspace(workspace)?;
    let runs = ws.store.list_runs(args.pipeline.as_deref(), args.limit)?;
    if runs.is_empty() {
        println!("no runs yet in {}; start one with `polder run DIR`", ws.root().display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table::new(&["run", "pipeline", "status", "started (UTC)", "time", "trigger", "error"]);
    for r in runs {
        let time = r.ended_at_ms.map(|e| table::duration((e - r.started_at_ms).max(0) as u64)).unwrap_or_default();
        let err = r.error.as_deref().and_then(|e| e.lines().next()).unwrap_or("").to_string();
        t.add_row(vec![
            r.id.to_string(),
            r.pipeline,
            r.status.to_string(),
            table::timestamp(r.started_at_ms),
            time,
            r.trigger,
            err,
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}
