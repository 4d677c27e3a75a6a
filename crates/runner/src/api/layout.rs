//! Canvas positions of a pipeline's tasks, kept in `layout.json` beside its `pipeline.toml`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;

use crate::error::ApiError;
use crate::state::AppState;
use crate::ui_files::{self, Layout};

/// The pipeline's canvas positions (empty when none were saved).
#[utoipa::path(get, path = "/api/pipelines/{name}/layout", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name")),
    responses((status = 200, description = "Positions by task", body = Layout), (status = 404, description = "No such pipeline")))]
pub async fn get_layout(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<Layout>, ApiError> {
    let dir = super::authoring::readable_dir(&state, &name)?;
    Ok(Json(ui_files::read_layout(&dir)?))
}

/// Replaces the pipeline's canvas positions.
#[utoipa::path(put, path = "/api/pipelines/{name}/layout", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name")), request_body(content = Layout),
    responses((status = 200, description = "Positions as saved", body = Layout), (status = 409, description = "A deployed (read-only) pipeline")))]
pub async fn put_layout(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(layout): Json<Layout>,
) -> Result<Json<Layout>, ApiError> {
    let dir = super::authoring::editable_dir(&state, &name)?;
    ui_files::write_layout(&dir, &layout)?;
    Ok(Json(layout))
}
