//! Authoring: create pipelines and edit their tasks through the engine's spec editor, so the
//! files on disk keep hand-written comments and order; preview a task without a run.
//! Every edit is validated before anything is written; a rejected edit changes nothing.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use polder_engine::spec::edit::{create_pipeline, SpecDocument};
use polder_engine::Pipeline;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::state::AppState;

/// The workspace folder of pipeline `name` (deployed versions are read-only).
pub fn editable_dir(state: &AppState, name: &str) -> Result<PathBuf, ApiError> {
    for (dir, loaded) in polder_engine::spec::discover(state.ws.root()) {
        let matches = match &loaded {
            Ok(p) => p.name == name,
            Err(_) => dir.file_name().is_some_and(|d| d == name),
        };
        if matches {
            return Ok(dir);
        }
    }
    if crate::deploys::active(state.ws.state_dir(), name).is_some() {
        return Err(ApiError::Conflict(format!(
            "pipeline '{name}' is a deployed version, which is read-only; edit its source and deploy again"
        )));
    }
    Err(ApiError::NotFound(format!("no pipeline '{name}' in {}", state.ws.root().display())))
}

/// The folder pipeline `name` is served from: its active deployed version, else its workspace folder.
pub fn readable_dir(state: &AppState, name: &str) -> Result<PathBuf, ApiError> {
    match crate::deploys::active_dir(state.ws.state_dir(), name) {
        Some(dir) => Ok(dir),
        None => editable_dir(state, name),
    }
}

/// Runs a blocking edit of pipeline `name` and answers with the pipeline as saved.
async fn edit(
    state: Arc<AppState>,
    name: String,
    f: impl FnOnce(&mut SpecDocument) -> polder_engine::Result<Option<Pipeline>> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let dir = editable_dir(&state, &name)?;
    let saved = state
        .heavy
        .run("edit", move || -> Result<Pipeline, ApiError> {
            let mut doc = SpecDocument::open(&dir)?;
            match f(&mut doc)? {
                Some(p) => Ok(p),
                None => Ok(doc.save()?),
            }
        })
        .await?;
    Ok(Json(super::pipelines::pipeline_json(&saved)))
}

/// Body of a create request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePipeline {
    /// Name, also the folder created in the workspace.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// Creates an empty pipeline folder in the workspace.
#[utoipa::path(post, path = "/api/pipelines", tag = "authoring", request_body(content = CreatePipeline),
    responses((status = 201, description = "The new pipeline"), (status = 400, description = "Bad name or the folder exists")))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Json(req): Json<CreatePipeline>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    super::names::check_pipeline_name(&req.name)?;
    if crate::catalog::find(&state, &req.name).is_ok() {
        return Err(ApiError::Conflict(format!("a pipeline named '{}' exists", req.name)));
    }
    // Checked here so that the message does not show the workspace's path.
    if state.ws.root().join(&req.name).exists() {
        return Err(ApiError::BadRequest(format!("the workspace already has a folder named '{}'", req.name)));
    }
    let p = create_pipeline(state.ws.root(), &req.name, req.description.as_deref())?;
    Ok((StatusCode::CREATED, Json(super::pipelines::pipeline_json(&p))))
}

/// Body of an add-task request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTask {
    /// Task id.
    pub id: String,
    /// Kind: source, sql, validate, sink, shell.
    pub kind: String,
    /// Other fields, as in pipeline.toml (`{"sql": "SELECT …"}`, `{"format": "csv", "path": "…"}`).
    #[serde(default)]
    pub settings: Map<String, Value>,
}

/// Appends a task.
#[utoipa::path(post, path = "/api/pipelines/{name}/tasks", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name")), request_body(content = AddTask),
    responses((status = 200, description = "The pipeline as saved"), (status = 400, description = "The edit is invalid; nothing changed")))]
pub async fn add_task(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(req): Json<AddTask>,
) -> Result<Json<Value>, ApiError> {
    // A SQL task given both `file` and `sql` (a Python task: `file` and `code`) gets its text
    // written to that file.
    let text_key = if req.kind == "python" { "code" } else { "sql" };
    let in_file = match (req.kind.as_str(), req.settings.get("file"), req.settings.get(text_key)) {
        ("sql" | "python", Some(Value::String(f)), Some(Value::String(q))) => Some((f.clone(), q.clone())),
        _ => None,
    };
    let sql = in_file.as_ref().filter(|_| req.kind == "sql").map(|(_, q)| q.clone());
    edit(state, name, move |doc| {
        let mut fields = Vec::new();
        for (k, v) in &req.settings {
            if in_file.is_some() && (k == "file" || k == text_key) {
                continue;
            }
            fields.push((k.as_str(), polder_engine::spec::edit::json_to_toml(v)?));
        }
        match &in_file {
            Some((file, text)) => doc.add_task_in_file(&req.id, &req.kind, file, text, fields).map(Some),
            None => {
                doc.add_task(&req.id, &req.kind, fields)?;
                Ok(None)
            }
        }
    })
    .await
    .map_err(|e| with_sql_location(e, sql.as_deref()))
}

