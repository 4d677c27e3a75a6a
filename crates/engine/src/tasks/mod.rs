//! Task kinds: one module per kind, each turning its inputs into an output artifact.

pub mod frame;
pub mod ndjson;
pub mod python;
pub mod shell;
pub mod sink;
pub mod source;
pub mod sql;
pub mod validate;
pub mod view_scan;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::duckdb_files::DuckDbFiles;
use crate::memory::{format_bytes, format_over, MemoryBudget};
use crate::spec::{SqlEngine, TaskKind};

/// An engine's name in [`TaskError::Sql`]. An alias rather than `&'static str` written out:
/// serde's derive borrows every literal `&str` field from its input, which would make
/// `TaskError` deserializable only from `'static` text; [`engine_name`] maps names instead.
pub type EngineName = &'static str;

/// Why a task attempt failed. Serializable: a task child process reports it to the parent.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize)]
pub enum TaskError {
    /// The SQL engine rejected or failed the query.
    #[error("SQL error ({engine}){}: {message}", file.as_ref().map(|f| format!(" in {f}")).unwrap_or_default())]
    Sql {
        /// `polars` or `duckdb`.
        #[serde(deserialize_with = "engine_name")]
        engine: EngineName,
        /// The `.sql` file, if the SQL came from one.
        file: Option<String>,
        /// The engine's message.
        message: String,
    },
    /// A source matched no files.
    #[error("no files match {pattern} (looked for {resolved}); check `path`, or generate the data first")]
    NoFiles {
        /// The pattern as written.
        pattern: String,
        /// The absolute pattern searched.
        resolved: String,
    },
    /// Reading, transforming or writing data failed.
    #[error("{0}")]
    Data(String),
    /// Error-severity checks failed.
    #[error("validation failed: {}", failures.join("; "))]
    Validation {
        /// One line per failed check.
        failures: Vec<String>,
    },
    /// A shell command exited unsuccessfully.
    #[error("command `{command}` {status}{}", if tail.is_empty() { String::new() } else { format!("; last output:\n{tail}") })]
    ShellExit {
        /// The command line.
        command: String,
        /// "exited with code 3", "was killed by signal 9".
        status: String,
        /// The last lines of its output.
        tail: String,
    },
    /// The task's Python function raised, or its process failed.
    #[error("{}", python_text(file.as_deref(), *line, *column, message, traceback))]
    Python {
        /// The user's file the error points at (the task's `.py` file or a module it imports).
        file: Option<String>,
        /// The line in that file.
        line: Option<usize>,
        /// The column (1-based, in characters) where the failing expression starts.
        column: Option<usize>,
        /// `KeyError: 'amount'`, or what happened to the process.
        message: String,
        /// The traceback through the user's code only (empty: none to show).
        traceback: String,
    },
    /// The output broke the task's schema contract.
    #[error("schema contract of task '{task}' failed:\n{}", violations.iter().map(|v| format!("- {v}")).collect::<Vec<_>>().join("\n"))]
    Contract {
        /// Task id.
        task: String,
        /// One line per violation.
        violations: Vec<String>,
    },
    /// The attempt ran past the task's `timeout_secs`.
    #[error("timed out after {secs}s (timeout_secs = {secs}); raise timeout_secs or make the task faster")]
    Timeout {
        /// The limit.
        secs: f64,
    },
    /// Polars, DuckDB or Polder panicked inside the task; the process survived.
    #[error("internal panic: {0}; this is a bug, please report it with the task's SQL")]
    Panic(String),
    /// The run was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The attempt went over its memory budget (`memory_limit`) and was stopped.
    #[error("{}", out_of_memory_text(task, *used, *limit, detail.as_deref()))]
    OutOfMemory {
        /// Task id.
        task: String,
        /// The most memory the attempt was seen using, in bytes (None: DuckDB refused to go over).
        used: Option<u64>,
        /// The budget, in bytes.
        limit: u64,
        /// The engine's own words, when it stopped itself.
        detail: Option<String>,
    },
}

fn python_text(file: Option<&str>, line: Option<usize>, column: Option<usize>, message: &str, traceback: &str) -> String {
    let at = match (file, line, column) {
        (Some(f), Some(l), Some(c)) => format!(" in {f}, line {l}, column {c}"),
        (Some(f), Some(l), None) => format!(" in {f}, line {l}"),
        (Some(f), None, _) => format!(" in {f}"),
        _ => String::new(),
    };
    if traceback.is_empty() {
        format!("Python error{at}: {message}")
    } else {
        format!("Python error{at}: {message}\n{traceback}")
    }
}

