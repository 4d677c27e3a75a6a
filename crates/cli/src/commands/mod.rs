//! One module per subcommand.

pub mod backfill;
pub mod connection;
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
pub mod secret;
pub mod serve;
pub mod show;
pub mod validate;

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};
use polder_engine::spec::SPEC_FILE;
use polder_engine::{Pipeline, SpecError};

/// Help shared by every PIPELINE argument: how a name or path is looked up.
pub const PIPELINE_HELP: &str = "The pipeline: a folder path, or a pipeline name looked up in the workspace. \
A bare NAME is found as the folder WORKSPACE/NAME, else as the pipeline named NAME below the workspace, \
else as ./NAME; a relative path is tried from the current directory first, then from the workspace; \
an absolute path is used as is.";

/// The pipeline folder `arg` names, by the precedence in [`PIPELINE_HELP`]. A bare name is a
/// pipeline's name, which belongs to the workspace, so `--workspace` decides it first; a path
/// keeps meaning what the shell completed it to.
pub fn pipeline_dir(workspace: &Path, arg: &Path) -> Result<PathBuf> {
    if arg.is_absolute() {
        return Ok(arg.to_path_buf());
    }
    let is_pipeline = |d: &Path| d.join(SPEC_FILE).is_file();
    let bare = matches!(arg.components().collect::<Vec<_>>().as_slice(), [Component::Normal(_)]);
    let in_ws = workspace.join(arg);
    if bare {
        if is_pipeline(&in_ws) {
            return Ok(in_ws);
        }
        let name = arg.to_string_lossy();
        if let Some((dir, _)) =
            polder_engine::spec::discover(workspace).into_iter().find(|(_, p)| p.as_ref().is_ok_and(|p| p.name == name))
        {
            return Ok(dir);
        }
        if is_pipeline(arg) {
            return Ok(arg.to_path_buf());
        }
    } else {
        if is_pipeline(arg) {
            return Ok(arg.to_path_buf());
        }
        if is_pipeline(&in_ws) {
            return Ok(in_ws);
        }
    }
    // A folder without pipeline.toml: let the loader say what is missing there.
    if arg.is_dir() {
        return Ok(arg.to_path_buf());
    }
    if in_ws.is_dir() {
        return Ok(in_ws);
    }
    bail!(
        "no pipeline '{}': no folder with {SPEC_FILE} of that name in the workspace ({}){} nor in the current directory",
        arg.display(),
        workspace.display(),
        if bare { ", no pipeline of that name there," } else { "" }
    )
}

/// Loads a pipeline, turning spec errors into a message that lists every problem.
pub fn load_pipeline(dir: &Path) -> Result<Pipeline> {
    polder_engine::load(dir).map_err(|e: SpecError| anyhow::anyhow!("{e}"))
}

/// Opens the workspace.
pub fn open_workspace(root: &Path) -> Result<polder_engine::Workspace> {
    Ok(polder_engine::Workspace::open(root)?)
}
