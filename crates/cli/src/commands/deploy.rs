//! `polder deploy DIR --to URL`: bundle a pipeline folder and deploy it to a runner.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::remote::Remote;

/// Arguments of `polder deploy`.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline folder or name.
    #[arg(value_name = "PIPELINE", long_help = super::PIPELINE_HELP)]
    dir: PathBuf,
    /// The runner's URL, e.g. http://127.0.0.1:7878.
    #[arg(long)]
    to: String,
    /// API token (default: POLDER_TOKEN).
    #[arg(long)]
    token: Option<String>,
}

/// Validates locally, bundles, uploads; prints the new version and the next scheduled run.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let dir = super::pipeline_dir(workspace, &args.dir)?;
    let p = super::load_pipeline(&dir)?;
    let remote = Remote::new(&args.to, args.token)?;
    // A runner refuses a bad token before reading the body: check it with a small request first,
    // so a large upload does not end in a broken pipe instead of the runner's message.
    remote.get_text("/api/status")?;
    let bundle = polder_runner::deploys::bundle(&dir).map_err(anyhow::Error::msg)?;
    let answer = remote.post("/api/deploy", "application/gzip", &bundle)?;
    println!(
        "deployed '{}' as version {} to {} ({} KiB bundle)",
        p.name,
        answer["version"],
        args.to,
        bundle.len().div_ceil(1024)
    );
    match answer["next_run"].as_str() {
        Some(next) => println!("schedule {}: next run {next}", answer["schedule"].as_str().unwrap_or("")),
        None => println!("no schedule: trigger it with `polder remote trigger {} --to {}`", p.name, args.to),
    }
    Ok(ExitCode::SUCCESS)
}
