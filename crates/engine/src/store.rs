//! Run metadata in SQLite: runs and task runs, written in transactions, readable concurrently (WAL).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::owners;

/// States of a run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Tasks are executing.
    Running,
    /// Every task succeeded or was reused.
    Success,
    /// At least one task failed.
    Failed,
    /// Stopped by the user.
    Cancelled,
}

/// States of a task within a run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for upstreams or a slot.
    Pending,
    /// Executing.
    Running,
    /// Produced fresh output.
    Success,
    /// Reused the output of an earlier run with the same fingerprint.
    Cached,
    /// Not selected in this run (`--only`); its latest output was used.
    Skipped,
    /// Failed after all attempts.
    Failed,
    /// Not run because an upstream failed.
    UpstreamFailed,
    /// Stopped by a cancel.
    Cancelled,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The name stored in the database.
            pub fn as_str(self) -> &'static str { match self { $(Self::$v => $s),* } }
            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some(Self::$v),)* _ => None } }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
str_enum!(RunStatus { Running => "running", Success => "success", Failed => "failed", Cancelled => "cancelled" });
str_enum!(TaskStatus {
    Pending => "pending", Running => "running", Success => "success", Cached => "cached", Skipped => "skipped",
    Failed => "failed", UpstreamFailed => "upstream_failed", Cancelled => "cancelled",
});

impl TaskStatus {
    /// Whether the task is finished and its output (if any) can feed downstream tasks.
    pub fn is_done_ok(self) -> bool {
        matches!(self, TaskStatus::Success | TaskStatus::Cached | TaskStatus::Skipped)
    }
}

/// A run as stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Run id (increasing).
    pub id: i64,
    /// Pipeline name.
    pub pipeline: String,
    /// State.
    pub status: RunStatus,
    /// Parameters as JSON object text.
    pub params: String,
    /// Who started it: `cli`, `schedule`, `api`.
    pub trigger: String,
    /// Start, Unix milliseconds.
    pub started_at_ms: i64,
    /// End, Unix milliseconds.
    pub ended_at_ms: Option<i64>,
    /// Why the run failed, if it did.
    pub error: Option<String>,
}

/// A task run as stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct TaskRunRecord {
    /// The run.
    pub run_id: i64,
    /// Task id.
    pub task_id: String,
    /// Task kind.
    pub kind: String,
    /// State.
    pub status: TaskStatus,
    /// Attempts made.
    pub attempts: u32,
    /// The task's fingerprint in this run.
    pub fingerprint: String,
    /// Start of the first attempt, Unix milliseconds.
    pub started_at_ms: Option<i64>,
    /// End, Unix milliseconds.
    pub ended_at_ms: Option<i64>,
    /// Rows in the output (or written by a sink, or failing rows of a validate task).
    pub rows: Option<u64>,
    /// Bytes of the output artifact.
    pub bytes: Option<u64>,
    /// Output columns as JSON `[{"name":…,"type":…}]`.
    pub schema: Option<String>,
    /// Output artifact, relative to the workspace's `.polder` folder.
    pub artifact: Option<String>,
    /// Error text, if it failed.
    pub error: Option<String>,
    /// Log file, relative to the workspace's `.polder` folder.
    pub log_path: Option<String>,
}

/// A finished task's output facts, for recording and for reuse by a later run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutputFacts {
    /// Rows.
    pub rows: Option<u64>,
    /// Bytes.
    pub bytes: Option<u64>,
    /// Schema JSON.
    pub schema: Option<String>,
    /// Artifact path relative to `.polder`.
    pub artifact: Option<String>,
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Only this pipeline.
    pub pipeline: Option<String>,
    /// Only runs in this state.
    pub status: Option<RunStatus>,
    /// Only runs with one of these triggers, comma-separated (`resume` matches every `resume:<run>`).
    pub trigger: Option<String>,
    /// Only runs older than this id (paging).
    pub before_id: Option<i64>,
}

/// Counts per status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusCounts {
    /// (status, runs).
    pub runs: Vec<(String, i64)>,
    /// (status, task runs).
    pub tasks: Vec<(String, i64)>,
}

