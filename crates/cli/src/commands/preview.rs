//! `polder preview DIR TASK`: the head of a task's latest output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};

/// Arguments of `polder preview`.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline folder.
    dir: PathBuf,
    /// The task whose output to show.
    task: String,
    /// Rows to show.
    #[arg(long, short = 'n', default_value_t = 10)]
    limit: usize,
    /// Print rows as JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

/// Prints the first rows of the task's newest artifact.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let p = super::load_pipeline(&args.dir)?;
    if p.task(&args.task).is_none() {
        let ids: Vec<&str> = p.tasks.iter().map(|t| t.id.as_str()).collect();
        bail!("pipeline '{}' has no task '{}'; its tasks: {}", p.name, args.task, ids.join(", "));
    }
    let ws = super::open_workspace(workspace)?;
    let Some((run_id, _, facts)) = ws.store.latest_output(&p.name, &args.task)? else {
        bail!("task '{}' has no output yet; run `polder run {}` first", args.task, args.dir.display());
    };
    let path = ws.resolve(facts.artifact.as_deref().unwrap_or_default());
    if args.json {
        for row in polder_engine::inspect::head_json(&path, args.limit)? {
            println!("{}", serde_json::Value::Object(row));
        }
    } else {
        println!("{} · run {run_id} · {} rows", args.task, facts.rows.map(crate::table::count).unwrap_or_default());
        println!("{}", polder_engine::inspect::head_table(&path, args.limit)?);
    }
    Ok(ExitCode::SUCCESS)
}
