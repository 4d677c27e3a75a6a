//! Pipelines in the workspace: list, get, trigger a run.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use polder_engine::executor::{run_pipeline, RunCancel, RunEvent, RunOptions};
use polder_engine::Pipeline;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::state::AppState;

pub use crate::catalog::find;

/// Every pipeline folder in the workspace, with its load error if its files are invalid.
#[utoipa::path(get, path = "/api/pipelines", tag = "pipelines", responses((status = 200, description = "Pipelines")))]
pub async fn list_pipelines(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let root = state.ws.root().to_path_buf();
    let st = state.clone();
    // A folder scan that loads every pipeline: off the async workers.
    let all = crate::heavy::off_workers(move || Ok(crate::catalog::all(&st))).await?;
    let items: Vec<Value> = all
        .into_iter()
        .map(|(dir, version, loaded)| {
            let rel = dir.strip_prefix(&root).unwrap_or(&dir).display().to_string();
            match loaded {
                Ok(p) => json!({
                    "name": p.name, "dir": rel, "version": version, "description": p.description, "schedule": p.schedule,
                    "tasks": p.tasks.len(), "error": null,
                }),
                Err(e) => json!({ "name": null, "dir": rel, "version": version, "error": e.to_string() }),
            }
        })
        .collect();
    Ok(Json(Value::Array(items)))
}

/// One pipeline: settings, tasks and edges.
#[utoipa::path(get, path = "/api/pipelines/{name}", tag = "pipelines",
    params(("name" = String, Path, description = "Pipeline name")),
    responses((status = 200, description = "The pipeline"), (status = 404, description = "No such pipeline")))]
pub async fn get_pipeline(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let p = find(&state, &name)?;
    let mut v = pipeline_json(&p);
    v["version"] = json!(crate::deploys::active(state.ws.state_dir(), &p.name));
    // Whether each task's own text or settings changed since its last successful run (null:
    // it never succeeded, or ran before runs recorded it).
    let last = state.ws.store.last_success_definitions(&p.name)?;
    if let Some(tasks) = v["tasks"].as_array_mut() {
        for (t, task) in tasks.iter_mut().zip(&p.tasks) {
            let changed = last.get(&task.id).and_then(|(_, def)| def.as_ref()).map(|d| *d != task.definition());
            t["changed_since_success"] = json!(changed);
        }
    }
    Ok(Json(v))
}

/// A pipeline as the API shows it: settings, tasks (with their settings) and edges.
pub fn pipeline_json(p: &Pipeline) -> Value {
    let edges: Vec<Value> =
        p.tasks.iter().flat_map(|t| t.upstream.iter().map(move |u| json!({ "from": u, "to": t.id }))).collect();
    // The tasks as written, so an editor can recreate one exactly (undo of a delete).
    let spec = polder_engine::spec::edit::task_tables(&p.dir).unwrap_or_default();
    let tasks: Vec<Value> = p
        .tasks
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "kind": t.kind_name(), "description": t.description, "upstream": t.upstream,
                "inputs": t.inputs, "materialize": t.materialize, "settings": t.kind, "schema": t.schema,
                "spec": spec.get(&t.id),
            })
        })
        .collect();
    // Notebook order: upstreams first, each step right under the one it builds on.
    let order: Vec<&str> = polder_engine::dag::reading_order(p).into_iter().map(|i| p.tasks[i].id.as_str()).collect();
    json!({
        "name": p.name, "description": p.description, "schedule": p.schedule, "engine": p.engine, "timezone": p.timezone,
        "params": p.params.iter().map(|p| (p.name.clone(), p.default.clone().map_or(Value::Null, Value::String))).collect::<serde_json::Map<_, _>>(),
        "param_specs": p.params,
        "tasks": tasks, "edges": edges, "order": order,
    })
}

/// Answer to a trigger: the run started, or waits in the queue.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TriggerResponse {
    /// The run, when it started at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// The queue entry, when the runner was at a limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<i64>,
}

/// Body of a trigger request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TriggerRequest {
    /// Parameter overrides.
    pub params: BTreeMap<String, String>,
    /// Rerun every task.
    pub force: bool,
    /// Run only these tasks.
    pub only: Vec<String>,
}

/// Starts a run; answers once it is recorded, with its id.
#[utoipa::path(post, path = "/api/pipelines/{name}/runs", tag = "runs",
    params(("name" = String, Path, description = "Pipeline name")),
    request_body(content = TriggerRequest, description = "Parameters (all optional)"),
    responses((status = 202, description = "Run started (`run_id`) or queued (`queued`)", body = TriggerResponse), (status = 400, description = "Invalid pipeline or parameters", body = crate::error::ErrorBody)))]
