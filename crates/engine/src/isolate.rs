//! Task child processes: the Polars work of a task runs in a re-executed copy of the current
//! program, whose memory the parent watches.
//!
//! Polars has no memory limit: a query that explodes (a comma join, a cross join) grows until
//! the kernel's OOM killer ends the process, and with it every other task of the run, the runner
//! server or the desktop app. So a task that runs Polars runs in a child process: the same
//! executable started with [`CHILD_ARG`], which reads a [`Request`] as JSON on stdin, runs
//! [`tasks::run`] and prints the outcome as JSON on stdout. The parent samples the child's
//! resident memory every [`POLL`] and kills it (SIGKILL) when its peak passes the task's budget,
//! which fails that task alone with [`TaskError::OutOfMemory`]. Cancel and timeouts kill the
//! child too, so a running Polars plan can now be interrupted; a child that crashes (abort,
//! signal) fails its task, never the parent.
//!
//! DuckDB work stays in-process: DuckDB honours `memory_limit` itself and spills to disk (see
//! [`crate::duckdb_files::open_confined`]), and DuckDB sinks share one instance per database file.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duckdb_files::DuckDbFiles;
use crate::executor::guarded;
use crate::memory::{self, format_bytes, MemoryBudget};
use crate::spec::{SinkFormat, SqlEngine, TaskKind};
use crate::tasks::{self, CancelFlag, Input, TaskContext, TaskError, TaskLog, TaskOutcome};

/// The first argument that makes a Polder executable a task child (see [`child_main_if_requested`]).
pub const CHILD_ARG: &str = "__polder-task";

/// How often the parent samples a child's memory and checks for cancel.
pub const POLL: Duration = Duration::from_millis(25);

/// Prefix of the child's result line on stdout: anything else a library prints there is ignored.
const RESULT_MARK: &str = "POLDER-TASK-RESULT ";

/// Lines of a crashed child's stderr kept for its error message.
const STDERR_TAIL: usize = 12;

/// Where the Polars work of tasks runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TaskIsolation {
    /// In this process: no memory limit for Polars, no way to stop a running plan. For programs
    /// that cannot be re-executed as a child (unit and integration test binaries).
    #[default]
    InProcess,
    /// In a child process of this executable, which must call [`child_main_if_requested`] first.
    Child(PathBuf),
}

static ENTRY: OnceLock<PathBuf> = OnceLock::new();

/// Call first thing in `main` of every program that runs tasks (the `polder` CLI, the desktop
/// app). When started as a task child, runs the task and exits; otherwise records this
/// executable as the one to re-execute, so [`default_isolation`] runs tasks in children.
pub fn child_main_if_requested() {
    if std::env::args_os().nth(1).as_deref() == Some(OsStr::new(CHILD_ARG)) {
        std::process::exit(child_main());
    }
    if let Ok(exe) = std::env::current_exe() {
        let _ = ENTRY.set(exe);
    }
}

/// The isolation a new workspace uses: a child process when this program handles
/// [`CHILD_ARG`], unless `POLDER_TASK_ISOLATION=off`.
pub fn default_isolation() -> TaskIsolation {
    if std::env::var("POLDER_TASK_ISOLATION").is_ok_and(|v| matches!(v.as_str(), "off" | "0" | "false")) {
        return TaskIsolation::InProcess;
    }
    ENTRY.get().map_or(TaskIsolation::InProcess, |exe| TaskIsolation::Child(exe.clone()))
}

/// Whether an attempt of this task executes Polars plans (and so belongs in a child): sources,
/// SQL on any engine but DuckDB, and file sinks. DuckDB SQL, checks, partitioned and DuckDB
/// sinks run on DuckDB, which keeps to its own memory limit; shell tasks are processes already.
pub fn runs_polars(kind: &TaskKind, engine: SqlEngine) -> bool {
    match kind {
        TaskKind::Source(_) => true,
        TaskKind::Sql(_) => engine != SqlEngine::DuckDb,
        TaskKind::Sink(s) => matches!(s.format, SinkFormat::Parquet | SinkFormat::Csv) && s.partition_by.is_empty(),
        TaskKind::Validate(_) | TaskKind::Shell(_) => false,
    }
}

/// Runs an attempt: Polars work in a supervised child when `isolation` allows, everything else
/// (and everything when in-process) here, with panics turned into task errors.
pub fn run(ctx: &TaskContext, isolation: &TaskIsolation) -> Result<TaskOutcome, TaskError> {
    match isolation {
        TaskIsolation::Child(exe) if runs_polars(ctx.kind, ctx.engine) => run_in_child(ctx, exe),
        _ => guarded(|| tasks::run(ctx)),
    }
}

/// What a child needs to run one attempt: [`TaskContext`] as owned, serializable values.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    task_id: String,
    kind: TaskKind,
    engine: SqlEngine,
    pipeline_dir: PathBuf,
    files: Vec<PathBuf>,
    upstream: BTreeMap<String, Input>,
    output: PathBuf,
    log: Option<PathBuf>,
    owners: PathBuf,
    limit: Option<usize>,
    data_dirs: Vec<PathBuf>,
    memory: Option<MemoryBudget>,
}

