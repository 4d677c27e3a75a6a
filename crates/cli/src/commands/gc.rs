//! `polder gc`: remove artifacts no run needs any more, and Python environments no task used
//! for a while.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

/// Arguments of `polder gc`.
#[derive(clap::Args)]
pub struct Args {
    /// Keep all artifacts of each pipeline's newest N runs.
    #[arg(long, default_value_t = 10)]
    keep_runs: usize,
    /// Remove the Python environments (shared by all workspaces of this user) no task used for
    /// N days; one a task is using is kept.
    #[arg(long, default_value_t = 30, value_name = "N")]
    python_envs_unused_days: u64,
}

/// Collects and reports what was freed.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let ws = super::open_workspace(workspace)?;
    let r = polder_engine::gc::collect_garbage(&ws, args.keep_runs)?;
    println!("removed {} artifact files, {} bytes freed", r.files, crate::table::count(r.bytes));
    let root = polder_engine::python::env::root();
    let idle = Duration::from_secs(args.python_envs_unused_days.saturating_mul(86_400));
    let envs = polder_engine::python::env::collect_unused(&root, idle).with_context(|| {
        format!("cannot collect the Python environments in {} (the folder and its files must be writable by you)", root.display())
    })?;
    println!(
        "removed {} Python environment(s) unused for {} day{} from {}, {} bytes freed",
        envs.envs.len(),
        args.python_envs_unused_days,
        if args.python_envs_unused_days == 1 { "" } else { "s" },
        root.display(),
        crate::table::count(envs.bytes)
    );
    Ok(ExitCode::SUCCESS)
}