pub async fn trigger_run(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Option<Json<TriggerRequest>>,
) -> Result<(StatusCode, Json<TriggerResponse>), ApiError> {
    let req = body.map(|b| b.0).unwrap_or_default();
    let pipeline = find(&state, &name)?;
    // Wrong names or types are the caller's to fix now, not a failed run later (or a queued one).
    let overrides: Vec<(String, String)> = req.params.clone().into_iter().collect();
    polder_engine::params::Params::resolve(&pipeline, &overrides).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let opts = RunOptions {
        params: req.params.into_iter().collect(),
        only: req.only,
        force: req.force,
        max_parallel: None,
        trigger: "api".into(),
    };
    if !crate::scheduler::has_capacity(&state, &pipeline.name, pipeline.max_active_runs) {
        let params: BTreeMap<String, String> = opts.params.into_iter().collect();
        if !opts.only.is_empty() || opts.force {
            return Err(ApiError::Conflict(
                "the runner is at its run limit; `force` and `only` runs are not queued, retry later".into(),
            ));
        }
        let id = state.ws.store.enqueue(&pipeline.name, &serde_json::to_string(&params).unwrap_or_default(), "api")?;
        return Ok((StatusCode::ACCEPTED, Json(TriggerResponse { run_id: None, queued: Some(id) })));
    }
    let run_id = start_run(state, pipeline, opts).await?;
    Ok((StatusCode::ACCEPTED, Json(TriggerResponse { run_id: Some(run_id), queued: None })))
}

/// Starts `pipeline` in the background; returns its run id once recorded. Events go to SSE clients.
pub async fn start_run(state: Arc<AppState>, pipeline: Pipeline, opts: RunOptions) -> Result<i64, ApiError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = RunCancel::new();
    let name = pipeline.name.clone();
    let handle = tokio::spawn(run_pipeline(state.ws.clone(), Arc::new(pipeline), opts, Some(tx), cancel.clone()));
    let (run_id, first) = match rx.recv().await {
        Some(ev @ RunEvent::RunStarted { run_id, .. }) => (run_id, ev),
        _ => {
            return Err(match handle.await {
                Ok(Err(e)) => e.into(),
                Ok(Ok(_)) => ApiError::Internal("the run ended before it started".into()),
                Err(e) => ApiError::Internal(format!("the run crashed: {e}")),
            })
        }
    };
    state.active.lock().unwrap_or_else(|p| p.into_inner()).insert(run_id, (name.clone(), cancel));
    publish(&state, &name, run_id, &first);
    let st = state.clone();
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            publish(&st, &name, run_id, &ev);
        }
        if let Ok(Err(e)) = handle.await {
            tracing::error!(run_id, error = %e, "run failed to record");
        }
        st.active.lock().unwrap_or_else(|p| p.into_inner()).remove(&run_id);
    });
    Ok(run_id)
}

fn publish(state: &AppState, pipeline: &str, run_id: i64, ev: &RunEvent) {
    let mut v = serde_json::to_value(ev).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("pipeline".into(), json!(pipeline));
        o.insert("run_id".into(), json!(run_id));
        // When the runner saw it, so live views place bars without guessing.
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        o.insert("at_ms".into(), json!(now_ms));
    }
    // No subscribers is fine: events are for live views only.
    let _ = state.events.send(v.to_string());
}

/// Starts a new run for each of the interrupted runs `recovered` whose pipeline has
/// `on_interrupt = "resume"`; finished tasks reuse their outputs through the cache.
pub async fn resume_interrupted(state: &Arc<AppState>, recovered: &[i64]) {
    for &old in recovered {
        let Ok(Some(run)) = state.ws.store.get_run(old) else { continue };
        let pipeline = match find(state, &run.pipeline) {
            Ok(p) if p.on_interrupt == polder_engine::spec::OnInterrupt::Resume => p,
            Ok(_) => {
                tracing::info!(run = old, pipeline = %run.pipeline, "interrupted run left failed (on_interrupt = \"fail\")");
                continue;
            }
            Err(e) => {
                tracing::warn!(run = old, error = %e, "cannot resume interrupted run");
                continue;
            }
        };
        let params: BTreeMap<String, String> = serde_json::from_str(&run.params).unwrap_or_default();
        let opts = RunOptions { params: params.into_iter().collect(), trigger: format!("resume:{old}"), ..Default::default() };
        match start_run(state.clone(), pipeline, opts).await {
            Ok(new) => tracing::info!(run = old, resumed_as = new, "resumed interrupted run"),
            Err(e) => tracing::warn!(run = old, error = %e, "cannot resume interrupted run"),
        }
    }
}

