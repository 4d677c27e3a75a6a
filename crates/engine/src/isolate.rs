//! Task child processes: the Polars work of a task runs in a re-executed copy of the current
//! program, whose memory the parent watches.
//!
//! Polars has no memory limit: a query that explodes (a comma join, a cross join) grows until
//! the kernel's OOM killer ends the process, and with it every other task of the run, the runner
//! server or the desktop app. So a task that runs Polars runs in a child process: the same
//! executable started with [`CHILD_ARG`], which reads requests (one JSON line each) on stdin,
//! runs [`tasks::run`] for each and prints each outcome as a JSON line on stdout. The parent
//! samples the child's resident memory every [`POLL`] and kills it (SIGKILL) when its peak grows
//! past the task's budget, which fails that task alone with [`TaskError::OutOfMemory`]. Cancel
//! and timeouts kill the child too, so a running Polars plan can now be interrupted; a child that
//! crashes (abort, signal) fails its task, never the parent. A child that finished its task
//! healthy and small waits in an idle pool for the next one: starting a process costs more than
//! a trivial task.
//!
//! DuckDB work stays in-process: DuckDB honours `memory_limit` itself and spills to disk (see
//! [`crate::duckdb_files::open_confined`]), and DuckDB sinks share one instance per database file.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// Prefix of the child's lines to the parent on stdout: anything else a library prints there is
/// ignored.
const RESULT_MARK: &str = "POLDER-TASK ";

/// The child's first line: it runs and waits for requests.
const READY: &str = "ready";

/// How long a new task process may take to start.
const START_WAIT: Duration = Duration::from_secs(60);

/// The running program's own file on Linux, whatever happened to its path since.
const SELF_EXE: &str = "/proc/self/exe";

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
        // A database source runs no Polars plan (and its access stays in this process).
        TaskKind::Source(s) => s.format != crate::spec::SourceFormat::Postgres,
        TaskKind::Sql(_) => engine != SqlEngine::DuckDb,
        TaskKind::Sink(s) => matches!(s.format, SinkFormat::Parquet | SinkFormat::Csv) && s.partition_by.is_empty(),
        // A Python task is a process of its own interpreter already.
        TaskKind::Validate(_) | TaskKind::Shell(_) | TaskKind::Python(_) => false,
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
    /// The task's S3 access with its credentials: this pipe is the only place they are written.
    s3: Option<crate::s3::WireAccess>,
}

/// The child side: answers requests (one JSON line each on stdin) until stdin closes, one
/// outcome line each on stdout; exits 2 on a request it cannot read.
fn child_main() -> i32 {
    // If the machine itself runs out of memory before the parent notices, the kernel should kill
    // this child rather than the run, the runner or the app. Raising one's own score needs no
    // privilege.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    // Ctrl-C reaches the whole process group; the parent decides what a cancel stops (and kills
    // this process for it), so a task is reported cancelled rather than crashed.
    // SAFETY: setting a signal disposition before this process starts any thread of its own.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
    // Started: the parent measures this process's own size from here, so the first task is not
    // charged for loading the program.
    if reply_line(READY).is_err() {
        return 2;
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let req: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("polder task process: bad request: {e}");
                return 2;
            }
        };
        let result = serve(&req);
        drop(req);
        // Give what the task freed back to the OS before answering, so the parent sees this
        // process's real size when it decides whether to keep it for the next task.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free heap memory.
        unsafe {
            libc::malloc_trim(0);
        }
        let Ok(json) = serde_json::to_string(&result) else {
            eprintln!("polder task process: cannot encode the outcome");
            return 2;
        };
        if reply_line(&json).is_err() {
            return 2;
        }
    }
    0
}

/// Writes one marked line to stdout.
fn reply_line(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{RESULT_MARK}{text}")?;
    out.flush()
}

/// Runs one request in the child.
fn serve(req: &Request) -> Result<TaskOutcome, TaskError> {
    let log = req.log.as_deref().and_then(|p| TaskLog::open(p).ok()).unwrap_or_else(TaskLog::discard);
    // The parent stops a task by killing its process; nothing sets this flag.
    let cancel = CancelFlag::new();
    let duckdb = DuckDbFiles::default();
    let s3 = req.s3.as_ref().map(crate::s3::S3Access::from_wire);
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
        s3: s3.as_ref(),
        // Database sinks run in the parent (they run no Polars plan of their own).
        postgres: None,
        clickhouse: None,
    };
    guarded(|| tasks::run(&ctx))
}

