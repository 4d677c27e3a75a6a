//! `polder secret set|list|rm`: the workspace's encrypted secret store, for `${secret:NAME}`
//! references in `connections.toml`. Values are read from stdin (never from the command line,
//! which shells keep in their history) and never printed.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use polder_engine::secrets::{default_key_file, FileSecretStore};

/// Arguments of `polder secret`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Store a secret: its value is read from stdin (one line, or all of it).
    Set {
        /// The name, as in `${secret:NAME}`.
        name: String,
    },
    /// List the stored secrets' names.
    List,
    /// Remove a secret.
    Rm {
        /// The name.
        name: String,
    },
}

/// Opens the store of the workspace at `workspace` with the default key file.
pub fn store(workspace: &Path) -> Result<FileSecretStore> {
    let ws = super::open_workspace(workspace)?;
    Ok(FileSecretStore::open(ws.root(), ws.state_dir(), &default_key_file())?)
}

/// Runs `polder secret …`.
pub fn run(workspace: &Path, args: Args) -> Result<ExitCode> {
    let store = store(workspace)?;
    match args.command {
        Command::Set { name } => {
            let mut value = String::new();
            std::io::stdin().read_to_string(&mut value)?;
            // A value typed or piped with `echo` ends with a newline that is not part of it.
            let value = value.strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v)).unwrap_or(&value);
            if value.is_empty() {
                bail!("no value on stdin: `polder secret set {name} < file`, or type it and end with Ctrl-D");
            }
            store.set(&name, value)?;
            println!("secret '{name}' stored (encrypted; key file {})", default_key_file().display());
        }
        Command::List => {
            for name in store.names()? {
                println!("{name}");
            }
        }
        Command::Rm { name } => {
            if !store.remove(&name)? {
                bail!("no secret named '{name}'");
            }
            println!("secret '{name}' removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
