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
        // Where `auto` sends each query, and why not Polars.
        let engine = match &t.kind {
            polder_engine::spec::TaskKind::Sql(s) => match &s.route {
                Some(why) => format!("  [duckdb: {why}]"),
                None => format!("  [{}]", s.runs_on.as_str()),
            },
            _ => String::new(),
        };
        println!("  {:<24} {:<9}{ups}{engine}", t.id, t.kind_name());
    }
    // Connections are the workspace's: each one a task names must be declared there.
    let declared = polder_engine::connections::Connections::load(workspace).map_err(|e| anyhow::anyhow!("{e}"))?;
    let undeclared = polder_engine::connections::undeclared(&p, &declared);
    if !undeclared.is_empty() {
        for problem in &undeclared {
            eprintln!("{problem}");
        }
        eprintln!("pipeline '{}': {} task(s) name connections the workspace does not declare", p.name, undeclared.len());
        return Ok(ExitCode::FAILURE);
    }
    // Every SQL task planned over its inputs' schemas (empty frames), before any run.
    let paths = polder_engine::paths::PathPolicy::from_env()?;
    let scratch = std::env::temp_dir().join(format!("polder-plancheck-{}", std::process::id()));
    let checked = polder_engine::plancheck::check(&p, &scratch, &paths, None);
    for (task, why) in &checked.unchecked {
        println!("  not planned ahead: {task} ({why})");
    }
    if !checked.problems.is_empty() {
        for problem in &checked.problems {
            eprintln!("{problem}");
        }
        eprintln!("pipeline '{}': {} task(s) would fail; nothing was run", p.name, checked.problems.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