/// Body of an update: fields to set; `null` removes a field.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    /// Fields to change.
    pub settings: Map<String, Value>,
}

/// Changes fields of a task, keeping the comments around them.
#[utoipa::path(patch, path = "/api/pipelines/{name}/tasks/{task}", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id")),
    request_body(content = UpdateTask),
    responses((status = 200, description = "The pipeline as saved"), (status = 400, description = "The edit is invalid; nothing changed")))]
pub async fn update_task(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    Json(req): Json<UpdateTask>,
) -> Result<Json<Value>, ApiError> {
    edit(state, name, move |doc| {
        for (k, v) in &req.settings {
            doc.set_task_json(&task, k, v)?;
        }
        Ok(None)
    })
    .await
}

/// Removes a task.
#[utoipa::path(delete, path = "/api/pipelines/{name}/tasks/{task}", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id")),
    responses((status = 200, description = "The pipeline as saved"), (status = 400, description = "Other tasks still read it; nothing changed")))]
pub async fn remove_task(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let dir = editable_dir(&state, &name)?;
    // Notes that followed the removed task move up to its first upstream.
    let instead = crate::catalog::find(&state, &name).ok().and_then(|p| p.task(&task).and_then(|t| t.upstream.first().cloned()));
    let removed = task.clone();
    let saved = edit(state, name, move |doc| {
        doc.remove_task(&task)?;
        Ok(None)
    })
    .await?;
    crate::ui_files::remove_task(&dir, &removed, instead.as_deref())?;
    Ok(saved)
}

/// Body of a rename.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameTask {
    /// The new id.
    pub to: String,
}

/// Renames a task and the `input`/`inputs` references to it (SQL text is left to its author).
#[utoipa::path(post, path = "/api/pipelines/{name}/tasks/{task}/rename", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id")),
    request_body(content = RenameTask),
    responses((status = 200, description = "The pipeline as saved"), (status = 400, description = "The edit is invalid; nothing changed")))]
pub async fn rename_task(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    Json(req): Json<RenameTask>,
) -> Result<Json<Value>, ApiError> {
    let dir = editable_dir(&state, &name)?;
    let (old, new) = (task.clone(), req.to.clone());
    let saved = edit(state, name, move |doc| {
        doc.rename_task(&task, &req.to)?;
        Ok(None)
    })
    .await?;
    crate::ui_files::rename_task(&dir, &old, &new)?;
    Ok(saved)
}

/// Body of a SQL write.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteSql {
    /// The query.
    pub sql: String,
}

/// Writes a task's SQL (its `.sql` file, or inline), after validating the whole pipeline with it.
#[utoipa::path(put, path = "/api/pipelines/{name}/tasks/{task}/sql", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id")),
    request_body(content = WriteSql),
    responses((status = 200, description = "The pipeline as saved"), (status = 400, description = "The SQL is invalid; nothing changed")))]
pub async fn write_sql(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    Json(req): Json<WriteSql>,
) -> Result<Json<Value>, ApiError> {
    let sql = req.sql.clone();
    edit(state, name, move |doc| doc.write_task_text(&task, &req.sql).map(Some))
        .await
        .map_err(|e| with_sql_location(e, Some(&sql)))
}

/// Body of a Python code write.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteCode {
    /// The module's text.
    pub code: String,
}

/// Writes a Python task's code (its `.py` file, or inline), after validating the whole pipeline with it.
#[utoipa::path(put, path = "/api/pipelines/{name}/tasks/{task}/code", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id")),
    request_body(content = WriteCode),
    responses((status = 200, description = "The pipeline as saved"), (status = 400, description = "The code's signature is invalid; nothing changed")))]
pub async fn write_code(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    Json(req): Json<WriteCode>,
) -> Result<Json<Value>, ApiError> {
    let code = req.code.clone();
    edit(state, name, move |doc| doc.write_task_text(&task, &req.code).map(Some))
        .await
        .map_err(|e| with_python_location(e, &code, None))
}