/// The child side: reads the request, runs the task, prints the outcome; the exit code is 0
/// whenever an outcome was printed.
fn child_main() -> i32 {
    // If the machine itself runs out of memory before the parent notices, the kernel should kill
    // this child rather than the run, the runner or the app. Raising one's own score needs no
    // privilege.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("polder task child: cannot read the request: {e}");
        return 2;
    }
    let req: Request = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("polder task child: bad request: {e}");
            return 2;
        }
    };
    let log = req.log.as_deref().and_then(|p| TaskLog::open(p).ok()).unwrap_or_else(TaskLog::discard);
    // The parent stops this process by killing it; nothing sets this flag.
    let cancel = CancelFlag::new();
    let duckdb = DuckDbFiles::default();
    let ctx = TaskContext {
        task_id: &req.task_id,
        kind: &req.kind,
        engine: req.engine,
        pipeline_dir: &req.pipeline_dir,
        files: &req.files,
        upstream: &req.upstream,
        output: &req.output,
        log: &log,
        cancel: &cancel,
        duckdb: &duckdb,
        owners: &req.owners,
        limit: req.limit,
        data_dirs: &req.data_dirs,
        memory: req.memory.as_ref(),
    };
    let result = guarded(|| tasks::run(&ctx));
    let line = match serde_json::to_string(&result) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("polder task child: cannot encode the outcome: {e}");
            return 2;
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{RESULT_MARK}{line}").and_then(|_| out.flush()).is_err() {
        return 2;
    }
    0
}

/// Why the parent stopped a child.
enum Stopped {
    /// Its resident memory passed the budget; the peak seen.
    OverBudget(u64),
    /// Cancel or timeout.
    Cancelled,
}

/// The parent side: starts the child, feeds it the request, watches its memory and the cancel
/// flag, and turns what it reports (or how it died) into the attempt's result.
fn run_in_child(ctx: &TaskContext, exe: &Path) -> Result<TaskOutcome, TaskError> {
    let req = Request {
        task_id: ctx.task_id.to_string(),
        kind: ctx.kind.clone(),
        engine: ctx.engine,
        pipeline_dir: ctx.pipeline_dir.to_path_buf(),
        files: ctx.files.to_vec(),
        upstream: ctx.upstream.clone(),
        output: ctx.output.to_path_buf(),
        log: ctx.log.path().map(Path::to_path_buf),
        owners: ctx.owners.to_path_buf(),
        limit: ctx.limit,
        data_dirs: ctx.data_dirs.to_vec(),
        memory: ctx.memory.cloned(),
    };
    let request = serde_json::to_vec(&req).map_err(|e| TaskError::data("cannot encode the task for its process", e))?;
    ctx.cancel.check()?;
    let mut cmd = Command::new(exe);
    cmd.arg(CHILD_ARG).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: prctl is async-signal-safe and touches only the child's own state. A parent that
    // dies (kill -9 of `polder run`) takes its task children with it instead of leaving a
    // runaway query behind. The signal follows the spawning thread, which waits for the child
    // below until it is gone.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| TaskError::data(format!("cannot start a task process ({})", exe.display()), e))?;
    let pid = child.id();
    let budget = ctx.memory.map(|m| m.bytes);
    ctx.log.line(format!(
        "running in process {pid}{}",
        budget.map(|b| format!(" with a memory budget of {}", format_bytes(b))).unwrap_or_default()
    ));
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let log = ctx.log;
    let (stopped, reply, tail, peak_seen) = std::thread::scope(|s| {
        s.spawn(move || {
            if let Some(mut stdin) = stdin {
                // A child that died early closes the pipe; its exit status tells why.
                let _ = stdin.write_all(&request);
            }
        });
        let reply = s.spawn(move || {
            let mut text = String::new();
            if let Some(mut out) = stdout {
                let _ = out.read_to_string(&mut text);
            }
            let _ = done_tx.send(());
            text
        });
        let tail = s.spawn(move || {
            let mut tail: Vec<String> = Vec::new();
            if let Some(err) = stderr {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    log.line(format!("stderr: {line}"));
                    tail.push(line);
                    if tail.len() > STDERR_TAIL {
                        tail.remove(0);
                    }
                }
            }
            tail
        });
        let mut peak_seen = 0;
        let mut stopped = None;
        // Until the child closes stdout (it exits), sample its memory and the cancel flag.
        while let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(POLL) {
            if let Some((_, peak)) = memory::resident(pid) {
                peak_seen = peak_seen.max(peak);
            }
            if budget.is_some_and(|b| peak_seen > b) {
                stopped = Some(Stopped::OverBudget(peak_seen));
            } else if ctx.cancel.is_set() {
                stopped = Some(Stopped::Cancelled);
            }
            if stopped.is_some() {
                // The child is not reaped yet, so its pid cannot have been reused.
                let _ = child.kill();
                break;
            }
        }
        // Killing closes the child's pipes, so the readers finish.
        let reply = reply.join().unwrap_or_default();
        let tail = tail.join().unwrap_or_default();
        (stopped, reply, tail, peak_seen)
    });
    let (status, max_rss) = wait_with_peak(&mut child);
    let peak = peak_seen.max(max_rss);
    ctx.log.line(format!("process {pid}: peak memory {}", format_bytes(peak)));
    match stopped {
        Some(Stopped::OverBudget(used)) => {
            return Err(TaskError::OutOfMemory {
                task: ctx.task_id.to_string(),
                used: Some(used.max(peak)),
                limit: budget.unwrap_or_default(),
                detail: None,
            })
        }
        Some(Stopped::Cancelled) => return Err(TaskError::Cancelled),
        None => {}
    }
    if let Some(json) = reply.lines().rev().find_map(|l| l.strip_prefix(RESULT_MARK)) {
        return serde_json::from_str::<Result<TaskOutcome, TaskError>>(json)
            .unwrap_or_else(|e| Err(TaskError::data("the task process sent an unreadable outcome", e)));
    }
    // No outcome: the child died. An allocation failure means memory ran out before our sampling
    // saw it pass the budget (or the machine had less to give).
    if tail.iter().any(|l| l.contains("memory allocation of")) {
        if let Some(limit) = budget {
            return Err(TaskError::OutOfMemory {
                task: ctx.task_id.to_string(),
                used: Some(peak.max(limit)),
                limit,
                detail: None,
            });
        }
    }
    let how = match status {
        Some(st) => describe_exit(st),
        None => "vanished".to_string(),
    };
    let tail = if tail.is_empty() { String::new() } else { format!("; last output:\n{}", tail.join("\n")) };
    Err(TaskError::Data(format!("the task's process {how} (peak memory {}){tail}", format_bytes(peak))))
}