/// Idle task processes kept for the next task: starting one costs ~10 ms of CPU (exec, a fresh
/// Polars), more than a trivial task itself.
const MAX_IDLE: usize = 8;
/// How long an idle task process is kept: a run's next task comes within it, while a runner or
/// the desktop app between runs should not hold tens of MB per process.
const IDLE_KEEP: Duration = Duration::from_secs(30);
/// A process larger than this after its task is not reused: what it keeps would count against
/// the next task's budget.
const RETIRE_RSS: u64 = 192 * 1024 * 1024;
/// Tasks one process serves before it is replaced, bounding what any leak can accumulate.
const MAX_TASKS: u32 = 200;

/// A task process of this executable and its pipes.
struct Worker {
    exe: PathBuf,
    child: Child,
    stdin: ChildStdin,
    /// Outcome lines from stdout; disconnected once the process closes it (exits).
    replies: mpsc::Receiver<String>,
    /// The last lines of its stderr (panics of Rust's runtime, aborts).
    stderr: Arc<Mutex<VecDeque<String>>>,
    served: u32,
    /// When it last finished a task.
    idle_since: Instant,
}

fn idle() -> &'static Mutex<Vec<Worker>> {
    static IDLE: OnceLock<Mutex<Vec<Worker>>> = OnceLock::new();
    IDLE.get_or_init(Default::default)
}

impl Worker {
    /// An idle process of `exe`, or a new one.
    fn get(exe: &Path) -> Result<Worker, TaskError> {
        let reused = {
            let mut idle = idle().lock().unwrap_or_else(|p| p.into_inner());
            idle.iter().position(|w| w.exe == exe).map(|i| idle.swap_remove(i))
        };
        match reused {
            Some(w) => Ok(w),
            None => Worker::spawn(exe),
        }
    }

    fn spawn(exe: &Path) -> Result<Worker, TaskError> {
        let mut child =
            spawn_child(exe).map_err(|e| TaskError::data(format!("cannot start a task process ({})", exe.display()), e))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take()) else {
            return Err(TaskError::Data("a task process has no pipes".into()));
        };
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(json) = line.strip_prefix(RESULT_MARK) {
                    if tx.send(json.to_string()).is_err() {
                        break;
                    }
                }
            }
        });
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let t = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
                t.push_back(line);
                if t.len() > STDERR_TAIL {
                    t.pop_front();
                }
            }
        });
        let mut worker =
            Worker { exe: exe.to_path_buf(), child, stdin, replies, stderr: tail, served: 0, idle_since: Instant::now() };
        match worker.replies.recv_timeout(START_WAIT) {
            Ok(line) if line == READY => Ok(worker),
            other => {
                let why = match other {
                    Ok(line) => format!("said {line:?}"),
                    Err(mpsc::RecvTimeoutError::Timeout) => format!("did not start within {}s", START_WAIT.as_secs()),
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let status = worker.child.wait().ok();
                        format!("ended at once ({status:?})")
                    }
                };
                let _ = worker.child.kill();
                let _ = worker.child.wait();
                Err(TaskError::Data(format!("a task process of {} {why}", exe.display())))
            }
        }
    }

    /// Readies the process for a new task: its peak (VmHWM) reset to its current size, which it
    /// returns along with whether the reset worked, and its stderr tail forgotten.
    fn prepare(&mut self) -> (bool, u64) {
        self.stderr.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let pid = self.pid();
        let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
        (reset, memory::resident(pid).map_or(0, |(rss, _)| rss))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends the processes idle for longer than [`IDLE_KEEP`].
    fn prune() {
        let old: Vec<Worker> = {
            let mut idle = idle().lock().unwrap_or_else(|p| p.into_inner());
            let (old, keep) = idle.drain(..).partition(|w| w.idle_since.elapsed() > IDLE_KEEP);
            *idle = keep;
            old
        };
        for w in old {
            let _ = w.kill();
        }
    }

    /// Keeps the process for the next task if it is small and healthy, else ends it.
    fn release(self) {
        let small = memory::resident(self.pid()).is_some_and(|(rss, _)| rss <= RETIRE_RSS);
        if small && self.served < MAX_TASKS {
            let mut idle = idle().lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                let mut me = self;
                me.idle_since = Instant::now();
                idle.push(me);
                return;
            }
        }
        self.kill();
    }

    /// Kills and reaps the process; returns its raw wait status.
    fn kill(mut self) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        // Not reaped yet, so the pid is still this process.
        let _ = self.child.kill();
        self.child.wait().ok().map(|s| s.into_raw())
    }
}

