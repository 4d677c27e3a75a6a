//! `polder preview DIR TASK`: the head of a task's latest output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use polder_engine::inspect;
use polder_engine::tasks::Input;

/// Arguments of `polder preview`.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline folder or name.
    #[arg(value_name = "PIPELINE", long_help = super::PIPELINE_HELP)]
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

/// Prints the first rows of the task's newest output (a view is computed on the fly).
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let p = super::load_pipeline(&super::pipeline_dir(workspace, &args.dir)?)?;
    let ws = super::open_workspace(workspace)?;
    let input = inspect::latest(&ws, &p, &args.task)?;
    if args.json {
        for row in inspect::input_json(&input, args.limit)? {
            println!("{}", serde_json::Value::Object(row));
        }
        return Ok(ExitCode::SUCCESS);
    }
    match &input {
        Input::Artifact(path) => println!("{} · {}", args.task, path.display()),
        Input::View(_) => println!("{} · view, computed from its upstreams' latest outputs", args.task),
    }
    println!("{}", inspect::input_table(&input, args.limit)?);
    Ok(ExitCode::SUCCESS)
}
