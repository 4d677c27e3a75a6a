//! `polder connection list`: the workspace's connections (`connections.toml`), each with its
//! settings as written (references, never secret values) and whether its references resolve.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use polder_engine::connections::{Connections, Value};

/// Arguments of `polder connection`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// List the connections of the workspace and whether their references resolve here.
    List,
}

/// Runs `polder connection …`.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    match args.command {
        Command::List => list(workspace),
    }
}

fn list(workspace: &Path) -> Result<ExitCode> {
    let connections = Connections::load(workspace).map_err(|e| anyhow::anyhow!("{e}"))?;
    if connections.by_name.is_empty() {
        println!("no connections: declare them in {}", polder_engine::connections::file(workspace).display());
        return Ok(ExitCode::SUCCESS);
    }
    let secrets = super::secret::store(workspace)?;
    let mut all_ok = true;
    for c in connections.by_name.values() {
        let settings: Vec<String> = c
            .settings
            .iter()
            .map(|(k, v)| match v {
                Value::Plain(p) => format!("{k}={p}"),
                Value::Env(n) => format!("{k}=${{env:{n}}}"),
                Value::Secret(n) => format!("{k}=${{secret:{n}}}"),
            })
            .collect();
        let state = match c.resolve(&|name| std::env::var(name).ok(), &secrets) {
            Ok(_) => "ok".to_string(),
            Err(e) => {
                all_ok = false;
                e.to_string()
            }
        };
        println!("{:<16} {:<4} {}  [{state}]", c.name, serde_json::to_value(c.kind)?.as_str().unwrap_or(""), settings.join(" "));
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