fn out_of_memory_text(task: &str, used: Option<u64>, limit: u64, detail: Option<&str>) -> String {
    let budget = format_bytes(limit);
    let what = match (used, detail) {
        (Some(used), _) => {
            format!("task '{task}' used {}, over its memory budget of {budget} (memory_limit)", format_over(used, limit))
        }
        (None, Some(detail)) => format!(
            "task '{task}' ran out of memory within its memory budget of {budget} (memory_limit), \
             with DuckDB spilling what it could to disk: {detail}"
        ),
        (None, None) => format!("task '{task}' ran out of memory within its memory budget of {budget} (memory_limit)"),
    };
    format!(
        "{what}; raise `memory_limit` in pipeline.toml (task setting or [defaults]) or rewrite the query \
         (e.g. explicit JOIN … ON instead of comma joins, fewer rows before a join or sort)"
    )
}

/// Engine names a child process sends back, as the `&'static str` [`TaskError::Sql`] holds.
fn engine_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let name = String::deserialize(d)?;
    Ok(match name.as_str() {
        "polars" => "polars",
        "duckdb" => "duckdb",
        // An engine this build does not name: rare, small, once per failed task.
        _ => Box::leak(name.into_boxed_str()),
    })
}

impl TaskError {
    /// Whether another attempt could succeed (checks and syntax errors won't change).
    pub fn is_retryable(&self) -> bool {
        // Over budget once is over budget again: the budget does not change between attempts.
        !matches!(
            self,
            TaskError::Validation { .. }
                | TaskError::Contract { .. }
                | TaskError::Cancelled
                | TaskError::NoFiles { .. }
                | TaskError::OutOfMemory { .. }
        )
    }

    /// A data error with context.
    pub fn data(context: impl std::fmt::Display, e: impl std::fmt::Display) -> Self {
        TaskError::Data(format!("{context}: {e}"))
    }

    /// DuckDB's "Out of Memory Error" (it hit `memory_limit` and could not spill) as
    /// [`TaskError::OutOfMemory`] naming the task and its budget; other errors unchanged.
    pub fn duckdb_out_of_memory(self, task: &str, memory: Option<&MemoryBudget>) -> TaskError {
        let Some(budget) = memory else { return self };
        let message = match &self {
            TaskError::Sql { message, .. } | TaskError::Data(message) => message,
            _ => return self,
        };
        match message.find("Out of Memory Error") {
            Some(at) => TaskError::OutOfMemory {
                task: task.to_string(),
                used: None,
                limit: budget.bytes,
                detail: Some(message[at..].lines().next().unwrap_or_default().trim().to_string()),
            },
            None => self,
        }
    }
}

/// A cancel signal for a running attempt; hooks let engines that can be interrupted stop early.
#[derive(Default)]
pub struct CancelFlag {
    flag: AtomicBool,
    hooks: Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

impl CancelFlag {
    /// A fresh, unset flag.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Whether cancel was requested.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Requests cancel and runs the interrupt hooks.
    pub fn set(&self) {
        self.flag.store(true, Ordering::SeqCst);
        for h in self.hooks.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            h();
        }
    }

    /// Registers a hook run on cancel (immediately if already cancelled).
    pub fn on_cancel(&self, hook: impl Fn() + Send + Sync + 'static) {
        if self.is_set() {
            hook();
        }
        self.hooks.lock().unwrap_or_else(|p| p.into_inner()).push(Box::new(hook));
    }

