//! The pipeline format: the model, its loader (with located errors) and its editor.

pub mod edit;
pub(crate) mod fields;
mod load;
mod model;

pub use load::{load, parse, polars_views, route_sql, valid_name, valid_task_id, Routed, MAX_NAME_LEN, SPEC_FILE};
pub use model::*;

/// Pipeline folders under `root` (folders holding `pipeline.toml`, up to two levels down, hidden
/// folders skipped), sorted, each with its load result.
pub fn discover(root: &std::path::Path) -> Vec<(std::path::PathBuf, Result<Pipeline, crate::error::SpecError>)> {
    pipeline_dirs(root).into_iter().map(|d| (d.clone(), load(&d))).collect()
}

/// The pipeline folders below `root` (at most two levels down, hidden folders skipped), sorted,
/// without loading them.
pub fn pipeline_dirs(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    fn visit(dir: &std::path::Path, depth: usize, out: &mut Vec<std::path::PathBuf>) {
        if dir.join(SPEC_FILE).is_file() {
            out.push(dir.to_path_buf());
            return;
        }
        if depth == 0 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if !hidden && e.path().is_dir() {
                visit(&e.path(), depth - 1, out);
            }
        }
    }
    let mut dirs = Vec::new();
    visit(root, 2, &mut dirs);
    dirs.sort();
    dirs
}
