//! The pipelines a runner serves: deployed versions (`.polder/deploys/<name>/v<N>`, the active
//! one per name) and the pipeline folders found in the workspace. A deployed name wins.

use std::collections::BTreeSet;
use std::path::PathBuf;

use polder_engine::{Pipeline, SpecError};

use crate::deploys;
use crate::error::ApiError;
use crate::state::AppState;

/// Every pipeline with its folder and load result; the version for deployed ones.
pub fn all(state: &AppState) -> Vec<(PathBuf, Option<u32>, Result<Pipeline, SpecError>)> {
    let mut out = Vec::new();
    let mut deployed = BTreeSet::new();
    for (name, version, dir) in deploys::active_versions(state.ws.state_dir()) {
        deployed.insert(name);
        out.push((dir.clone(), Some(version), deploys::load_version(state.ws.state_dir(), &dir)));
    }
    for (dir, loaded) in polder_engine::spec::discover(state.ws.root()) {
        let shadowed = loaded.as_ref().is_ok_and(|p| deployed.contains(&p.name));
        if !shadowed {
            out.push((dir, None, loaded));
        }
    }
    out
}

/// The pipeline called `name` (its active deployed version first); invalid files are an error.
pub fn find(state: &AppState, name: &str) -> Result<Pipeline, ApiError> {
    if let Some(dir) = deploys::active_dir(state.ws.state_dir(), name) {
        return deploys::load_version(state.ws.state_dir(), &dir).map_err(|e| ApiError::BadRequest(e.to_string()));
    }
    // Fast path: the folder is usually named after the pipeline; no need to load every pipeline.
    let direct = state.ws.root().join(name);
    if direct.join(polder_engine::spec::SPEC_FILE).is_file() {
        if let Ok(p) = polder_engine::load(&direct) {
            if p.name == name {
                return Ok(p);
            }
        }
    }
    for (dir, loaded) in polder_engine::spec::discover(state.ws.root()) {
        match loaded {
            Ok(p) if p.name == name => return Ok(p),
            Err(e) if dir.file_name().is_some_and(|d| d == name) => return Err(ApiError::BadRequest(e.to_string())),
            _ => {}
        }
    }
    Err(ApiError::NotFound(format!("no pipeline '{name}' in {}", state.ws.root().display())))
}
