//! Markdown notes between notebook cells, kept in `notes.md` beside a pipeline's `pipeline.toml`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;

use crate::error::ApiError;
use crate::state::AppState;
use crate::ui_files::{self, Notes};

/// The pipeline's notebook notes, in order.
#[utoipa::path(get, path = "/api/pipelines/{name}/notes", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name")),
    responses((status = 200, description = "The notes", body = Notes), (status = 404, description = "No such pipeline")))]
pub async fn get_notes(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<Notes>, ApiError> {
    let dir = super::authoring::readable_dir(&state, &name)?;
    Ok(Json(ui_files::read_notes(&dir)?))
}

/// Replaces the pipeline's notebook notes (an empty list removes `notes.md`).
#[utoipa::path(put, path = "/api/pipelines/{name}/notes", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name")), request_body(content = Notes),
    responses((status = 200, description = "The notes as saved", body = Notes),
              (status = 400, description = "Invalid ids or text; nothing changed"), (status = 409, description = "A deployed (read-only) pipeline")))]
pub async fn put_notes(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(notes): Json<Notes>,
) -> Result<Json<Notes>, ApiError> {
    let dir = super::authoring::editable_dir(&state, &name)?;
    ui_files::write_notes(&dir, &notes)?;
    Ok(Json(notes))
}