/// The run metadata database.
pub struct Store {
    path: PathBuf,
    /// Owner locks (beside the database): who runs each run.
    owners: PathBuf,
    /// The one writer connection; SQLite allows one writer at a time anyway, and writes are short.
    writer: Arc<Mutex<Connection>>,
    /// Stops the heartbeat thread when dropped; started by the first run this store records.
    heartbeat: OnceLock<mpsc::Sender<()>>,
}

/// How often a process records that its running runs are alive; a run cut off by a crash
/// ends at its last heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

const SCHEMA_VERSION: i64 = 4;

const MIGRATION_1: &str = "
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    pipeline TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    trigger TEXT NOT NULL,
    pid INTEGER,
    started_at_ms INTEGER NOT NULL,
    ended_at_ms INTEGER,
    error TEXT
);
CREATE INDEX runs_by_pipeline ON runs(pipeline, id);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE task_runs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    pipeline TEXT NOT NULL,
    task_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    fingerprint TEXT NOT NULL,
    started_at_ms INTEGER,
    ended_at_ms INTEGER,
    rows INTEGER,
    bytes INTEGER,
    schema TEXT,
    artifact TEXT,
    error TEXT,
    log_path TEXT,
    PRIMARY KEY (run_id, task_id)
);
CREATE INDEX task_runs_by_fingerprint ON task_runs(pipeline, task_id, fingerprint);
";

const MIGRATION_2: &str = "
CREATE TABLE schedule_state (
    pipeline TEXT PRIMARY KEY,
    last_fire_ms INTEGER NOT NULL
);
CREATE TABLE run_queue (
    id INTEGER PRIMARY KEY,
    pipeline TEXT NOT NULL,
    params TEXT NOT NULL,
    trigger TEXT NOT NULL,
    enqueued_at_ms INTEGER NOT NULL
);
";

/// Runs name their owner process (see [`crate::owners`]) and when it last said it was alive.
const MIGRATION_3: &str = "
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at_ms INTEGER;
";

/// Task runs remember the task's definition (a hash of its own settings and text), so an
/// editor can say a task changed since its last successful run.
const MIGRATION_4: &str = "
ALTER TABLE task_runs ADD COLUMN definition TEXT;
";

/// A run waiting for a free slot on a runner.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuedRun {
    /// Queue entry id (increasing: the queue is first in, first out).
    pub id: i64,
    /// Pipeline name.
    pub pipeline: String,
    /// Parameters as a JSON object.
    pub params: String,
    /// Who asked: `schedule`, `api`, `backfill`.
    pub trigger: String,
    /// When it was queued, Unix milliseconds.
    pub enqueued_at_ms: i64,
}

