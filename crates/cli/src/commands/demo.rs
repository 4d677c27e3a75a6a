//! `polder demo`: generate the demo data if missing, run examples/medallion, show the gold table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use polder_datagen::medallion;

use super::run as run_cmd;

/// Arguments of `polder demo`.
#[derive(clap::Args)]
pub struct Args {
    /// The medallion example folder.
    #[arg(long, default_value = "examples/medallion")]
    dir: PathBuf,
    /// Rows of generated viewing logs.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Rerun every task.
    #[arg(long)]
    force: bool,
}

/// Runs the demo end to end.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    if !args.dir.join("pipeline.toml").exists() {
        bail!("{} is not the medallion example; run `polder demo` from the repository root or pass --dir", args.dir.display());
    }
    let logs = args.dir.join("data/logs");
    let cfg = medallion::MedallionConfig::with_rows(args.rows);
    if let Some(s) = medallion::write_if_missing(&cfg, &logs)? {
        eprintln!(
            "generated {} rows of viewing logs in {} files under {}",
            crate::table::count(s.rows as u64),
            s.files.len(),
            logs.display()
        );
    }
    let run_args =
        run_cmd::Args { dir: args.dir.clone(), only: vec![], force: args.force, params: vec![], max_parallel: None, json: false };
    let summary = run_cmd::execute(workspace, &run_args)?;
    run_cmd::print_summary(&summary, false);
    if let Some(gold) = summary.task("gold").and_then(|t| t.artifact.clone()) {
        println!("\ngold (RFM segments per contract), first rows:");
        println!("{}", polder_engine::inspect::head_table(&gold, 10)?);
        println!("\nnext: polder preview {} silver · polder runs · polder show {}", args.dir.display(), summary.run_id);
    }
    Ok(run_cmd::exit_code(&summary))
}
