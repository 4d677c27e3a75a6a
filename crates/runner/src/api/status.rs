//! `GET /api/status` and `GET /api/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

/// Version, uptime, workspace and runs in progress.
#[utoipa::path(get, path = "/api/status", tag = "runner", responses((status = 200, description = "Runner status")))]
pub async fn status(State(state): State<Arc<AppState>>) -> Json<Value> {
    let mut active: Vec<i64> = state.active.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect();
    active.sort_unstable();
    let queued = state.ws.store.queued().map(|q| q.len()).unwrap_or(0);
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": state.started.elapsed().as_secs(),
        "workspace": state.ws.root().display().to_string(),
        "active_runs": active,
        "max_active_runs": state.max_active_runs,
        "queued_runs": queued,
        "resources": {
            "rss_bytes": rss_bytes(),
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        },
    }))
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "runner", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], state.openapi.get().cloned().unwrap_or_default())
}

/// Prometheus metrics: runs and task runs by status, runs in progress, uptime.
#[utoipa::path(get, path = "/metrics", tag = "runner", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Result<impl IntoResponse, crate::error::ApiError> {
    let counts = state.ws.store.status_counts()?;
    let active = state.active.lock().unwrap_or_else(|p| p.into_inner()).len();
    let mut out = String::new();
    out.push_str("# HELP polder_runs Runs recorded in the workspace, by status.\n# TYPE polder_runs gauge\n");
    for (status, n) in &counts.runs {
        out.push_str(&format!("polder_runs{{status=\"{status}\"}} {n}\n"));
    }
    out.push_str("# HELP polder_task_runs Task runs recorded, by status.\n# TYPE polder_task_runs gauge\n");
    for (status, n) in &counts.tasks {
        out.push_str(&format!("polder_task_runs{{status=\"{status}\"}} {n}\n"));
    }
    out.push_str("# HELP polder_task_duration_seconds Time spent in finished task runs, by kind and status.\n# TYPE polder_task_duration_seconds summary\n");
    for (kind, status, n, secs) in state.ws.store.task_durations()? {
        out.push_str(&format!("polder_task_duration_seconds_sum{{kind=\"{kind}\",status=\"{status}\"}} {secs}\n"));
        out.push_str(&format!("polder_task_duration_seconds_count{{kind=\"{kind}\",status=\"{status}\"}} {n}\n"));
    }
    let queued = state.ws.store.queued()?.len();
    out.push_str(&format!(
        "# HELP polder_queue_depth Runs waiting for a slot.\n# TYPE polder_queue_depth gauge\npolder_queue_depth {queued}\n"
    ));
    out.push_str(&format!("# HELP polder_active_runs Runs in progress on this runner.\n# TYPE polder_active_runs gauge\npolder_active_runs {active}\n"));
    ingest_metrics(&state, &mut out);
    out.push_str(&format!(
        "# HELP polder_uptime_seconds Seconds since the runner started.\n# TYPE polder_uptime_seconds counter\npolder_uptime_seconds {}\n",
        state.started.elapsed().as_secs()
    ));
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}

/// Per-dataset ingest counters and gauges.
fn ingest_metrics(state: &AppState, out: &mut String) {
    use std::sync::atomic::Ordering::Relaxed;
    let all = state.ingest.all();
    if all.is_empty() {
        return;
    }
    type Get = fn(&crate::ingest::Live) -> u64;
    let series: [(&str, &str, &str, Get); 9] = [
        ("polder_ingest_rows_total", "counter", "Rows acknowledged since the runner started.", |l| {
            l.counters.rows_received.load(Relaxed)
        }),
        ("polder_ingest_batches_total", "counter", "Requests acknowledged.", |l| l.counters.batches_accepted.load(Relaxed)),
        ("polder_ingest_rejected_total", "counter", "Requests refused for their content.", |l| {
            l.counters.batches_rejected.load(Relaxed)
        }),
        ("polder_ingest_throttled_total", "counter", "Requests refused with 429.", |l| l.counters.throttled.load(Relaxed)),
        ("polder_ingest_flushes_total", "counter", "Flushes that wrote rows.", |l| l.counters.flushes.load(Relaxed)),
        ("polder_ingest_flushed_rows_total", "counter", "Rows written to Parquet.", |l| l.counters.rows_flushed.load(Relaxed)),
        ("polder_ingest_pending_rows", "gauge", "Rows waiting in the log.", |l| l.wal.pending().rows),
        ("polder_ingest_pending_bytes", "gauge", "Bytes waiting in the log.", |l| l.wal.pending().bytes),
        ("polder_ingest_flush_failing", "gauge", "1 while flushing fails.", |l| u64::from(l.error().is_some())),
    ];
    for (name, kind, help, get) in series {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for l in &all {
            out.push_str(&format!("{name}{{dataset=\"{}\"}} {}\n", l.ds.name, get(l)));
        }
    }
}

/// This process's resident memory (Linux `/proc`; None elsewhere).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}
