//! `polder backfill DIR --from D --until D`: run a pipeline once per schedule interval in a
//! range, locally, each with the interval's logical date as `run_date`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use polder_engine::RunStatus;

use super::run as run_cmd;

/// Arguments of `polder backfill`.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline folder or name (it needs a `schedule`).
    #[arg(value_name = "PIPELINE", long_help = super::PIPELINE_HELP)]
    dir: PathBuf,
    /// First day (YYYY-MM-DD, in the schedule's time zone).
    #[arg(long)]
    from: String,
    /// Last day, inclusive.
    #[arg(long)]
    until: String,
    /// Rerun tasks even when their outputs are cached.
    #[arg(long)]
    force: bool,
}

/// One run per interval, oldest first; stops at the first failed run.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let dir = super::pipeline_dir(workspace, &args.dir)?;
    let p = super::load_pipeline(&dir)?;
    let Some(expr) = p.schedule.as_deref() else {
        bail!("pipeline '{}' has no schedule; give it one, or run it with --param run_date=…", p.name)
    };
    let dates = polder_runner::scheduler::backfill_dates(expr, p.timezone.as_deref(), &args.from, &args.until)
        .map_err(anyhow::Error::msg)?;
    println!("backfilling '{}': {} intervals ({} … {})", p.name, dates.len(), args.from, args.until);
    for d in dates {
        let run_args = run_cmd::Args {
            dir: dir.clone(),
            only: vec![],
            force: args.force,
            params: vec![format!("run_date={d}")],
            max_parallel: None,
            json: false,
        };
        let s = run_cmd::execute(workspace, &run_args)?;
        println!("run_date {d}: run {} {}", s.run_id, s.status);
        if s.status != RunStatus::Success {
            run_cmd::print_summary(&s, false);
            return Ok(run_cmd::exit_code(&s));
        }
    }
    Ok(ExitCode::SUCCESS)
}