/// Starts a task process. Processes are forked from one long-lived thread: PR_SET_PDEATHSIG
/// (below) fires when the thread that forked the child ends, and a pooled process outlives the
/// runtime thread that first needed it.
fn spawn_child(exe: &Path) -> std::io::Result<Child> {
    type Job = (PathBuf, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new().name("polder-task-spawner".into()).spawn(move || {
            loop {
                // Between spawns, this thread also ends processes idle for too long.
                let (exe, reply) = match rx.recv_timeout(IDLE_KEEP / 3) {
                    Ok(job) => job,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        Worker::prune();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                // This very program, even if its file was replaced since it started (an upgrade,
                // a rebuild under a running `polder serve`): requests and replies must match.
                let this = ENTRY.get() == Some(&exe) && Path::new(SELF_EXE).exists();
                let mut cmd = Command::new(if this { Path::new(SELF_EXE) } else { exe.as_path() });
                cmd.arg0(&exe).arg(CHILD_ARG).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
                // SAFETY: prctl is async-signal-safe and changes only the child. A parent that
                // dies (kill -9 of `polder run`) takes its task processes with it instead of
                // leaving a runaway query behind.
                #[cfg(target_os = "linux")]
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let _ = reply.send(cmd.spawn());
            }
        });
        if let Err(e) = started {
            tracing::error!(error = %e, "cannot start the task process spawner");
        }
        Mutex::new(tx)
    });
    let (tx, rx) = mpsc::channel();
    spawner.lock().unwrap_or_else(|p| p.into_inner()).send((exe.to_path_buf(), tx)).map_err(std::io::Error::other)?;
    rx.recv().map_err(std::io::Error::other)?
}

/// Why the parent stopped a child.
enum Stopped {
    /// Its memory grew past the budget; by how much.
    OverBudget(u64),
    /// Cancel or timeout.
    Cancelled,
}

