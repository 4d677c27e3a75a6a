//! Runs a pipeline: plans it, reuses cached outputs, runs ready tasks in parallel on blocking
//! threads (retries, timeouts, cancel), and records everything in the run metadata.

pub mod plan;

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::fsutil::{publish, temp_path_for};
use crate::params::Params;
use crate::spec::{Pipeline, SinkFormat, TaskKind};
use crate::store::{OutputFacts, RunStatus, TaskStatus};
use crate::tasks::{self, CancelFlag, Input, TaskContext, TaskError, TaskLog, ViewPlan};
use crate::workspace::Workspace;

pub use plan::{fingerprint, plan, PlannedTask};

/// How to run a pipeline.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Parameter overrides (`name`, `value`).
    pub params: Vec<(String, String)>,
    /// Run only these tasks, on their upstreams' latest outputs (empty: all).
    pub only: Vec<String>,
    /// Ignore cached outputs.
    pub force: bool,
    /// Most tasks at once (None: the pipeline's `max_parallel`, else the number of cores).
    pub max_parallel: Option<usize>,
    /// Who asked: `cli`, `schedule`, `api`.
    pub trigger: String,
}

/// Progress of a run, for live displays.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// The run is recorded; tasks in execution order.
    RunStarted {
        /// Run id.
        run_id: i64,
        /// Task ids in topological order.
        tasks: Vec<String>,
    },
    /// An attempt started.
    TaskStarted {
        /// Task id.
        task: String,
        /// 1-based attempt.
        attempt: u32,
    },
    /// An attempt failed and will be retried.
    TaskRetrying {
        /// Task id.
        task: String,
        /// The failed attempt.
        attempt: u32,
        /// Why it failed.
        error: String,
        /// Wait before the next attempt, in milliseconds.
        delay_ms: u64,
    },
    /// A task reached its final state.
    TaskFinished(TaskSummary),
    /// The run is over.
    RunFinished {
        /// Run id.
        run_id: i64,
        /// Final state.
        status: RunStatus,
    },
}

/// The outcome of one task in a run.
#[derive(Debug, Clone, Serialize)]
pub struct TaskSummary {
    /// Task id.
    pub task: String,
    /// Final state.
    pub status: TaskStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Rows produced (or written, or failing for validate).
    pub rows: Option<u64>,
    /// Wall time of all attempts, in milliseconds.
    pub duration_ms: u64,
    /// Failure text.
    pub error: Option<String>,
    /// Warnings (warn-severity checks).
    pub warnings: Vec<String>,
    /// The output artifact.
    pub artifact: Option<PathBuf>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Run id.
    pub run_id: i64,
    /// Final state.
    pub status: RunStatus,
    /// Per task, in execution order.
    pub tasks: Vec<TaskSummary>,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
}

impl TaskSummary {
    /// The summary of a task that ended without an attempt (reused, skipped, a view, or blocked).
    fn settled(task: &str, status: TaskStatus, rows: Option<u64>, error: Option<String>, artifact: Option<PathBuf>) -> Self {
        TaskSummary { task: task.to_string(), status, attempts: 0, rows, duration_ms: 0, error, warnings: Vec::new(), artifact }
    }
}

impl RunSummary {
    /// The summary of one task.
    pub fn task(&self, id: &str) -> Option<&TaskSummary> {
        self.tasks.iter().find(|t| t.task == id)
    }
}

/// A handle to cancel a run in progress.
#[derive(Clone)]
pub struct RunCancel(Arc<watch::Sender<bool>>);

impl RunCancel {
    /// A new, unset handle.
    pub fn new() -> Self {
        RunCancel(Arc::new(watch::channel(false).0))
    }

