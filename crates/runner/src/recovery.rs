//! Crash recovery while the runner runs: another process using the workspace (a CLI run, a
//! second runner) may die at any time, so every [`SWEEP`] its runs are failed (and resumed when
//! their pipeline says so) and the temp files it left are removed. Death is judged by the
//! owner locks of [`polder_engine::owners`], never by pids alone.

use std::sync::Arc;
use std::time::Duration;

use crate::state::AppState;

/// How often the runner looks for runs and temp files of processes that died.
pub const SWEEP: Duration = Duration::from_secs(3);

/// At start: resumes the runs the workspace recovered when it opened, and sweeps temp outputs
/// beside every sink target and half-unpacked deploys.
pub async fn at_start(state: &Arc<AppState>) {
    crate::api::pipelines::resume_interrupted(state, &state.ws.recovered).await;
    sweep_leftovers(state);
}

/// Runs forever: recover, sweep, resume, every [`SWEEP`].
pub async fn run(state: Arc<AppState>) {
    loop {
        tokio::time::sleep(SWEEP).await;
        // SQLite, folder scans and loading every pipeline: off the async workers.
        let st = state.clone();
        let recovered = tokio::task::spawn_blocking(move || {
            let recovered = st.ws.recover().unwrap_or_else(|e| {
                tracing::error!(error = %e, "crash recovery sweep failed");
                Vec::new()
            });
            sweep_leftovers(&st);
            recovered
        })
        .await
        .unwrap_or_default();
        crate::api::pipelines::resume_interrupted(&state, &recovered).await;
    }
}

fn sweep_leftovers(state: &AppState) {
    let pipelines: Vec<_> = crate::catalog::all(state).into_iter().filter_map(|(_, _, p)| p.ok()).collect();
    state.ws.sweep_sink_temps(&pipelines);
    let incoming = crate::deploys::root(state.ws.state_dir()).join("incoming");
    polder_engine::fsutil::sweep_temps_beside(&incoming, state.ws.owners_dir());
}