/// The parent side: hands the request to a task process, watches its memory and the cancel flag
/// until it answers, and turns the answer (or how the process died) into the attempt's result.
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
        s3: ctx.s3.map(crate::s3::S3Access::to_wire),
    };
    // JSON escapes newlines inside strings, so one request is one line.
    let mut line = serde_json::to_string(&req).map_err(|e| TaskError::data("cannot encode the task for its process", e))?;
    line.push('\n');
    ctx.cancel.check()?;
    // The task is charged for what the process grows by, not for the idle process it gets (tens
    // of MB of code and runtime). The peak is reset while the process waits, before it has the
    // request, so it becomes this task's peak.
    let budget = ctx.memory.map(|m| m.bytes);
    // Logged before the process has the request, so the log reads in order.
    let announce = |pid: u32| {
        ctx.log.line(format!(
            "running in process {pid}{}",
            budget.map(|b| format!(" with a memory budget of {}", format_bytes(b))).unwrap_or_default()
        ))
    };
    let mut worker = Worker::get(exe)?;
    let (mut reset, mut base) = worker.prepare();
    announce(worker.pid());
    if write_request(&mut worker.stdin, line.as_bytes()).is_err() {
        // An idle process that died meanwhile (killed from outside, or ended): take a fresh one.
        let _ = worker.kill();
        worker = Worker::spawn(exe)?;
        (reset, base) = worker.prepare();
        announce(worker.pid());
        write_request(&mut worker.stdin, line.as_bytes())
            .map_err(|e| TaskError::data("cannot hand the task to its process", e))?;
    }
    let pid = worker.pid();
    worker.served += 1;
    let sample = |peak: &mut u64| {
        if let Some((rss, hwm)) = memory::resident(pid) {
            *peak = (*peak).max(if reset { hwm } else { rss });
        }
    };
    let mut peak = base;
    let mut stopped = None;
    let reply = loop {
        match worker.replies.recv_timeout(POLL) {
            Ok(json) => break Some(json),
            Err(mpsc::RecvTimeoutError::Disconnected) => break None,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        sample(&mut peak);
        let grown = peak.saturating_sub(base);
        if budget.is_some_and(|b| grown > b) {
            stopped = Some(Stopped::OverBudget(grown));
        } else if ctx.cancel.is_set() {
            stopped = Some(Stopped::Cancelled);
        }
        if stopped.is_some() {
            break None;
        }
    };
    sample(&mut peak);
    let grown = peak.saturating_sub(base);
    ctx.log.line(format!("process {pid}: peak memory {} ({} for this task)", format_bytes(peak), format_bytes(grown)));
    if let Some(json) = reply {
        let result = serde_json::from_str::<Result<TaskOutcome, TaskError>>(&json)
            .unwrap_or_else(|e| Err(TaskError::data("the task process sent an unreadable outcome", e)));
        // A panic may leave Polars' global state half-updated: that process is not reused.
        if matches!(result, Err(TaskError::Panic(_))) {
            let _ = worker.kill();
        } else {
            worker.release();
        }
        return result;
    }
    let stderr = worker.stderr.clone();
    let status = worker.kill();
    // Killing closed its pipes; give the stderr reader a moment to take in the last lines.
    std::thread::sleep(Duration::from_millis(20));
    let tail: Vec<String> = stderr.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect();
    for l in &tail {
        ctx.log.line(format!("stderr: {l}"));
    }
    match stopped {
        Some(Stopped::OverBudget(used)) => {
            return Err(TaskError::OutOfMemory {
                task: ctx.task_id.to_string(),
                used: Some(used),
                limit: budget.unwrap_or_default(),
                detail: None,
            })
        }
        Some(Stopped::Cancelled) => return Err(TaskError::Cancelled),
        None if ctx.cancel.is_set() => return Err(TaskError::Cancelled),
        None => {}
    }
    // No outcome: the process died. An allocation failure means memory ran out before sampling
    // saw it pass the budget (or the machine had less to give).
    if let Some(limit) = budget.filter(|_| tail.iter().any(|l| l.contains("memory allocation of"))) {
        return Err(TaskError::OutOfMemory { task: ctx.task_id.to_string(), used: Some(grown.max(limit)), limit, detail: None });
    }
    let how = status.map_or_else(|| "vanished".to_string(), describe_exit);
    let tail = if tail.is_empty() { String::new() } else { format!("; last output:\n{}", tail.join("\n")) };
    Err(TaskError::Data(format!("the task's process {how} (peak memory {}){tail}", format_bytes(peak))))
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

/// Writes a request to a task process with SIGPIPE blocked on this thread. The `polder` binary
/// restores SIGPIPE's default action (to end quietly under `| head`), so writing to a process
/// that has died would otherwise kill the whole runner; the write fails with `BrokenPipe`
/// instead, and the SIGPIPE it raised is taken off this thread before the mask is restored.
#[cfg(unix)]
fn write_request(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    // SAFETY: plain signal-mask calls on zero-initialized sets owned by this frame.
    unsafe {
        let mut pipe: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pipe);
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        let mut before: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &pipe, &mut before);
        let result = w.write_all(bytes).and_then(|_| w.flush());
        if matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe) {
            let now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            libc::sigtimedwait(&pipe, std::ptr::null_mut(), &now);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
        result
    }
}

/// Writes a request to a task process.
#[cfg(not(unix))]
fn write_request(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(bytes).and_then(|_| w.flush())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ShellTask, SqlTask};

    #[test]
    fn polars_tasks_go_to_a_child_and_duckdb_ones_stay() {
        let sql = TaskKind::Sql(SqlTask {
            file: None,
            sql: "SELECT 1".into(),
            engine: None,
            runs_on: SqlEngine::Polars,
            route: None,
            auto: true,
        });
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