    /// Cancels the run: running tasks are interrupted, pending ones never start.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    fn subscribe(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

impl Default for RunCancel {
    fn default() -> Self {
        Self::new()
    }
}

struct Slot {
    task: PlannedTask,
    fingerprint: String,
    /// Its fingerprint (and so whether its output can be reused) is settled when it is ready:
    /// an S3 source whose upstream tasks run first (they may write the bucket), and what reads it.
    deferred: bool,
    status: TaskStatus,
    input: Option<Input>,
}

/// Runs `pipeline` in `ws`. Task failures are recorded in the summary, not returned as errors;
/// `Err` means the run could not be planned or recorded.
pub async fn run_pipeline(
    ws: Arc<Workspace>,
    pipeline: Arc<Pipeline>,
    opts: RunOptions,
    events: Option<mpsc::UnboundedSender<RunEvent>>,
    cancel: RunCancel,
) -> Result<RunSummary> {
    let started = Instant::now();
    let emit = |e: RunEvent| {
        if let Some(tx) = &events {
            let _ = tx.send(e);
        }
    };
    for id in &opts.only {
        if pipeline.task(id).is_none() {
            return Err(Error::Invalid(format!("--only {id}: pipeline '{}' has no task '{id}'", pipeline.name)));
        }
    }
    let params = Params::resolve(&pipeline, &opts.params)?;
    let mut planned = plan(&pipeline, &params, &ws.paths)?;
    plan::attach_datasets(&mut planned, &pipeline, ws.root(), ws.state_dir())?;
    plan::attach_remote(&mut planned, &pipeline, &|name| ws.s3_access(name))?;
    plan::attach_databases(&mut planned, &pipeline, &|name| ws.pg_access(name))?;
    plan::attach_clickhouse(&mut planned, &pipeline, &|name| ws.ch_access(name))?;

    // Fingerprints in topological order; tasks left out by --only stand in with their latest output.
    let mut slots: Vec<Slot> = Vec::with_capacity(planned.len());
    let mut fps: HashMap<String, String> = HashMap::new();
    let mut reuse: HashMap<String, (TaskStatus, OutputFacts)> = HashMap::new();
    let mut deferred: std::collections::HashSet<String> = std::collections::HashSet::new();
    for mut task in planned {
        let selected = opts.only.is_empty() || opts.only.contains(&task.id);
        let upstream_reruns = task.upstream.iter().any(|u| !matches!(reuse.get(u), Some((TaskStatus::Cached, _))));
        let remote_source = task.s3.is_some() && matches!(task.kind, TaskKind::Source(_));
        let defer = selected
            && opts.only.is_empty()
            && ((remote_source && upstream_reruns) || task.upstream.iter().any(|u| deferred.contains(u)));
        if defer {
            if remote_source {
                // Listed when its upstream tasks have finished (they may rewrite the bucket).
                task.files.clear();
                task.objects.clear();
                task.listing_error = Some("listed when its upstream tasks have finished".into());
            }
            deferred.insert(task.id.clone());
        }
        let ups: Vec<(String, String)> =
            task.upstream.iter().map(|u| (u.clone(), fps.get(u).cloned().unwrap_or_default())).collect();
        let mut fp = fingerprint(&task, &ups);
        if task.view {
            // Views cost nothing on their own; they are resolved when their readers start.
        } else if !selected {
            if let Some((_, latest_fp, facts)) = ws.store.latest_output(&pipeline.name, &task.id)? {
                fp = latest_fp;
                reuse.insert(task.id.clone(), (TaskStatus::Skipped, facts));
            } else {
                reuse.insert(task.id.clone(), (TaskStatus::Skipped, OutputFacts::default()));
            }
        } else if !opts.force && task.cache && opts.only.is_empty() && !defer {
            if let Some((_, facts)) = ws.store.cached_output(&pipeline.name, &task.id, &fp)? {
                if output_still_there(&ws, &pipeline, &task, &facts) {
                    reuse.insert(task.id.clone(), (TaskStatus::Cached, facts));
                }
            }
        }
        fps.insert(task.id.clone(), fp.clone());
        slots.push(Slot { task, fingerprint: fp, deferred: defer, status: TaskStatus::Pending, input: None });
    }

    let params_json = serde_json::to_string(&params).unwrap_or_else(|_| "{}".into());
    let rows: Vec<(String, String, String)> =
        slots.iter().map(|s| (s.task.id.clone(), s.task.kind.name().to_string(), s.fingerprint.clone())).collect();
    let trigger = if opts.trigger.is_empty() { "cli" } else { opts.trigger.as_str() };
    let run_id = ws.store.create_run(&pipeline.name, &params_json, trigger, &rows)?;
    let definitions: Vec<(String, String)> = pipeline.tasks.iter().map(|t| (t.id.clone(), t.definition())).collect();
    ws.store.set_definitions(run_id, &definitions)?;
    emit(RunEvent::RunStarted { run_id, tasks: slots.iter().map(|s| s.task.id.clone()).collect() });

    let mut summaries: HashMap<String, TaskSummary> = HashMap::new();
    for slot in &mut slots {
        if let Some((status, facts)) = reuse.remove(&slot.task.id) {
            ws.store.task_finished(run_id, &slot.task.id, status, &facts, None)?;
            slot.status = status;
            slot.input = facts.artifact.as_deref().map(|a| Input::Artifact(ws.resolve(a)));
            let s =
                TaskSummary::settled(&slot.task.id, status, facts.rows, None, facts.artifact.as_deref().map(|a| ws.resolve(a)));
            emit(RunEvent::TaskFinished(s.clone()));
            summaries.insert(s.task.clone(), s);
        }
    }

    let limit = opts
        .max_parallel
        .or(pipeline.max_parallel)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
        .max(1);
    let index: HashMap<String, usize> = slots.iter().enumerate().map(|(i, s)| (s.task.id.clone(), i)).collect();
    let mut cancel_rx = cancel.subscribe();
    let mut running: JoinSet<(usize, TaskSummary)> = JoinSet::new();
    let mut running_flags: HashMap<usize, Arc<CancelFlag>> = HashMap::new();
    let mut cancelled = *cancel_rx.borrow();
    loop {
        // Propagate failures downstream, then start what is ready.
        for i in 0..slots.len() {
            if slots[i].status != TaskStatus::Pending {
                continue;
            }
            let ups: Vec<TaskStatus> =
                slots[i].task.upstream.iter().filter_map(|u| index.get(u).map(|&j| slots[j].status)).collect();
            let blocked =
                ups.iter().any(|s| matches!(s, TaskStatus::Failed | TaskStatus::UpstreamFailed | TaskStatus::Cancelled));
            if blocked || cancelled {
                let status = if cancelled { TaskStatus::Cancelled } else { TaskStatus::UpstreamFailed };
                slots[i].status = status;
                let error = (status == TaskStatus::UpstreamFailed).then(|| "an upstream task failed".to_string());
                ws.store.task_finished(run_id, &slots[i].task.id, status, &OutputFacts::default(), error.as_deref())?;
                let s = TaskSummary::settled(&slots[i].task.id, status, None, error, None);
                emit(RunEvent::TaskFinished(s.clone()));
                summaries.insert(s.task.clone(), s);
                continue;
            }
            if !ups.iter().all(|s| s.is_done_ok()) {
                continue;
            }
            if slots[i].deferred {
                // Its inputs are settled now: list, fingerprint, and reuse a matching output.
                slots[i].deferred = false;
                let mut task = slots[i].task.clone();
                if task.listing_error.is_some() {
                    if let (Some((path, _)), Some(access)) = (plan::remote_path(&task.kind), task.s3.clone()) {
                        if let Ok(objects) = crate::s3::list(&access, path) {
                            task.files = objects.iter().map(|o| PathBuf::from(&o.url)).collect();
                            task.objects = objects;
                            task.listing_error = None;
                        }
                    }
                }
                let ups: Vec<(String, String)> = task
                    .upstream
                    .iter()
                    .map(|u| (u.clone(), index.get(u).map(|&j| slots[j].fingerprint.clone()).unwrap_or_default()))
                    .collect();
                let fp = fingerprint(&task, &ups);
                ws.store.set_fingerprint(run_id, &task.id, &fp)?;
                slots[i].fingerprint = fp.clone();
                let cached = match (!opts.force && task.cache && !task.view, task.listing_error.is_none()) {
                    (true, true) => ws
                        .store
                        .cached_output(&pipeline.name, &task.id, &fp)?
                        .filter(|(_, facts)| output_still_there(&ws, &pipeline, &task, facts)),
                    _ => None,
                };
                slots[i].task = task;
                if let Some((_, facts)) = cached {
                    let id = slots[i].task.id.clone();
                    ws.store.task_finished(run_id, &id, TaskStatus::Cached, &facts, None)?;
                    slots[i].status = TaskStatus::Cached;
                    slots[i].input = facts.artifact.as_deref().map(|a| Input::Artifact(ws.resolve(a)));
                    let s = TaskSummary::settled(
                        &id,
                        TaskStatus::Cached,
                        facts.rows,
                        None,
                        facts.artifact.as_deref().map(|a| ws.resolve(a)),
                    );
                    emit(RunEvent::TaskFinished(s.clone()));
                    summaries.insert(s.task.clone(), s);
                    continue;
                }
            }
            let upstream: BTreeMap<String, Input> = slots[i]
                .task
                .upstream
                .iter()
                .filter_map(|u| index.get(u).and_then(|&j| slots[j].input.clone()).map(|a| (u.clone(), a)))
                .collect();
            if slots[i].task.view {
                let t = slots[i].task.clone();
                let plan = ViewPlan { id: t.id.clone(), kind: t.kind.clone(), files: t.files.clone(), upstream };
                slots[i].input = Some(Input::View(Arc::new(plan)));
                slots[i].status = TaskStatus::Success;
                ws.store.task_finished(run_id, &t.id, TaskStatus::Success, &OutputFacts::default(), None)?;
                let s = TaskSummary::settled(&t.id, TaskStatus::Success, None, None, None);
                emit(RunEvent::TaskFinished(s.clone()));
                summaries.insert(s.task.clone(), s);
                continue;
            }
            if running.len() >= limit {
                continue;
            }
            slots[i].status = TaskStatus::Running;
            let flag = CancelFlag::new();
            running_flags.insert(i, flag.clone());
            let job = TaskJob {
                ws: ws.clone(),
                pipeline: pipeline.clone(),
                task: slots[i].task.clone(),
                run_id,
                upstream,
                events: events.clone(),
                flag,
            };
            running.spawn(async move { (i, job.run().await) });
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            joined = running.join_next() => {
                let Some(joined) = joined else { continue };
                let (i, summary) = joined.map_err(|e| Error::Invalid(format!("task supervisor crashed: {e}")))?;
                running_flags.remove(&i);
                slots[i].status = summary.status;
                slots[i].input = summary.artifact.clone().map(Input::Artifact);
                emit(RunEvent::TaskFinished(summary.clone()));
                summaries.insert(summary.task.clone(), summary);
            }
            changed = cancel_rx.changed(), if !cancelled => {
                if changed.is_ok() && *cancel_rx.borrow() {
                    cancelled = true;
                    for f in running_flags.values() {
                        f.set();
                    }
                }
            }
        }
    }

    let tasks: Vec<TaskSummary> = slots.iter().filter_map(|s| summaries.remove(&s.task.id)).collect();
    let status = if cancelled {
        RunStatus::Cancelled
    } else if tasks.iter().all(|t| t.status.is_done_ok()) {
        RunStatus::Success
    } else {
        RunStatus::Failed
    };
    let error = tasks
        .iter()
        .find(|t| t.status == TaskStatus::Failed)
        .map(|t| format!("task '{}' failed: {}", t.task, t.error.as_deref().unwrap_or("")));
    ws.store.finish_run(run_id, status, error.as_deref())?;
    emit(RunEvent::RunFinished { run_id, status });
    Ok(RunSummary { run_id, status, tasks, duration_ms: started.elapsed().as_millis() as u64 })
}

/// Whether a cached output can still be used: its artifact exists, and a sink's target too.
fn output_still_there(ws: &Workspace, pipeline: &Pipeline, task: &PlannedTask, facts: &OutputFacts) -> bool {
    if let Some(a) = &facts.artifact {
        if !ws.resolve(a).exists() {
            return false;
        }
    }
    match &task.kind {
        TaskKind::Sink(s) => {
            let target = match s.format {
                SinkFormat::DuckDb => s.database.as_deref(),
                _ => s.path.as_deref(),
            };
            match (target, &task.s3) {
                // One listing: the object, or the files of the folder's manifest.
                (Some(t), Some(access)) if crate::s3::is_s3(t) => crate::s3::list(access, t).is_ok_and(|o| !o.is_empty()),
                (t, _) => t.is_some_and(|t| pipeline.dir.join(t).exists()),
            }
        }
        TaskKind::Shell(_) => true,
        _ => facts.artifact.is_some(),
    }
}

/// One task's attempts, supervised on the async side.
struct TaskJob {
    ws: Arc<Workspace>,
    pipeline: Arc<Pipeline>,
    task: PlannedTask,
    run_id: i64,
    upstream: BTreeMap<String, Input>,
    events: Option<mpsc::UnboundedSender<RunEvent>>,
    flag: Arc<CancelFlag>,
}

type AttemptResult = std::result::Result<(OutputFacts, Vec<String>, Option<TaskError>), TaskError>;

impl TaskJob {
    async fn run(self) -> TaskSummary {
        let started = Instant::now();
        let id = self.task.id.clone();
        let (log_abs, log_rel) = self.ws.log_path(&self.pipeline.name, &id, self.run_id);
        let (out_abs, out_rel) = self.ws.artifact_path(&self.pipeline.name, &id, self.run_id);
        let mut attempt = 0;
        let mut delay = self.task.retry_delay;
        let (status, facts, warnings, error) = loop {
            attempt += 1;
            if let Err(e) = self.ws.store.task_started(self.run_id, &id, attempt, &log_rel) {
                break (TaskStatus::Failed, OutputFacts::default(), Vec::new(), Some(e.to_string()));
            }
            self.send(RunEvent::TaskStarted { task: id.clone(), attempt });
            let result = self.attempt(attempt, &log_abs, &out_abs, &out_rel).await;
            match result {
                Ok((facts, warnings, None)) => break (TaskStatus::Success, facts, warnings, None),
                Ok((facts, warnings, Some(failure))) => break (TaskStatus::Failed, facts, warnings, Some(failure.to_string())),
                Err(TaskError::Cancelled) => {
                    break (TaskStatus::Cancelled, OutputFacts::default(), Vec::new(), Some("cancelled".into()))
                }
                Err(e) if e.is_retryable() && attempt <= self.task.retries && !self.flag.is_set() => {
                    self.send(RunEvent::TaskRetrying {
                        task: id.clone(),
                        attempt,
                        error: e.to_string(),
                        delay_ms: delay.as_millis() as u64,
                    });
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(600));
                }
                Err(e) => break (TaskStatus::Failed, OutputFacts::default(), Vec::new(), Some(e.to_string())),
            }
        };
        if let Err(e) = self.ws.store.task_finished(self.run_id, &id, status, &facts, error.as_deref()) {
            tracing::error!(task = %id, error = %e, "cannot record task result");
        }
        TaskSummary {
            task: id,
            status,
            attempts: attempt,
            rows: facts.rows,
            duration_ms: started.elapsed().as_millis() as u64,
            error,
            warnings,
            artifact: facts.artifact.as_deref().map(|a| self.ws.resolve(a)),
        }
    }

