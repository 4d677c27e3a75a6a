//! One module per subcommand.

pub mod backfill;
pub mod demo;
pub mod deploy;
pub mod gc;
pub mod gen;
pub mod init;
pub mod logs;
pub mod preview;
pub mod remote;
pub mod run;
pub mod runs;
pub mod serve;
pub mod show;
pub mod validate;

use std::path::Path;

use anyhow::Result;
use polder_engine::{Pipeline, SpecError};

/// Loads a pipeline, turning spec errors into a message that lists every problem.
pub fn load_pipeline(dir: &Path) -> Result<Pipeline> {
    polder_engine::load(dir).map_err(|e: SpecError| anyhow::anyhow!("{e}"))
}

/// Opens the workspace.
pub fn open_workspace(root: &Path) -> Result<polder_engine::Workspace> {
    Ok(polder_engine::Workspace::open(root)?)
}