/// Reaps the child: its wait status and its peak resident size (`ru_maxrss`), which catches a
/// spike between two samples.
fn wait_with_peak(child: &mut std::process::Child) -> (Option<i32>, u64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child, with valid out-pointers.
        let r = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
        if r >= 0 {
            return (Some(status), (usage.ru_maxrss.max(0) as u64) * 1024);
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            // Already reaped elsewhere (cannot happen here); fall back to std's view.
            use std::os::unix::process::ExitStatusExt;
            return (child.wait().ok().map(|s| s.into_raw()), 0);
        }
    }
}

/// "exited with code 3", "was killed by signal 9 (SIGKILL)" for a raw wait status.
fn describe_exit(status: i32) -> String {
    if libc::WIFEXITED(status) {
        return format!("exited with code {} without reporting an outcome", libc::WEXITSTATUS(status));
    }
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        let name = match sig {
            libc::SIGKILL => " (SIGKILL; the kernel's out-of-memory killer sends it when the machine runs out of memory)",
            libc::SIGABRT => " (SIGABRT: it aborted)",
            libc::SIGSEGV => " (SIGSEGV: it crashed)",
            libc::SIGBUS => " (SIGBUS: a memory-mapped file changed under it)",
            _ => "",
        };
        return format!("was killed by signal {sig}{name}");
    }
    format!("ended with wait status {status}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ShellTask, SqlTask};

    #[test]
    fn polars_tasks_go_to_a_child_and_duckdb_ones_stay() {
        let sql = TaskKind::Sql(SqlTask { file: None, sql: "SELECT 1".into(), engine: None });
        assert!(runs_polars(&sql, SqlEngine::Polars));
        assert!(!runs_polars(&sql, SqlEngine::DuckDb));
        let shell = TaskKind::Shell(ShellTask { command: "true".into(), env: Vec::new() });
        assert!(!runs_polars(&shell, SqlEngine::Polars));
    }

    #[test]
    fn exit_statuses_read_well() {
        assert_eq!(describe_exit(3 << 8), "exited with code 3 without reporting an outcome");
        assert!(describe_exit(libc::SIGKILL).starts_with("was killed by signal 9 (SIGKILL;"));
        assert_eq!(describe_exit(libc::SIGABRT), "was killed by signal 6 (SIGABRT: it aborted)");
    }

    #[test]
    fn errors_and_outcomes_cross_the_process_boundary() {
        let err: Result<TaskOutcome, TaskError> =
            Err(TaskError::Sql { engine: "polars", file: Some("q.sql".into()), message: "no table x".into() });
        let back: Result<TaskOutcome, TaskError> = serde_json::from_str(&serde_json::to_string(&err).unwrap()).unwrap();
        assert_eq!(back.unwrap_err().to_string(), "SQL error (polars) in q.sql: no table x");
        let ok: Result<TaskOutcome, TaskError> = Ok(TaskOutcome {
            has_output: true,
            rows: Some(3),
            warnings: vec!["w".into()],
            failure: Some(TaskError::Validation { failures: vec!["f".into()] }),
        });
        let back: TaskOutcome =
            serde_json::from_str::<Result<TaskOutcome, TaskError>>(&serde_json::to_string(&ok).unwrap()).unwrap().unwrap();
        assert_eq!((back.has_output, back.rows, back.warnings.len()), (true, Some(3), 1));
        assert_eq!(back.failure.unwrap().to_string(), "validation failed: f");
    }
}
