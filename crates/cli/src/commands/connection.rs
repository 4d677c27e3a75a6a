//! `polder connection list|test`: the workspace's connections (`connections.toml`), each with its
//! settings as written (references, never secret values) and whether its references resolve;
//! `test` asks the server whether it answers, takes the credentials and has the bucket.

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
    /// Add or change a connection in connections.toml: `polder connection set lake
    /// endpoint=http://127.0.0.1:9000 bucket=lake access_key_id='${env:LAKE_KEY}' --secret
    /// secret_access_key < value-file` (a secret setting left out keeps its reference).
    Set {
        /// The connection's name.
        name: String,
        /// Its type.
        #[arg(long = "type", default_value = "s3")]
        kind: String,
        /// Settings as KEY=VALUE (plain values, or ${env:NAME} / ${secret:NAME} references).
        settings: Vec<String>,
        /// A secret setting whose value is read from stdin into the secret store.
        #[arg(long)]
        secret: Option<String>,
    },
    /// Remove a connection from connections.toml.
    Rm {
        /// The connection's name.
        name: String,
    },
    /// Check in one line that a connection's endpoint answers, its credentials are accepted and
    /// its bucket exists.
    Test {
        /// The connection's name.
        name: String,
        /// The bucket to look for (default: the connection's `bucket` setting).
        #[arg(long)]
        bucket: Option<String>,
    },
}

/// Runs `polder connection …`.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    match args.command {
        Command::List => list(workspace),
        Command::Test { name, bucket } => test(workspace, &name, bucket.as_deref()),
        Command::Set { name, kind, settings, secret } => set(workspace, &name, &kind, &settings, secret.as_deref()),
        Command::Rm { name } => {
            if polder_runner::connections::remove(workspace, &name).map_err(anyhow::Error::msg)? {
                println!("removed connection '{name}'");
                Ok(ExitCode::SUCCESS)
            } else {
                anyhow::bail!("no connection named '{name}' in {}", polder_engine::connections::file(workspace).display())
            }
        }
    }
}

fn set(workspace: &Path, name: &str, kind: &str, pairs: &[String], secret: Option<&str>) -> Result<ExitCode> {
    if !polder_engine::spec::valid_name(name) {
        anyhow::bail!("connection name `{name}` must be letters, digits, _ and -");
    }
    let kind = polder_engine::connections::ConnectionType::parse(kind).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown connection type `{kind}`; types: {}",
            polder_engine::connections::ConnectionType::NAMES.join(", ")
        )
    })?;
    let mut settings = std::collections::BTreeMap::new();
    for pair in pairs {
        let (k, v) = pair.split_once('=').ok_or_else(|| anyhow::anyhow!("`{pair}` is not KEY=VALUE"))?;
        settings.insert(k.trim().to_string(), v.to_string());
    }
    if let Some(key) = secret {
        if !kind.setting_infos().iter().any(|i| i.secret && i.key == key) {
            anyhow::bail!("`{key}` is not a secret setting of a {} connection", kind.name());
        }
        let mut value = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut value)?;
        let value = value.strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v)).unwrap_or(&value);
        if value.is_empty() {
            anyhow::bail!("no value for `{key}` on stdin");
        }
        let secret_name = polder_runner::connections::secret_name(name, key);
        super::secret::store(workspace)?.set(&secret_name, value)?;
        settings.insert(key.to_string(), format!("${{secret:{secret_name}}}"));
    }
    polder_runner::connections::put(workspace, name, kind, settings).map_err(anyhow::Error::msg)?;
    println!("saved connection '{name}' in {}", polder_engine::connections::file(workspace).display());
    Ok(ExitCode::SUCCESS)
}

fn test(workspace: &Path, name: &str, bucket: Option<&str>) -> Result<ExitCode> {
    let ws = super::open_workspace(workspace)?;
    let (ok, verdict) = polder_runner::connections::test(&ws, name, bucket).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{verdict}");
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
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