/// A range of schedule intervals to run.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackfillRequest {
    /// First day (YYYY-MM-DD, in the schedule's time zone), inclusive.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
}

/// Queues one run per schedule interval whose fire time falls in the range, each with the
/// interval's logical date as `run_date`.
#[utoipa::path(post, path = "/api/pipelines/{name}/backfill", tag = "runs",
    params(("name" = String, Path, description = "Pipeline name")),
    request_body(content = BackfillRequest),
    responses((status = 202, description = "Queued: {queued: [ids], run_dates: [...]}"), (status = 400, description = "No schedule, or a bad range")))]
pub async fn backfill(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(req): Json<BackfillRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let p = find(&state, &name)?;
    let expr =
        p.schedule.as_deref().ok_or_else(|| ApiError::BadRequest(format!("pipeline '{name}' has no schedule to backfill")))?;
    let dates =
        crate::scheduler::backfill_dates(expr, p.timezone.as_deref(), &req.from, &req.to).map_err(ApiError::BadRequest)?;
    let mut ids = Vec::new();
    for d in &dates {
        let params = json!({ polder_engine::params::RUN_DATE: d.to_string() });
        ids.push(state.ws.store.enqueue(&p.name, &params.to_string(), "backfill")?);
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": ids, "run_dates": dates }))))
}

/// Body of a validation request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// The text of a `pipeline.toml` (SQL inline, or files named relative to `dir`).
    pub spec: String,
    /// A pipeline folder in the workspace to resolve `.sql` files from (default: none).
    #[serde(default)]
    pub dir: Option<String>,
}

/// Checks a pipeline spec without saving it: every problem, with line and column.
#[utoipa::path(post, path = "/api/pipelines/validate", tag = "pipelines",
    request_body(content = ValidateRequest),
    responses((status = 200, description = "{valid, problems: [{line, col, file, message}], tasks, edges, engines: {task: {engine, auto, why}}, unchecked: [{task, why}]}")))]
pub async fn validate_spec(
    State(state): State<Arc<AppState>>,
    Json(req): Json<ValidateRequest>,
) -> Result<Json<Value>, ApiError> {
    let dir = match &req.dir {
        // Relative `.sql` files are read from `dir`: it must be a folder inside the workspace.
        Some(d) => polder_engine::paths::pipeline_file(state.ws.root(), d)
            .map_err(|_| ApiError::BadRequest(format!("`dir` ({d}) must be a relative folder inside the workspace")))?,
        None => state.ws.state_dir().join("validate-scratch"),
    };
    // Parsing is linear in the text but still CPU work: it takes a turn on a blocking thread.
    let ws = state.ws.clone();
    let result = state
        .heavy
        .run("validate", move || {
            // Loaded, then every SQL task planned over its inputs' schemas (empty frames).
            Ok(polder_engine::spec::parse(&dir, &req.spec).map(|p| {
                let scratch = ws.state_dir().join(format!("plancheck-{}", polder_engine::store::now_ms()));
                let checked = polder_engine::plancheck::check(&p, &scratch, &ws.paths, Some(std::time::Duration::from_secs(2)));
                (p, checked)
            }))
        })
        .await?;
    let problem_json = |p: &polder_engine::error::SpecProblem| {
        let file = p.location.as_ref().and_then(|l| l.file.file_name()).map(|f| f.to_string_lossy().to_string());
        json!({ "line": p.location.as_ref().map(|l| l.line), "col": p.location.as_ref().map(|l| l.col), "file": file, "message": p.message })
    };
    Ok(Json(match result {
        Ok((p, checked)) => {
            let edges: Vec<Value> =
                p.tasks.iter().flat_map(|t| t.upstream.iter().map(move |u| json!({ "from": u, "to": t.id }))).collect();
            let engines: serde_json::Map<String, Value> = p
                .tasks
                .iter()
                .filter_map(|t| match &t.kind {
                    polder_engine::spec::TaskKind::Sql(s) => {
                        Some((t.id.clone(), json!({ "engine": s.runs_on, "auto": s.auto, "why": s.route })))
                    }
                    _ => None,
                })
                .collect();
            let problems: Vec<Value> = checked.problems.iter().map(|p| problem_json(&p.problem)).collect();
            json!({ "valid": problems.is_empty(), "problems": problems, "tasks": p.tasks.iter().map(|t| &t.id).collect::<Vec<_>>(), "edges": edges, "engines": engines, "unchecked": checked.unchecked.iter().map(|(t, why)| json!({ "task": t, "why": why })).collect::<Vec<_>>() })
        }
        Err(e) => json!({ "valid": false, "problems": e.problems.iter().map(problem_json).collect::<Vec<_>>() }),
    }))
}