/// Now as Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl Store {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let err = |source| Error::Store { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(err)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).map_err(err)?;
        configure(&conn).map_err(err)?;
        conn.set_transaction_behavior(TransactionBehavior::Immediate);
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(Error::Invalid(format!(
                "{} was written by a newer Polder (schema {version}, this one knows {SCHEMA_VERSION}); upgrade polder",
                path.display()
            )));
        }
        if version < SCHEMA_VERSION {
            let tx = conn.transaction().map_err(err)?;
            if version < 1 {
                tx.execute_batch(MIGRATION_1).map_err(err)?;
            }
            if version < 2 {
                tx.execute_batch(MIGRATION_2).map_err(err)?;
            }
            if version < 3 {
                tx.execute_batch(MIGRATION_3).map_err(err)?;
            }
            if version < 4 {
                tx.execute_batch(MIGRATION_4).map_err(err)?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(err)?;
            tx.commit().map_err(err)?;
        }
        let owners = path.parent().unwrap_or(Path::new(".")).join(owners::OWNERS_DIR);
        owners::register(&owners).map_err(|e| Error::io("cannot take the owner lock in", &owners, e))?;
        Ok(Store { path: path.to_path_buf(), owners, writer: Arc::new(Mutex::new(conn)), heartbeat: OnceLock::new() })
    }

    /// The folder of owner locks this store judges runs by.
    pub fn owners_dir(&self) -> &Path {
        &self.owners
    }

    /// Starts (once) the thread that stamps this process's running runs every [`HEARTBEAT`].
    fn start_heartbeat(&self) {
        self.heartbeat.get_or_init(|| {
            let (stop, stopped) = mpsc::channel::<()>();
            let writer = Arc::downgrade(&self.writer);
            let spawned = std::thread::Builder::new().name("polder-heartbeat".into()).spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(HEARTBEAT) {
                    let Some(writer) = writer.upgrade() else { return };
                    let conn = writer.lock().unwrap_or_else(|p| p.into_inner());
                    if let Err(e) = conn.execute(
                        "UPDATE runs SET heartbeat_at_ms = ?1 WHERE owner = ?2 AND status = 'running'",
                        params![now_ms(), owners::token()],
                    ) {
                        tracing::warn!(error = %e, "cannot record the heartbeat of running runs");
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start the heartbeat thread; interrupted runs will end when found");
            }
            stop
        });
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> Error {
        Error::Store { path: self.path.clone(), source }
    }

    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|e| self.err(e))
    }

    /// A read-only connection for concurrent readers (the runner server uses one per request).
    pub fn reader(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| self.err(e))?;
        configure(&conn).map_err(|e| self.err(e))?;
        Ok(conn)
    }

    /// Marks runs left `running` by a process that no longer runs (its owner lock is free) as
    /// failed, with their unfinished task runs, ending at the run's last sign of life (heartbeat
    /// or task times), not now. Returns the ids of the runs fixed.
    pub fn recover_interrupted(&self) -> Result<Vec<i64>> {
        self.write(|c| {
            let tx = c.transaction()?;
            let mut ids = Vec::new();
            {
                let mut stmt = tx.prepare("SELECT id, pid, owner FROM runs WHERE status = 'running'")?;
                let rows = stmt.query_map([], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Option<String>>(2)?))
                })?;
                for row in rows {
                    let (id, pid, owner) = row?;
                    if !owners::run_owner_alive(&self.owners, owner.as_deref(), pid.map(|p| p as u32)) {
                        ids.push(id);
                    }
                }
            }
            for id in &ids {
                let last_seen: i64 = tx.query_row(
                    "SELECT MAX(r.started_at_ms, COALESCE(r.heartbeat_at_ms, 0),
                                COALESCE((SELECT MAX(MAX(COALESCE(t.started_at_ms, 0), COALESCE(t.ended_at_ms, 0)))
                                          FROM task_runs t WHERE t.run_id = r.id), 0))
                     FROM runs r WHERE r.id = ?1",
                    [id],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "UPDATE task_runs SET status = 'failed', ended_at_ms = ?2,
                        error = 'interrupted: the process running this task exited before it finished'
                     WHERE run_id = ?1 AND status = 'running'",
                    params![id, last_seen],
                )?;
                tx.execute(
                    "UPDATE task_runs SET status = 'cancelled', ended_at_ms = ?2 WHERE run_id = ?1 AND status = 'pending'",
                    params![id, last_seen],
                )?;
                tx.execute(
                    "UPDATE runs SET status = 'failed', ended_at_ms = ?2, error = 'interrupted: the process running it exited' WHERE id = ?1",
                    params![id, last_seen],
                )?;
            }
            tx.commit()?;
            Ok(ids)
        })
    }

    /// Records a new run with every task pending; returns the run id.
    pub fn create_run(
        &self,
        pipeline: &str,
        params_json: &str,
        trigger: &str,
        tasks: &[(String, String, String)],
    ) -> Result<i64> {
        self.start_heartbeat();
        self.write(|c| {
            let tx = c.transaction()?;
            let now = now_ms();
            tx.execute(
                "INSERT INTO runs (pipeline, status, params, trigger, pid, owner, started_at_ms, heartbeat_at_ms)
                 VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?6)",
                params![pipeline, params_json, trigger, std::process::id(), owners::token(), now],
            )?;
            let run_id = tx.last_insert_rowid();
            {
                let mut stmt = tx.prepare(
                    "INSERT INTO task_runs (run_id, pipeline, task_id, kind, status, fingerprint) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                )?;
                for (task, kind, fp) in tasks {
                    stmt.execute(params![run_id, pipeline, task, kind, fp])?;
                }
            }
            tx.commit()?;
            Ok(run_id)
        })
    }

    /// Records each task's definition hash (see [`crate::spec::Task::definition`]) for a new run.
    pub fn set_definitions(&self, run_id: i64, definitions: &[(String, String)]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare("UPDATE task_runs SET definition = ?3 WHERE run_id = ?1 AND task_id = ?2")?;
                for (task, def) in definitions {
                    stmt.execute(params![run_id, task, def])?;
                }
            }
            tx.commit()
        })
    }

    /// Each task's definition in its newest successful (or reused) run of `pipeline`.
    pub fn last_success_definitions(&self, pipeline: &str) -> Result<std::collections::HashMap<String, (i64, Option<String>)>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                "SELECT task_id, run_id, definition FROM task_runs t
                 WHERE pipeline = ?1 AND status IN ('success', 'cached')
                   AND run_id = (SELECT max(run_id) FROM task_runs u
                                 WHERE u.pipeline = t.pipeline AND u.task_id = t.task_id AND u.status IN ('success', 'cached'))",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([pipeline], |r| Ok((r.get::<_, String>(0)?, (r.get::<_, i64>(1)?, r.get::<_, Option<String>>(2)?))))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    /// The newest `limit` runs of one task, newest first.
    pub fn task_history(&self, pipeline: &str, task: &str, limit: usize) -> Result<Vec<TaskHistoryEntry>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                "SELECT t.run_id, t.status, t.attempts, t.started_at_ms, t.ended_at_ms, t.rows, t.error, r.trigger
                 FROM task_runs t JOIN runs r ON r.id = t.run_id
                 WHERE t.pipeline = ?1 AND t.task_id = ?2 ORDER BY t.run_id DESC LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![pipeline, task, limit as i64], |r| {
                let status: String = r.get(1)?;
                Ok(TaskHistoryEntry {
                    run_id: r.get(0)?,
                    status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Failed),
                    attempts: r.get(2)?,
                    started_at_ms: r.get(3)?,
                    ended_at_ms: r.get(4)?,
                    rows: get_u64(r, 5)?,
                    error: r.get(6)?,
                    trigger: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Sets a pending task's fingerprint, once its inputs are known (an S3 source read after
    /// tasks of the same run wrote the bucket, and what reads it).
    pub fn set_fingerprint(&self, run_id: i64, task: &str, fingerprint: &str) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE task_runs SET fingerprint = ?3 WHERE run_id = ?1 AND task_id = ?2",
                params![run_id, task, fingerprint],
            )?;
            Ok(())
        })
    }

    /// Marks a task attempt as started.
    pub fn task_started(&self, run_id: i64, task: &str, attempt: u32, log_path: &str) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE task_runs SET status = 'running', attempts = ?3, log_path = ?4,
                    started_at_ms = COALESCE(started_at_ms, ?5), error = NULL
                 WHERE run_id = ?1 AND task_id = ?2",
                params![run_id, task, attempt, log_path, now_ms()],
            )?;
            Ok(())
        })
    }

    /// Records a task's final state and output facts.
    pub fn task_finished(
        &self,
        run_id: i64,
        task: &str,
        status: TaskStatus,
        facts: &OutputFacts,
        error: Option<&str>,
    ) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE task_runs SET status = ?3, rows = ?4, bytes = ?5, schema = ?6, artifact = ?7, error = ?8, ended_at_ms = ?9
                 WHERE run_id = ?1 AND task_id = ?2",
                params![run_id, task, status.as_str(), facts.rows.map(|n| n as i64), facts.bytes.map(|n| n as i64), facts.schema, facts.artifact, error, now_ms()],
            )?;
            Ok(())
        })
    }

    /// Records the run's final state.
    pub fn finish_run(&self, run_id: i64, status: RunStatus, error: Option<&str>) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE runs SET status = ?2, error = ?3, ended_at_ms = ?4 WHERE id = ?1",
                params![run_id, status.as_str(), error, now_ms()],
            )?;
            Ok(())
        })
    }

    /// The newest successful (or reused) output of `task` with this fingerprint, if any.
    pub fn cached_output(&self, pipeline: &str, task: &str, fingerprint: &str) -> Result<Option<(i64, OutputFacts)>> {
        self.write(|c| {
            c.query_row(
                "SELECT run_id, rows, bytes, schema, artifact FROM task_runs
                 WHERE pipeline = ?1 AND task_id = ?2 AND fingerprint = ?3 AND status IN ('success', 'cached')
                 ORDER BY run_id DESC LIMIT 1",
                params![pipeline, task, fingerprint],
                |r| Ok((r.get(0)?, facts_from_row(r, 1)?)),
            )
            .optional()
        })
    }

    /// The newest output of `task` whatever its fingerprint (for `--only` and previews).
    pub fn latest_output(&self, pipeline: &str, task: &str) -> Result<Option<(i64, String, OutputFacts)>> {
        self.write(|c| {
            c.query_row(
                "SELECT run_id, fingerprint, rows, bytes, schema, artifact FROM task_runs
                 WHERE pipeline = ?1 AND task_id = ?2 AND status IN ('success', 'cached', 'skipped') AND artifact IS NOT NULL
                 ORDER BY run_id DESC LIMIT 1",
                params![pipeline, task],
                |r| Ok((r.get(0)?, r.get(1)?, facts_from_row(r, 2)?)),
            )
            .optional()
        })
    }

    /// Runs, newest first, optionally of one pipeline.
    pub fn list_runs(&self, pipeline: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        self.find_runs(&RunFilter { pipeline: pipeline.map(str::to_string), ..Default::default() }, limit)
    }

    /// Runs matching `filter`, newest first; page with `before_id` (the last id of the previous page).
    pub fn find_runs(&self, filter: &RunFilter, limit: usize) -> Result<Vec<RunRecord>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                "SELECT id, pipeline, status, params, trigger, started_at_ms, ended_at_ms, error FROM runs
                 WHERE (?1 IS NULL OR pipeline = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR id < ?3)
                   AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || trigger || ',') > 0
                        OR (instr(',' || ?5 || ',', ',resume,') > 0 AND trigger LIKE 'resume:%'))
                 ORDER BY id DESC LIMIT ?4",
            )
            .map_err(|e| self.err(e))?;
        let status = filter.status.map(|s| s.as_str());
        let rows = stmt
            .query_map(params![filter.pipeline, status, filter.before_id, limit as i64, filter.trigger], run_from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Finished task runs' count and total seconds per task kind and status (for metrics).
    pub fn task_durations(&self) -> Result<Vec<(String, String, i64, f64)>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                "SELECT kind, status, COUNT(*), COALESCE(SUM(ended_at_ms - started_at_ms), 0) / 1000.0 FROM task_runs
                 WHERE started_at_ms IS NOT NULL AND ended_at_ms IS NOT NULL GROUP BY kind, status ORDER BY kind, status",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// One run.
    pub fn get_run(&self, id: i64) -> Result<Option<RunRecord>> {
        let conn = self.reader()?;
        conn.query_row(
            "SELECT id, pipeline, status, params, trigger, started_at_ms, ended_at_ms, error FROM runs WHERE id = ?1",
            [id],
            run_from_row,
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    /// The task runs of a run, in the order they were declared.
    pub fn task_runs(&self, run_id: i64) -> Result<Vec<TaskRunRecord>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                "SELECT run_id, task_id, kind, status, attempts, fingerprint, started_at_ms, ended_at_ms,
                        rows, bytes, schema, artifact, error, log_path
                 FROM task_runs WHERE run_id = ?1 ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([run_id], |r| {
                let status: String = r.get(3)?;
                Ok(TaskRunRecord {
                    run_id: r.get(0)?,
                    task_id: r.get(1)?,
                    kind: r.get(2)?,
                    status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Failed),
                    attempts: r.get(4)?,
                    fingerprint: r.get(5)?,
                    started_at_ms: r.get(6)?,
                    ended_at_ms: r.get(7)?,
                    rows: get_u64(r, 8)?,
                    bytes: get_u64(r, 9)?,
                    schema: r.get(10)?,
                    artifact: r.get(11)?,
                    error: r.get(12)?,
                    log_path: r.get(13)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}

/// One run of one task, for its history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskHistoryEntry {
    /// The run.
    pub run_id: i64,
    /// How the task ended (or its state now).
    pub status: TaskStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Start of its first attempt, Unix milliseconds.
    pub started_at_ms: Option<i64>,
    /// End, Unix milliseconds.
    pub ended_at_ms: Option<i64>,
    /// Rows of its output.
    pub rows: Option<u64>,
    /// Its error, if it failed.
    pub error: Option<String>,
    /// Who started the run: `cli`, `api`, `schedule`, `retry`…
    pub trigger: String,
}

/// SQLite integers are i64; counts are never negative.
fn get_u64(r: &Row, i: usize) -> rusqlite::Result<Option<u64>> {
    Ok(r.get::<_, Option<i64>>(i)?.map(|v| v as u64))
}

impl Store {
    /// Artifacts (relative to `.polder`) that must survive garbage collection: those of each
    /// pipeline's newest `keep_runs` runs, of running runs, and each task's newest usable output.
    pub fn artifacts_in_use(&self, keep_runs: usize) -> Result<std::collections::HashSet<String>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                "SELECT artifact FROM task_runs WHERE artifact IS NOT NULL AND (
                     run_id IN (SELECT id FROM runs r WHERE status = 'running'
                                OR (SELECT COUNT(*) FROM runs n WHERE n.pipeline = r.pipeline AND n.id > r.id) < ?1)
                  OR run_id = (SELECT MAX(t.run_id) FROM task_runs t
                               WHERE t.pipeline = task_runs.pipeline AND t.task_id = task_runs.task_id
                                 AND t.status IN ('success', 'cached') AND t.artifact IS NOT NULL))",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([keep_runs as i64], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    /// Runs and task runs per status, for metrics.
    pub fn status_counts(&self) -> Result<StatusCounts> {
        let conn = self.reader()?;
        let count = |sql: &str| -> Result<Vec<(String, i64)>> {
            let mut stmt = conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
            rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
        };
        Ok(StatusCounts {
            runs: count("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")?,
            tasks: count("SELECT status, COUNT(*) FROM task_runs GROUP BY status ORDER BY status")?,
        })
    }

    /// When a pipeline's schedule last fired (Unix milliseconds).
    pub fn last_fire(&self, pipeline: &str) -> Result<Option<i64>> {
        self.write(|c| {
            c.query_row("SELECT last_fire_ms FROM schedule_state WHERE pipeline = ?1", [pipeline], |r| r.get(0)).optional()
        })
    }

    /// Records a schedule firing and queues its run, in one transaction (a crash cannot fire twice
    /// or lose the run).
    pub fn fire_schedule(&self, pipeline: &str, fire_ms: i64, params_json: &str) -> Result<i64> {
        self.write(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO schedule_state (pipeline, last_fire_ms) VALUES (?1, ?2)
                 ON CONFLICT(pipeline) DO UPDATE SET last_fire_ms = excluded.last_fire_ms",
                params![pipeline, fire_ms],
            )?;
            tx.execute(
                "INSERT INTO run_queue (pipeline, params, trigger, enqueued_at_ms) VALUES (?1, ?2, 'schedule', ?3)",
                params![pipeline, params_json, now_ms()],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(id)
        })
    }

    /// Sets when a schedule last fired without queueing (first sight of a schedule).
    pub fn set_last_fire(&self, pipeline: &str, fire_ms: i64) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT INTO schedule_state (pipeline, last_fire_ms) VALUES (?1, ?2)
                 ON CONFLICT(pipeline) DO UPDATE SET last_fire_ms = excluded.last_fire_ms",
                params![pipeline, fire_ms],
            )?;
            Ok(())
        })
    }

    /// Queues a run.
    pub fn enqueue(&self, pipeline: &str, params_json: &str, trigger: &str) -> Result<i64> {
        self.write(|c| {
            c.execute(
                "INSERT INTO run_queue (pipeline, params, trigger, enqueued_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![pipeline, params_json, trigger, now_ms()],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// The queue, oldest first.
    pub fn queued(&self) -> Result<Vec<QueuedRun>> {
        self.write(|c| {
            let mut stmt = c.prepare("SELECT id, pipeline, params, trigger, enqueued_at_ms FROM run_queue ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(QueuedRun {
                    id: r.get(0)?,
                    pipeline: r.get(1)?,
                    params: r.get(2)?,
                    trigger: r.get(3)?,
                    enqueued_at_ms: r.get(4)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Removes a queue entry (it started, or was dropped).
    pub fn dequeue(&self, id: i64) -> Result<()> {
        self.write(|c| c.execute("DELETE FROM run_queue WHERE id = ?1", [id]).map(|_| ()))
    }

    /// Forgets artifacts that were deleted, so no run points at a missing file.
    pub fn forget_artifacts(&self, removed: &[String]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare("UPDATE task_runs SET artifact = NULL WHERE artifact = ?1")?;
                for a in removed {
                    stmt.execute([a])?;
                }
            }
            tx.commit()
        })
    }
}

fn facts_from_row(r: &Row, first: usize) -> rusqlite::Result<OutputFacts> {
    Ok(OutputFacts {
        rows: get_u64(r, first)?,
        bytes: get_u64(r, first + 1)?,
        schema: r.get(first + 2)?,
        artifact: r.get(first + 3)?,
    })
}

fn run_from_row(r: &Row) -> rusqlite::Result<RunRecord> {
    let status: String = r.get(2)?;
    Ok(RunRecord {
        id: r.get(0)?,
        pipeline: r.get(1)?,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        params: r.get(3)?,
        trigger: r.get(4)?,
        started_at_ms: r.get(5)?,
        ended_at_ms: r.get(6)?,
        error: r.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_runs_and_finds_cached_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("m.db")).unwrap();
        let tasks = vec![("a".to_string(), "sql".to_string(), "fp1".to_string())];
        let run = store.create_run("p", "{}", "cli", &tasks).unwrap();
        assert!(store.cached_output("p", "a", "fp1").unwrap().is_none());
        store.task_started(run, "a", 1, "logs/a.log").unwrap();
        let facts =
            OutputFacts { rows: Some(3), bytes: Some(10), schema: None, artifact: Some("artifacts/p/a/run-1.parquet".into()) };
        store.task_finished(run, "a", TaskStatus::Success, &facts, None).unwrap();
        store.finish_run(run, RunStatus::Success, None).unwrap();
        let (found_run, found) = store.cached_output("p", "a", "fp1").unwrap().unwrap();
        assert_eq!((found_run, found), (run, facts));
        assert!(store.cached_output("p", "a", "fp2").unwrap().is_none());
        let trs = store.task_runs(run).unwrap();
        assert_eq!((trs[0].status, trs[0].attempts, trs[0].rows), (TaskStatus::Success, 1, Some(3)));
        assert_eq!(store.list_runs(Some("p"), 10).unwrap()[0].status, RunStatus::Success);
    }

    #[test]
    fn recovers_runs_of_dead_processes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let store = Store::open(&path).unwrap();
        let run = store.create_run("p", "{}", "cli", &[("a".into(), "sql".into(), "f".into())]).unwrap();
        store.task_started(run, "a", 1, "l").unwrap();
        assert!(store.recover_interrupted().unwrap().is_empty(), "our own run is alive");
        // Pretend the run belongs to a process that has exited (and never took a lock here).
        store.write(|c| c.execute("UPDATE runs SET pid = 999999999, owner = '999999999-gone'", [])).unwrap();
        assert_eq!(store.recover_interrupted().unwrap(), vec![run]);
        assert_eq!(store.get_run(run).unwrap().unwrap().status, RunStatus::Failed);
        assert_eq!(store.task_runs(run).unwrap()[0].status, TaskStatus::Failed);
        assert!(store.recover_interrupted().unwrap().is_empty());
    }

    /// A stale run whose pid belongs to a live process (pid reuse, or a zombie) but whose owner
    /// lock nobody holds is recovered; one whose lock is held is not.
    #[test]
    fn recovers_runs_whose_pid_is_alive_but_whose_owner_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("m.db")).unwrap();
        let task = [("a".to_string(), "sql".to_string(), "f".to_string())];
        let reused = store.create_run("p", "{}", "cli", &task).unwrap();
        let live = store.create_run("p", "{}", "cli", &task).unwrap();
        let owners = store.owners_dir().to_path_buf();
        // pid 1 always runs; the lock of its "owner" exists but nobody holds it.
        std::fs::write(owners.join("1-dead.lock"), "").unwrap();
        store.write(|c| c.execute("UPDATE runs SET pid = 1, owner = '1-dead' WHERE id = ?1", [reused])).unwrap();
        // Another owner holds its lock (through another open file, as another process would).
        let held = std::fs::File::create(owners.join(format!("{}-live.lock", std::process::id()))).unwrap();
        held.lock().unwrap();
        let live_owner = format!("{}-live", std::process::id());
        store.write(|c| c.execute("UPDATE runs SET owner = ?2 WHERE id = ?1", params![live, live_owner])).unwrap();
        assert_eq!(store.recover_interrupted().unwrap(), vec![reused]);
        assert_eq!(store.get_run(live).unwrap().unwrap().status, RunStatus::Running);
        held.unlock().unwrap();
        assert_eq!(store.recover_interrupted().unwrap(), vec![live]);
    }

    #[test]
    fn an_interrupted_run_ends_at_its_last_sign_of_life() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("m.db")).unwrap();
        let tasks = [("a".to_string(), "sql".to_string(), "f".to_string()), ("b".into(), "sql".into(), "f".into())];
        let run = store.create_run("p", "{}", "cli", &tasks).unwrap();
        store.task_started(run, "a", 1, "l").unwrap();
        let long_ago = now_ms() - 3_600_000;
        store
            .write(|c| {
                c.execute(
                    "UPDATE runs SET owner = 'gone', started_at_ms = ?1, heartbeat_at_ms = ?1 + 5000 WHERE id = ?2",
                    params![long_ago, run],
                )?;
                c.execute("UPDATE task_runs SET started_at_ms = ?1 + 1000 WHERE run_id = ?2", params![long_ago, run])
            })
            .unwrap();
        assert_eq!(store.recover_interrupted().unwrap(), vec![run]);
        let r = store.get_run(run).unwrap().unwrap();
        assert_eq!(r.ended_at_ms, Some(long_ago + 5000), "the last heartbeat, not now");
        let trs = store.task_runs(run).unwrap();
        assert_eq!((trs[0].status, trs[0].ended_at_ms), (TaskStatus::Failed, Some(long_ago + 5000)));
        assert_eq!((trs[1].status, trs[1].ended_at_ms), (TaskStatus::Cancelled, Some(long_ago + 5000)));
    }

    #[test]
    fn the_heartbeat_stamps_running_runs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("m.db")).unwrap();
        let run = store.create_run("p", "{}", "cli", &[]).unwrap();
        let beat = |s: &Store| -> i64 {
            s.reader().unwrap().query_row("SELECT heartbeat_at_ms FROM runs WHERE id = ?1", [run], |r| r.get(0)).unwrap()
        };
        let first = beat(&store);
        let deadline = std::time::Instant::now() + HEARTBEAT * 10;
        while beat(&store) == first {
            assert!(std::time::Instant::now() < deadline, "no heartbeat");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    #[test]
    fn databases_of_schema_2_migrate_and_their_runs_recover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(MIGRATION_1).unwrap();
            c.execute_batch(MIGRATION_2).unwrap();
            c.pragma_update(None, "user_version", 2).unwrap();
            c.execute(
                "INSERT INTO runs (pipeline, status, params, trigger, pid, started_at_ms) VALUES ('p', 'running', '{}', 'cli', 999999999, 7)",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let version: i64 = store.reader().unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        // No owner recorded: the pid decides, and this one is gone.
        assert_eq!(store.recover_interrupted().unwrap(), vec![1]);
        assert_eq!(store.get_run(1).unwrap().unwrap().ended_at_ms, Some(7));
    }
}