    /// `Err(Cancelled)` if cancel was requested.
    pub fn check(&self) -> Result<(), TaskError> {
        if self.is_set() {
            Err(TaskError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// The log file of one task run.
pub struct TaskLog {
    file: Mutex<Option<std::fs::File>>,
    path: Option<PathBuf>,
}

impl TaskLog {
    /// Opens (appending) the log at `path`.
    pub fn open(path: &Path) -> std::io::Result<TaskLog> {
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        let f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(TaskLog { file: Mutex::new(Some(f)), path: Some(path.to_path_buf()) })
    }

    /// A log that discards lines (previews).
    pub fn discard() -> TaskLog {
        TaskLog { file: Mutex::new(None), path: None }
    }

    /// The file lines go to (None: discarded), for a task child process to append to.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Appends one timestamped line.
    pub fn line(&self, msg: impl AsRef<str>) {
        if let Some(f) = self.file.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            let ts = chrono::Utc::now().format("%H:%M:%S%.3f");
            for l in msg.as_ref().lines() {
                let _ = writeln!(f, "{ts} {l}");
            }
        }
    }
}

/// Everything an attempt needs; the task writes its output to `output` (a temp path the executor publishes).
pub struct TaskContext<'a> {
    /// Task id.
    pub task_id: &'a str,
    /// Settings, with parameters rendered.
    pub kind: &'a TaskKind,
    /// The SQL engine for `sql` tasks (task setting or pipeline default).
    pub engine: SqlEngine,
    /// The pipeline folder (relative paths in the spec start here).
    pub pipeline_dir: &'a Path,
    /// A source's matched files, sorted.
    pub files: &'a [PathBuf],
    /// Upstream task id → its output.
    pub upstream: &'a BTreeMap<String, Input>,
    /// Where to write this task's output artifact.
    pub output: &'a Path,
    /// The task's log.
    pub log: &'a TaskLog,
    /// Cancel signal.
    pub cancel: &'a CancelFlag,
    /// Shared DuckDB database files.
    pub duckdb: &'a DuckDbFiles,
    /// The workspace's owner locks: whose temp files beside a target are dead leftovers.
    pub owners: &'a Path,
    /// Row limit, for previews (None in runs).
    pub limit: Option<usize>,
    /// Folders beyond the pipeline's own that data may come from (the workspace's `POLDER_DATA_DIRS`).
    pub data_dirs: &'a [PathBuf],
    /// The attempt's memory budget and DuckDB spill folder (None: unbounded, as in unit tests).
    pub memory: Option<&'a MemoryBudget>,
    /// How the task reaches its `s3://` path (None: it has none).
    pub s3: Option<&'a crate::s3::S3Access>,
    /// How a PostgreSQL task reaches its server (None: the task has none).
    pub postgres: Option<&'a crate::postgres::access::PgAccess>,
    /// How a ClickHouse sink reaches its server (None: the task has none).
    pub clickhouse: Option<&'a crate::clickhouse::ChAccess>,
}

impl TaskContext<'_> {
    /// An in-memory DuckDB for the task's own SQL, confined to the pipeline folder, the allowed
    /// data folders and the folders of its upstream artifacts and its output.
    pub fn confined_duckdb(&self) -> Result<crate::duckdb_files::Confined, TaskError> {
        self.confined_duckdb_with(Default::default())
    }

    /// [`Self::confined_duckdb`] with other [`crate::duckdb_files::Settings`].
    pub fn confined_duckdb_with(
        &self,
        settings: crate::duckdb_files::Settings,
    ) -> Result<crate::duckdb_files::Confined, TaskError> {
        let artifacts = self.upstream.values().filter_map(|i| match i {
            Input::Artifact(p) => Some(artifact_scope(p)),
            Input::View(_) => None,
        });
        let dirs: Vec<&Path> = std::iter::once(self.pipeline_dir)
            .chain(self.data_dirs.iter().map(PathBuf::as_path))
            .chain(Some(artifact_scope(self.output)))
            .chain(artifacts)
            .collect();
        crate::duckdb_files::lend_confined(&dirs, self.memory, settings).map_err(|e| TaskError::data("cannot start DuckDB", e))
    }

    /// The artifact of upstream `id`.
    pub fn input(&self, id: &str) -> Result<&Path, TaskError> {
        match self.upstream_input(id)? {
            Input::Artifact(p) => Ok(p),
            Input::View(_) => Err(TaskError::Data(format!("upstream '{id}' is a view; only Polars SQL tasks can read views"))),
        }
    }

    /// The output of upstream `id`, stored or a view.
    pub fn upstream_input(&self, id: &str) -> Result<&Input, TaskError> {
        self.upstream
            .get(id)
            .ok_or_else(|| TaskError::Data(format!("upstream '{id}' has no output; run it first (without --only)")))
    }
}

/// The folder a task's DuckDB may use for an artifact: for a stored artifact
/// (`<state>/artifacts/<pipeline>/<task>/run-N.parquet`) the pipeline's artifact folder, so all
/// tasks of a pipeline share one confinement (and pooled DuckDB instances); else its folder.
fn artifact_scope(p: &Path) -> &Path {
    let task_dir = p.parent().unwrap_or(p);
    match task_dir.parent() {
        Some(pipeline_dir) if pipeline_dir.parent().and_then(Path::file_name) == Some(std::ffi::OsStr::new("artifacts")) => {
            pipeline_dir
        }
        _ => task_dir,
    }
}

/// An upstream output as a downstream task sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Input {
    /// A stored artifact (Parquet).
    Artifact(PathBuf),
    /// A `materialize = "view"` task, recomputed inside the reader's plan.
    View(Arc<ViewPlan>),
}