    fn send(&self, e: RunEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(e);
        }
    }

    /// One attempt on a blocking thread, bounded by the task's timeout.
    async fn attempt(&self, attempt: u32, log_abs: &std::path::Path, out_abs: &std::path::Path, out_rel: &str) -> AttemptResult {
        // Each attempt gets its own flag so a timed-out attempt can be stopped without touching the next.
        let flag = CancelFlag::new();
        {
            let f = flag.clone();
            self.flag.on_cancel(move || f.set());
        }
        let ws = self.ws.clone();
        let pipeline = self.pipeline.clone();
        let task = self.task.clone();
        let upstream = self.upstream.clone();
        let log_abs = log_abs.to_path_buf();
        let out_abs = out_abs.to_path_buf();
        let out_rel = out_rel.to_string();
        let thread_flag = flag.clone();
        let schema = self.task.schema.clone();
        let handle = tokio::task::spawn_blocking(move || -> AttemptResult {
            let log = TaskLog::open(&log_abs).unwrap_or_else(|_| TaskLog::discard());
            log.line(format!("attempt {attempt} of task '{}' ({})", task.id, task.kind.name()));
            let tmp = temp_path_for(&out_abs);
            let memory = ws.memory_budget(&task.id, task.memory_limit);
            if let Some(dir) = out_abs.parent() {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    return Err(TaskError::data(format!("cannot create {}", dir.display()), e));
                }
            }
            let ctx = TaskContext {
                task_id: &task.id,
                kind: &task.kind,
                engine: task.engine,
                pipeline_dir: &pipeline.dir,
                files: &task.files,
                upstream: &upstream,
                output: &tmp,
                log: &log,
                cancel: &thread_flag,
                duckdb: &ws.duckdb,
                owners: ws.owners_dir(),
                limit: None,
                data_dirs: ws.paths.data_dirs(),
                memory: Some(&memory),
                s3: task.s3.as_deref(),
                postgres: task.postgres.as_deref(),
                clickhouse: task.clickhouse.as_deref(),
            };
            let result = crate::isolate::run(&ctx, &ws.isolation);
            // Whatever DuckDB spilled is of no use once the attempt is over.
            remove_path(&memory.spill_dir);
            let result = result.and_then(|outcome| {
                thread_flag.check()?;
                let mut failure = None;
                let mut facts = OutputFacts { rows: outcome.rows, ..Default::default() };
                if outcome.has_output {
                    publish(&tmp, &out_abs)
                        .map_err(|e| TaskError::data(format!("cannot publish artifact {}", out_abs.display()), e))?;
                    let info = tasks::frame::artifact_info(&out_abs)?;
                    if let Some(contract) = &schema {
                        let broken = crate::contract::violations(contract, &out_abs, Some(&memory))?;
                        if broken.is_empty() {
                            log.line(format!("schema contract holds ({} column(s))", contract.columns.len()));
                        } else if outcome.failure.is_none() {
                            failure = Some(crate::contract::failure(&task.id, broken));
                        }
                    }
                    facts = OutputFacts {
                        rows: outcome.rows.or(Some(info.rows)),
                        bytes: Some(info.bytes),
                        schema: Some(info.schema_json),
                        artifact: Some(out_rel),
                    };
                }
                for w in &outcome.warnings {
                    log.line(format!("warning: {w}"));
                }
                Ok((facts, outcome.warnings, outcome.failure.or(failure)))
            });
            match &result {
                Ok((facts, _, failure)) => {
                    // What a person reads: "23,528 rows", "no output".
                    log.line(match facts.rows {
                        Some(n) => format!("{} rows", crate::memory::group_digits(n)),
                        None => "done (no rows)".to_string(),
                    });
                    if let Some(f) = failure {
                        log.line(format!("error: {f}"));
                    }
                }
                Err(e) => {
                    remove_path(&tmp);
                    log.line(format!("error: {e}"));
                }
            }
            result
        });
        let timeout = self.task.timeout;
        let result = match timeout {
            Some(limit) => match tokio::time::timeout(limit, handle).await {
                Ok(joined) => joined,
                Err(_) => {
                    // Interrupt what can be interrupted (DuckDB, shell, a task's child process);
                    // a Polars plan run in-process runs on and its thread discards its own
                    // output when it sees the flag.
                    flag.set();
                    return Err(TaskError::Timeout { secs: limit.as_secs_f64() });
                }
            },
            None => handle.await,
        };
        match result {
            Ok(r) => r,
            Err(join) if join.is_panic() => Err(TaskError::Panic(panic_text(&join.into_panic()))),
            Err(join) => Err(TaskError::Data(format!("task thread ended unexpectedly: {join}"))),
        }
    }
}

/// Runs `f`, turning a panic (inside Polars, DuckDB or Polder) into a task failure.
/// The task's Polars and DuckDB objects are dropped during unwinding, so nothing of it is reused.
pub fn guarded<T>(f: impl FnOnce() -> std::result::Result<T, TaskError>) -> std::result::Result<T, TaskError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(TaskError::Panic(panic_text(&payload))))
}

fn remove_path(p: &std::path::Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_task_error() {
        let r: std::result::Result<(), TaskError> = guarded(|| {
            let v: Vec<u8> = Vec::new();
            let _ = v[3];
            Ok(())
        });
        let msg = r.unwrap_err().to_string();
        assert!(msg.starts_with("internal panic: index out of bounds"), "{msg}");
        let s: std::result::Result<u8, TaskError> = guarded(|| std::panic::panic_any(String::from("owned message")));
        assert!(s.unwrap_err().to_string().contains("owned message"));
        assert_eq!(guarded(|| Ok(7)).unwrap(), 7);
    }
}