/// A rejected Python edit or preview, with the line of the code its message points at.
fn with_python_location(e: ApiError, code: &str, file: Option<&str>) -> ApiError {
    match e {
        ApiError::BadRequest(message) => {
            let location = polder_engine::sqlerror::locate_python(&message, code, file);
            ApiError::Sql { message, location }
        }
        e => e,
    }
}

/// A rejected edit or preview of `sql`, with the place in the SQL the engine's message points at.
fn with_sql_location(e: ApiError, sql: Option<&str>) -> ApiError {
    match (e, sql) {
        (ApiError::BadRequest(message), Some(sql)) => {
            // The spec loader locates syntax errors in pipeline.toml or the .sql file; the editor
            // wants the place inside the SQL itself, so reparse it for that.
            let reparsed = || {
                use polder_engine::spec::SqlEngine;
                [SqlEngine::Polars, SqlEngine::DuckDb].into_iter().find_map(|e| {
                    let (line, column) = polder_engine::sqlrefs::parse(sql, e).err()?.position?;
                    Some(polder_engine::sqlerror::SqlLocation { line, column })
                })
            };
            let location = match message.contains("syntax error") {
                true => reparsed().or_else(|| polder_engine::sqlerror::locate(&message, sql)),
                false => polder_engine::sqlerror::locate(&message, sql),
            };
            ApiError::Sql { message, location }
        }
        (e, _) => e,
    }
}

/// Body of an edge update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetInputs {
    /// Upstream tasks this task waits for, beyond those its SQL or `input` names.
    pub inputs: Vec<String>,
}

/// Sets a task's explicit upstream edges (`inputs`).
#[utoipa::path(put, path = "/api/pipelines/{name}/tasks/{task}/inputs", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id")),
    request_body(content = SetInputs),
    responses((status = 200, description = "The pipeline as saved"), (status = 400, description = "Unknown task or a cycle; nothing changed")))]
pub async fn set_inputs(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    Json(req): Json<SetInputs>,
) -> Result<Json<Value>, ApiError> {
    edit(state, name, move |doc| {
        let value = if req.inputs.is_empty() { Value::Null } else { json!(req.inputs) };
        doc.set_task_json(&task, "inputs", &value)?;
        Ok(None)
    })
    .await
}

/// Body of a preview.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PreviewRequest {
    /// Most rows (default 100, at most 10,000).
    pub limit: Option<usize>,
    /// Unsaved SQL to preview instead of the task's.
    pub sql: Option<String>,
    /// Unsaved Python code to preview instead of a Python task's.
    pub code: Option<String>,
}

/// Runs one source or SQL task with a row limit on its upstreams' newest outputs; nothing is recorded.
#[utoipa::path(post, path = "/api/pipelines/{name}/tasks/{task}/preview", tag = "authoring",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id")),
    request_body(content = PreviewRequest),
    responses((status = 200, description = "{rows, schema, elapsed_ms}"), (status = 400, description = "SQL error, or upstreams without output")))]
pub async fn preview(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    body: Option<Json<PreviewRequest>>,
) -> Result<Json<Value>, ApiError> {
    let req = body.map(|b| b.0).unwrap_or_default();
    let p = crate::catalog::find(&state, &name)?;
    let limit = req.limit.unwrap_or(100).min(10_000);
    let sql = req.sql.clone().or_else(|| match p.task(&task).map(|t| &t.kind) {
        Some(polder_engine::spec::TaskKind::Sql(s)) => Some(s.sql.clone()),
        _ => None,
    });
    let code = req.code.clone().or_else(|| match p.task(&task).map(|t| &t.kind) {
        Some(polder_engine::spec::TaskKind::Python(py)) => Some(py.code.clone()),
        _ => None,
    });
    let python_file = match p.task(&task).map(|t| &t.kind) {
        Some(polder_engine::spec::TaskKind::Python(py)) => Some(py.file.clone()),
        _ => None,
    };
    let st = state.clone();
    let out = state
        .heavy
        .run("preview", move || {
            use polder_engine::preview::Edited;
            let edited = match (&req.code, &req.sql) {
                (Some(c), _) => Some(Edited::Python(c)),
                (None, Some(s)) => Some(Edited::Sql(s)),
                (None, None) => None,
            };
            polder_engine::preview::preview_with(&st.ws, &p, &task, limit, edited).map_err(|e| match e {
                polder_engine::Error::Task(t) => ApiError::BadRequest(t.to_string()),
                other => other.into(),
            })
        })
        .await
        .map_err(|e| match (&python_file, &code) {
            (Some(file), Some(code)) => with_python_location(e, code, file.as_deref()),
            _ => with_sql_location(e, sql.as_deref()),
        })?;
    Ok(Json(serde_json::to_value(out).unwrap_or_default()))
}