/// What a reader needs to recompute a view.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ViewPlan {
    /// The view task's id.
    pub id: String,
    /// Its settings, parameters rendered (a source or a Polars SQL task).
    pub kind: TaskKind,
    /// A source view's matched files.
    pub files: Vec<PathBuf>,
    /// The view's own inputs.
    pub upstream: BTreeMap<String, Input>,
}

impl Input {
    /// What it is, for messages: the artifact's path or the view's task.
    pub fn describe(&self) -> String {
        match self {
            Input::Artifact(p) => p.display().to_string(),
            Input::View(v) => format!("view '{}'", v.id),
        }
    }

    /// Its rows in batches of at most `rows`, read by Polars' streaming engine.
    pub fn batches(
        &self,
        rows: usize,
    ) -> Result<impl Iterator<Item = Result<polars::prelude::DataFrame, TaskError>> + use<>, TaskError> {
        let what = self.describe();
        let unreadable = move |e| TaskError::data(format!("cannot read {what}"), e);
        let batches = self
            .lazy()?
            .collect_batches(polars::prelude::Engine::Streaming, true, std::num::NonZeroUsize::new(rows), false)
            .map_err(unreadable.clone())?;
        Ok(batches.map(move |b| b.map_err(unreadable.clone())))
    }

    /// Its columns and their types.
    pub fn schema(&self) -> Result<polars::prelude::SchemaRef, TaskError> {
        self.lazy()?.collect_schema().map_err(|e| TaskError::data(format!("cannot read {}", self.describe()), e))
    }

    /// A lazy frame over this input: a scan of the artifact, or the view's plan.
    pub fn lazy(&self) -> Result<polars::prelude::LazyFrame, TaskError> {
        match self {
            Input::Artifact(p) => frame::scan_artifact(p),
            Input::View(v) => match &v.kind {
                TaskKind::Source(s) => source::lazy(s, &v.files, None),
                TaskKind::Sql(s) => sql::polars_plan(&s.sql, &v.upstream).map_err(|message| TaskError::Sql {
                    engine: "polars",
                    file: s.file.clone(),
                    message: format!("in view '{}': {message}", v.id),
                }),
                _ => Err(TaskError::Data(format!("task '{}' cannot be a view", v.id))),
            },
        }
    }
}

/// What a successful attempt produced.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TaskOutcome {
    /// Whether an artifact was written at `output`.
    pub has_output: bool,
    /// Rows produced or written.
    pub rows: Option<u64>,
    /// Warnings to log and show (warn-severity checks).
    pub warnings: Vec<String>,
    /// A failure decided after the output was written (failed checks keep their failing-row sample).
    pub failure: Option<TaskError>,
}

/// Runs the attempt for `ctx.kind` in this process (see [`crate::isolate::run`] for the
/// supervised child process).
pub fn run(ctx: &TaskContext) -> Result<TaskOutcome, TaskError> {
    let result = match ctx.kind {
        TaskKind::Source(s) => source::run(ctx, s),
        TaskKind::Sql(s) => sql::run(ctx, s),
        TaskKind::Validate(v) => validate::run(ctx, v),
        TaskKind::Sink(s) => sink::run(ctx, s),
        TaskKind::Shell(s) => shell::run(ctx, s),
        TaskKind::Python(p) => python::run(ctx, p),
    };
    result.map_err(|e| e.duckdb_out_of_memory(ctx.task_id, ctx.memory))
}

/// Quotes an identifier for SQL (both engines accept double quotes).
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quotes a string literal for SQL.
pub fn quote_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
