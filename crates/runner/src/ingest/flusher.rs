//! The flusher: every tick, each dataset whose log reached its flush policy (rows, bytes, age), or
//! holds a flush cut off by a crash, is flushed into Parquet; a flush that wrote rows starts the
//! pipelines with `[trigger] on_dataset` naming it. Closed days are merged once a minute.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use polder_engine::ingest::flush::{self, CompactReport, FlushReport};

use super::Live;
use crate::state::AppState;

/// How often logs are looked at.
pub const TICK: Duration = Duration::from_millis(250);
/// How often closed days are looked at for merging.
const MERGE_EVERY: Duration = Duration::from_secs(60);
/// Files a merge replaced stay this long, for readers holding the previous manifest.
pub const GRACE: Duration = Duration::from_secs(600);

/// Whether `live`'s log should be flushed now.
pub fn due(live: &Live, now_ms: i64) -> bool {
    let p = live.wal.pending();
    let f = &live.ds.flush;
    p.rows >= f.max_rows
        || p.bytes >= f.max_bytes
        || p.oldest_ms.is_some_and(|t| now_ms - t >= f.max_age_secs as i64 * 1000)
        || live.wal.intent().ok().flatten().is_some()
}

/// Flushes everything in `live`'s log now (blocking; flushes of one dataset take turns).
pub fn flush_now(live: &Live) -> Result<Vec<FlushReport>, String> {
    let _turn = live.busy.lock().unwrap_or_else(|p| p.into_inner());
    let target = live.target.as_ref().map_err(Clone::clone)?;
    let max = live.ds.flush.max_bytes.saturating_mul(2).max(1 << 20);
    let result = flush::flush_all(&live.ds, &live.wal, target, max).map_err(|e| e.to_string());
    match &result {
        Ok(reports) => {
            let rows: u64 = reports.iter().map(|r| r.rows).sum();
            if rows > 0 {
                live.counters.flushes.fetch_add(reports.iter().filter(|r| r.rows > 0).count() as u64, Ordering::Relaxed);
                live.counters.rows_flushed.fetch_add(rows, Ordering::Relaxed);
                live.counters.last_flush_ms.store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
            }
            live.counters.failures.store(0, Ordering::Relaxed);
            live.set_error(None);
        }
        Err(e) => {
            // Back off: 1 s, 2 s, 4 s … up to a minute, so a down bucket is not hammered.
            let n = live.counters.failures.fetch_add(1, Ordering::Relaxed).min(6);
            let wait = (1000i64 << n).min(60_000);
            live.counters.retry_at_ms.store(chrono::Utc::now().timestamp_millis() + wait, Ordering::Relaxed);
            live.set_error(Some(e.clone()));
        }
    }
    result
}

/// Merges `live`'s closed days (every day with several files when `force`).
pub fn merge_now(live: &Live, scratch: &std::path::Path, force: bool) -> Result<CompactReport, String> {
    let _turn = live.busy.lock().unwrap_or_else(|p| p.into_inner());
    let target = live.target.as_ref().map_err(Clone::clone)?;
    let now = chrono::Utc::now().timestamp_millis();
    let r = flush::compact(&live.ds, target, scratch, now, force, GRACE.as_millis() as i64).map_err(|e| e.to_string());
    match &r {
        Ok(rep) => {
            live.counters.merges.fetch_add(rep.days.len() as u64, Ordering::Relaxed);
            live.set_error(None);
        }
        Err(e) => live.set_error(Some(e.clone())),
    }
    r
}

/// Queues a run of every pipeline whose `[trigger] on_dataset` names `dataset`.
pub fn trigger(state: &AppState, dataset: &str) {
    for (_, _, loaded) in crate::catalog::all(state) {
        let Ok(p) = loaded else { continue };
        if p.on_dataset.iter().any(|d| d == dataset) {
            match state.ws.store.enqueue(&p.name, "{}", &format!("dataset:{dataset}")) {
                Ok(id) => tracing::info!(pipeline = %p.name, dataset, queue_id = id, "dataset flush triggered a run"),
                Err(e) => tracing::error!(pipeline = %p.name, dataset, error = %e, "cannot queue a triggered run"),
            }
        }
    }
}

/// Runs forever: re-reads declarations, flushes due logs, merges closed days.
pub async fn run(state: Arc<AppState>) {
    let mut last_merge = Instant::now();
    loop {
        let s = state.clone();
        // Declarations and flushes touch files and sockets: off the async threads.
        let merge = last_merge.elapsed() >= MERGE_EVERY;
        if merge {
            last_merge = Instant::now();
        }
        let _ = tokio::task::spawn_blocking(move || tick(&s, merge)).await;
        tokio::time::sleep(TICK).await;
    }
}

fn tick(state: &AppState, merge: bool) {
    state.ingest.refresh();
    let now = chrono::Utc::now().timestamp_millis();
    for live in state.ingest.all() {
        let waiting = now < live.counters.retry_at_ms.load(Ordering::Relaxed);
        if live.target.is_ok() && !waiting && due(&live, now) {
            if let Ok(reports) = flush_now(&live) {
                if reports.iter().any(|r| r.rows > 0) {
                    trigger(state, &live.ds.name);
                }
            }
        }
        if merge && live.target.is_ok() {
            let _ = merge_now(&live, &state.ws.state_dir().join("ingest").join("scratch"), false);
        }
    }
}
