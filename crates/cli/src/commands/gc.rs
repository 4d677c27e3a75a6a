//! `polder gc`: remove artifacts no run needs any more.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `polder gc`.
#[derive(clap::Args)]
pub struct Args {
    /// Keep all artifacts of each pipeline's newest N runs.
    #[arg(long, default_value_t = 10)]
    keep_runs: usize,
}

/// Collects and reports what was freed.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let ws = super::open_workspace(workspace)?;
    let r = polder_engine::gc::collect_garbage(&ws, args.keep_runs)?;
    println!("removed {} artifact files, {} bytes freed", r.files, crate::table::count(r.bytes));
    Ok(ExitCode::SUCCESS)
}
