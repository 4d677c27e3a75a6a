//! `polder validate DIR`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `polder validate`.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline folder or name.
    #[arg(value_name = "PIPELINE", long_help = super::PIPELINE_HELP)]
    dir: PathBuf,
}

/// Loads and checks the pipeline; prints its tasks in execution order.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let p = super::load_pipeline(&super::pipeline_dir(workspace, &args.dir)?)?;
    let order = polder_engine::dag::topo_order(&p).map_err(|c| anyhow::anyhow!("dependency cycle: {}", c.join(" → ")))?;
    let edges: usize = p.tasks.iter().map(|t| t.upstream.len()).sum();
    println!("pipeline '{}' is valid: {} tasks, {} dependencies", p.name, p.tasks.len(), edges);
    for i in order {
        let t = &p.tasks[i];
        let ups = if t.upstream.is_empty() { String::new() } else { format!("  ← {}", t.upstream.join(", ")) };
        println!("  {:<24} {:<9}{ups}", t.id, t.kind_name());
    }
    Ok(ExitCode::SUCCESS)
}
