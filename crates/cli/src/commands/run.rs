//! `polder run DIR`: runs a pipeline with live progress and a summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use polder_engine::{run_pipeline, RunCancel, RunOptions, RunStatus, RunSummary, TaskStatus};

use crate::table;

/// Arguments of `polder run`.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline folder or name.
    #[arg(value_name = "PIPELINE", long_help = super::PIPELINE_HELP)]
    pub dir: PathBuf,
    /// Run only this task (repeatable), on its upstreams' latest outputs.
    #[arg(long = "only", value_name = "TASK")]
    pub only: Vec<String>,
    /// Rerun every task, ignoring cached outputs.
    #[arg(long)]
    pub force: bool,
    /// Set a parameter (repeatable): --param run_date=2023-05-01.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Most tasks at once (default: the pipeline's max_parallel, else the number of cores).
    #[arg(long)]
    pub max_parallel: Option<usize>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs the pipeline and returns the process exit code (0 ok, 1 failed, 130 cancelled).
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let summary = execute(workspace, &args)?;
    print_summary(&summary, args.json);
    Ok(exit_code(&summary))
}

/// Runs the pipeline with live progress; Ctrl-C cancels cleanly (twice exits at once).
pub fn execute(workspace: &Path, args: &Args) -> Result<RunSummary> {
    let pipeline = Arc::new(super::load_pipeline(&super::pipeline_dir(workspace, &args.dir)?)?);
    let ws = Arc::new(super::open_workspace(workspace)?);
    // Leftovers of killed runs beside sink targets: this pipeline's and the workspace's others'.
    let others: Vec<_> = polder_engine::spec::discover(ws.root()).into_iter().filter_map(|(_, p)| p.ok()).collect();
    ws.sweep_sink_temps(std::iter::once(pipeline.as_ref()).chain(&others));
    let params = args.params.iter().map(|p| polder_engine::params::parse_assignment(p)).collect::<Result<Vec<_>, _>>()?;
    let opts =
        RunOptions { params, only: args.only.clone(), force: args.force, max_parallel: args.max_parallel, trigger: "cli".into() };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let cancel = RunCancel::new();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let renderer = tokio::spawn(crate::progress::render(rx));
        let c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\ncancelling: stopping running tasks (Ctrl-C again to exit at once)");
                c.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        let summary = run_pipeline(ws, pipeline, opts, Some(tx), cancel).await;
        let _ = renderer.await;
        Ok(summary?)
    })
}

/// 0 when the run succeeded, 130 when cancelled, else 1.
pub fn exit_code(s: &RunSummary) -> ExitCode {
    match s.status {
        RunStatus::Success => ExitCode::SUCCESS,
        RunStatus::Cancelled => ExitCode::from(130),
        _ => ExitCode::FAILURE,
    }
}

/// Prints the end-of-run table (or JSON) and the errors of failed tasks.
pub fn print_summary(s: &RunSummary, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(s).unwrap_or_default());
        return;
    }
    let mut t = table::new(&["task", "status", "attempts", "rows", "time"]);
    for task in &s.tasks {
        t.add_row(vec![
            task.task.clone(),
            task.status.as_str().to_string(),
            task.attempts.to_string(),
            task.rows.map(table::count).unwrap_or_default(),
            if task.attempts > 0 { table::duration(task.duration_ms) } else { String::new() },
        ]);
    }
    println!("{t}");
    let ran = s.tasks.iter().filter(|t| t.status == TaskStatus::Success).count();
    let cached = s.tasks.iter().filter(|t| t.status == TaskStatus::Cached).count();
    println!("run {} {} in {} ({ran} ran, {cached} cached)", s.run_id, s.status, table::duration(s.duration_ms));
    for task in s.tasks.iter().filter(|t| t.status == TaskStatus::Failed) {
        eprintln!("\ntask '{}' failed: {}", task.task, task.error.as_deref().unwrap_or(""));
    }
    for task in &s.tasks {
        for w in &task.warnings {
            eprintln!("warning: task '{}': {w}", task.task);
        }
    }
}
