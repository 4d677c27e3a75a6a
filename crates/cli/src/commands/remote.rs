//! `polder remote runs|trigger|logs`: work with a runner from the command line.

use std::process::ExitCode;

use anyhow::Result;

use crate::remote::Remote;
use crate::table;

/// Arguments of `polder remote`.
#[derive(clap::Args)]
pub struct Args {
    /// The runner's URL.
    #[arg(long, global = true, default_value = "http://127.0.0.1:7878")]
    to: String,
    /// API token (default: POLDER_TOKEN).
    #[arg(long, global = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Recent runs on the runner.
    Runs {
        /// Only this pipeline.
        #[arg(long)]
        pipeline: Option<String>,
    },
    /// Start a run.
    Trigger {
        /// Pipeline name.
        pipeline: String,
        /// Parameter (repeatable): --param run_date=2023-05-01.
        #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// Queue one run per schedule interval in a date range on the runner.
    Backfill {
        /// Pipeline name.
        pipeline: String,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// Last day, inclusive.
        #[arg(long)]
        until: String,
    },
    /// Print a task's log.
    Logs {
        /// Run id.
        run: i64,
        /// Task id.
        task: String,
    },
}

/// Runs the remote command.
pub fn run(args: Args) -> Result<ExitCode> {
    let remote = Remote::new(&args.to, args.token)?;
    match args.command {
        Cmd::Runs { pipeline } => {
            let q = pipeline.map(|p| format!("?pipeline={p}")).unwrap_or_default();
            let runs = remote.get_json(&format!("/api/runs{q}"))?;
            let mut t = table::new(&["run", "pipeline", "status", "started (UTC)", "trigger"]);
            for r in runs.as_array().into_iter().flatten() {
                t.add_row(vec![
                    r["id"].to_string(),
                    r["pipeline"].as_str().unwrap_or("").to_string(),
                    r["status"].as_str().unwrap_or("").to_string(),
                    table::timestamp(r["started_at_ms"].as_i64().unwrap_or(0)),
                    r["trigger"].as_str().unwrap_or("").to_string(),
                ]);
            }
            println!("{t}");
        }
        Cmd::Trigger { pipeline, params } => {
            let mut map = serde_json::Map::new();
            for p in &params {
                let (k, v) = polder_engine::params::parse_assignment(p)?;
                map.insert(k, v.into());
            }
            let body = serde_json::json!({ "params": map }).to_string();
            let answer = remote.post(&format!("/api/pipelines/{pipeline}/runs"), "application/json", body.as_bytes())?;
            match answer["run_id"].as_i64() {
                Some(id) => println!("started run {id} of '{pipeline}'"),
                None => println!("queued as {} (the runner is at its run limit)", answer["queued"]),
            }
        }
        Cmd::Backfill { pipeline, from, until } => {
            let body = serde_json::json!({ "from": from, "to": until }).to_string();
            let answer = remote.post(&format!("/api/pipelines/{pipeline}/backfill"), "application/json", body.as_bytes())?;
            let n = answer["queued"].as_array().map_or(0, |a| a.len());
            println!("queued {n} runs of '{pipeline}' for run dates {}", answer["run_dates"]);
        }
        Cmd::Logs { run, task } => print!("{}", remote.get_text(&format!("/api/runs/{run}/tasks/{task}/log"))?),
    }
    Ok(ExitCode::SUCCESS)
}
