//! DuckDB database files shared by tasks: one instance per file per process, writers serialized.
//!
//! DuckDB allows one read-write process per file and `Connection::open` creates a new database
//! instance each time, so two sinks opening the same file would fight over its lock. Here each
//! file is opened once while any task uses it, and writers take turns on its mutex.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use duckdb::{Config, Connection};

use crate::duckdb_raw::Database;
use crate::memory::MemoryBudget;
use crate::tasks::CancelFlag;

/// Settings every DuckDB instance Polder opens gets: no extension downloads (the app works
/// offline and must not fetch code mid-run), and a thread count that leaves room for Polars.
pub fn config() -> duckdb::Result<Config> {
    config_options().into_iter().try_fold(Config::default(), |config, (key, value)| config.with(key, value))
}

/// [`config`]'s settings, as DuckDB's configuration options.
fn config_options() -> [(&'static str, String); 4] {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    [
        ("autoinstall_known_extensions", "false".into()),
        ("autoload_known_extensions", "false".into()),
        ("threads", threads.to_string()),
        ("duckdb_api", "rust".into()),
    ]
}

/// Opens an in-memory DuckDB with [`config`].
pub fn open_in_memory() -> duckdb::Result<Connection> {
    Connection::open_in_memory_with_flags(config()?)
}

/// Opens an in-memory DuckDB within a task's memory budget: `memory_limit` is the budget and
/// `temp_directory` the attempt's spill folder, so big joins, sorts and aggregates spill to disk
/// instead of failing (DuckDB's default, 80% of RAM with a `.tmp` beside the database, does not
/// apply to in-memory instances the way a task needs).
pub fn open_in_memory_within(memory: Option<&MemoryBudget>) -> duckdb::Result<Connection> {
    let conn = open_in_memory()?;
    if let Some(m) = memory {
        conn.execute_batch(&budget_sql(m))?;
    }
    Ok(conn)
}

/// The statements that apply a memory budget to a DuckDB instance.
pub fn budget_sql(m: &MemoryBudget) -> String {
    // Whole KiB: DuckDB reads `KiB` as 1024 bytes; rounding down keeps it within the budget.
    format!(
        "SET memory_limit = '{}KiB'; SET temp_directory = {};",
        (m.bytes / 1024).max(1),
        crate::tasks::quote_str(&m.spill_dir.to_string_lossy())
    )
}

/// Opens an in-memory DuckDB whose SQL may read and write files only below `dirs` (DuckDB's
/// `allowed_directories` with external access off): a task's own SQL — `read_csv('/etc/…')`,
/// `COPY … TO`, `ATTACH` — cannot reach files outside the pipeline's folders. With a budget, it
/// also gets [`open_in_memory_within`]'s limit and spill folder.
pub fn open_confined<'a>(
    dirs: impl IntoIterator<Item = &'a Path>,
    memory: Option<&'a MemoryBudget>,
) -> duckdb::Result<Connection> {
    open_confined_with(dirs, memory, None)
}

/// [`open_confined`] with `threads` DuckDB threads (None: one per core).
pub fn open_confined_with<'a>(
    dirs: impl IntoIterator<Item = &'a Path>,
    memory: Option<&'a MemoryBudget>,
    threads: Option<usize>,
) -> duckdb::Result<Connection> {
    let conn = open_in_memory()?;
    confine(&conn, dirs, memory, Settings { threads, ..Settings::default() })?;
    Ok(conn)
}

/// How a confined instance runs queries, beyond its folders and budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// DuckDB threads (None: one per core).
    pub threads: Option<usize>,
    /// DuckDB's `preserve_insertion_order`. Off for queries reading a view's stream: DuckDB
    /// keeps the order of a source that has no batch indexes (Polder's stream) by running the
    /// order-keeping parts of a plan on one thread, which made the medallion's silver (a
    /// `GROUP BY` with `COUNT(DISTINCT …)` beside sums) 7.8 s instead of 4.8 s over 20M rows.
    /// Off, rows of a query without `ORDER BY` come in no set order.
    pub keep_insertion_order: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { threads: None, keep_insertion_order: true }
    }
}

/// Applies [`open_confined_with`]'s budget, settings and confinement to a fresh instance.
fn confine<'a>(
    conn: &Connection,
    dirs: impl IntoIterator<Item = &'a Path>,
    memory: Option<&'a MemoryBudget>,
    settings: Settings,
) -> duckdb::Result<()> {
    // The budget comes first: once external access is off, DuckDB refuses to change
    // `temp_directory`. The spill folder must also be allowed, or spilling hits the
    // Permission Error the confinement raises for everything else.
    if let Some(m) = memory {
        conn.execute_batch(&budget_sql(m))?;
    }
    if let Some(n) = settings.threads {
        conn.execute_batch(&format!("SET threads = {}", n.max(1)))?;
    }
    if !settings.keep_insertion_order {
        conn.execute_batch("SET preserve_insertion_order = false")?;
    }
    // A trailing slash: allowed directories are prefixes, and `/p` must not allow `/p2`.
    let list: Vec<String> = dirs
        .into_iter()
        .chain(memory.map(|m| m.spill_dir.as_path()))
        .map(|d| format!("'{}/'", d.to_string_lossy().trim_end_matches('/').replace('\'', "''")))
        .collect();
    // Locking the configuration last keeps the task's SQL from raising its own memory limit or
    // moving its spill folder.
    conn.execute_batch(&format!(
        "SET allowed_directories = [{}]; SET enable_external_access = false; SET lock_configuration = true;",
        list.join(", ")
    ))
}

/// A confined in-memory DuckDB on loan to one task: a connection of its own (temporary views
/// vanish with it) to an instance that goes back to an idle pool when the loan ends, for the
/// next task confined to the same folders with the same budget. Creating an instance costs
/// about 11 ms of CPU, most of a short DuckDB task; its settings are locked, so a pooled
/// instance keeps exactly the confinement it was made with.
pub struct Confined {
    conn: Option<Connection>,
    instance: Option<Instance>,
    key: String,
    spill: Option<PathBuf>,
}

/// A pooled instance: its handle (to run a query through the C API, [`Confined::run_pending`])
/// and a root connection that holds its settings. Fields drop in order: the connection first.
struct Instance {
    root: Connection,
    db: Database,
}

impl Confined {
    /// Runs `setup` then `query` on a new connection of this instance (see [`Database::run`]):
    /// DuckDB's own loop would spin while another of its threads holds the query's only task.
    /// Temporary views of this loan's connection are not seen there; `setup` makes its own.
    pub fn run_pending(&self, setup: &[String], query: &str, cancel: &CancelFlag) -> Result<(), String> {
        self.instance.as_ref().expect("a loan holds its instance until dropped").db.run(setup, query, cancel)
    }
}

impl std::ops::Deref for Confined {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a loan holds its connection until dropped")
    }
}

impl Drop for Confined {
    fn drop(&mut self) {
        drop(self.conn.take());
        let Some(instance) = self.instance.take() else { return };
        let mut idle = idle().lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = idle.values().map(Vec::len).sum();
        let same = idle.get(&self.key).map_or(0, Vec::len);
        if total < MAX_IDLE && same < MAX_IDLE_PER_KEY {
            idle.entry(std::mem::take(&mut self.key)).or_default().push((instance, self.spill.take()));
        } else {
            drop(idle);
            drop(instance);
            if let Some(spill) = &self.spill {
                let _ = std::fs::remove_dir_all(spill);
            }
        }
    }
}

/// Idle confined instances kept in all, and per confinement.
const MAX_IDLE: usize = 8;
const MAX_IDLE_PER_KEY: usize = 2;

type IdlePool = Mutex<HashMap<String, Vec<(Instance, Option<PathBuf>)>>>;

fn idle() -> &'static IdlePool {
    static IDLE: std::sync::OnceLock<IdlePool> = std::sync::OnceLock::new();
    IDLE.get_or_init(Default::default)
}

/// A [`Confined`] instance for `dirs`, `memory` and `settings`: an idle one with the same confinement, or a
/// new one. A pooled instance spills into a folder of its own beside the attempt's (named like
/// a temp file of this process, so a later start sweeps it if this process dies).
pub fn lend_confined(dirs: &[&Path], memory: Option<&MemoryBudget>, settings: Settings) -> Result<Confined, String> {
    let mut sorted: Vec<String> = dirs.iter().map(|d| d.to_string_lossy().trim_end_matches('/').to_string()).collect();
    sorted.sort();
    sorted.dedup();
    let spill_root = memory.and_then(|m| m.spill_dir.parent()).map(Path::to_path_buf);
    let key = format!(
        "{}|{}|{}|{}|{}",
        sorted.join("\n"),
        memory.map_or(0, |m| m.bytes),
        spill_root.as_deref().map(|p| p.to_string_lossy().to_string()).unwrap_or_default(),
        settings.threads.unwrap_or(0),
        settings.keep_insertion_order
    );
    let pooled = idle().lock().unwrap_or_else(|p| p.into_inner()).get_mut(&key).and_then(Vec::pop);
    let (instance, spill) = match pooled {
        Some(found) => found,
        None => {
            let own = memory.map(|m| MemoryBudget {
                bytes: m.bytes,
                spill_dir: crate::fsutil::temp_path_for(&spill_root.clone().unwrap_or_default().join("duckdb")),
            });
            let (db, root) = Database::open_in_memory(&config_options())?;
            confine(&root, dirs.iter().copied(), own.as_ref(), settings).map_err(|e| e.to_string())?;
            (Instance { root, db }, own.map(|m| m.spill_dir))
        }
    };
    let conn = instance.root.try_clone().map_err(|e| e.to_string())?;
    Ok(Confined { conn: Some(conn), instance: Some(instance), key, spill })
}

/// An open database file; lock [`DuckDbFile::conn`] to write.
pub struct DuckDbFile {
    /// The instance's root connection; holding the lock serializes writers.
    pub conn: Mutex<Connection>,
}

/// The registry of open database files.
#[derive(Default)]
pub struct DuckDbFiles {
    open: Mutex<HashMap<PathBuf, Weak<DuckDbFile>>>,
}

impl DuckDbFiles {
    /// The open instance for `path`, opening it (and creating folders) if no task holds it.
    /// Another process holding the file's lock is waited for, up to `wait`.
    pub fn get(&self, path: &Path, wait: Duration) -> Result<Arc<DuckDbFile>, String> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let key = canonical(path);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(file);
        }
        let deadline = Instant::now() + wait;
        let mut delay = Duration::from_millis(50);
        let conn = loop {
            match config().and_then(|c| Connection::open_with_flags(&key, c)) {
                Ok(c) => break c,
                Err(e) if e.to_string().contains("lock") && Instant::now() < deadline => {
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(format!("cannot open DuckDB database {}: {e}", key.display())),
            }
        };
        let file = Arc::new(DuckDbFile { conn: Mutex::new(conn) });
        open.insert(key, Arc::downgrade(&file));
        Ok(file)
    }
}

/// The canonical form of a path that may not exist yet (its folder exists).
fn canonical(path: &Path) -> PathBuf {
    match (path.parent().and_then(|p| p.canonicalize().ok()), path.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_loaned_instance_is_reused_only_under_the_same_confinement() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("secret.csv"), "x\n1\n").unwrap();
        {
            let first = lend_confined(&[a.as_path()], None, Settings::default()).unwrap();
            first.execute_batch("CREATE TABLE marker AS SELECT 1 AS m; CREATE TEMP VIEW v AS SELECT 2 AS n;").unwrap();
        }
        let again = lend_confined(&[a.as_path()], None, Settings::default()).unwrap();
        // The same instance (its table is there), a new connection (its temporary view is not).
        assert_eq!(again.query_row("SELECT m FROM marker", [], |r| r.get::<_, i32>(0)).unwrap(), 1);
        assert!(again.execute_batch("SELECT * FROM v").is_err());
        // Still confined: the other folder stays out of reach.
        let err = again.execute_batch(&format!("SELECT * FROM read_csv('{}')", b.join("secret.csv").display())).unwrap_err();
        assert!(err.to_string().contains("Permission Error"), "{err}");
        drop(again);
        let other = lend_confined(&[b.as_path()], None, Settings::default()).unwrap();
        assert!(other.execute_batch("SELECT * FROM marker").is_err(), "an instance crossed confinements");
    }

    #[test]
    fn a_loan_that_keeps_no_insertion_order_gets_an_instance_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let ordered = |c: &Confined| {
            c.query_row("SELECT current_setting('preserve_insertion_order')", [], |r| r.get::<_, bool>(0)).unwrap()
        };
        let unordered = Settings { keep_insertion_order: false, ..Settings::default() };
        {
            let loan = lend_confined(&[dir.path()], None, unordered).unwrap();
            assert!(!ordered(&loan));
            assert!(loan.execute_batch("SET preserve_insertion_order = true").is_err(), "locked like any confined instance");
        }
        assert!(ordered(&lend_confined(&[dir.path()], None, Settings::default()).unwrap()));
        assert!(!ordered(&lend_confined(&[dir.path()], None, unordered).unwrap()));
    }

    #[test]
    fn a_loan_with_a_thread_count_gets_an_instance_of_its_own_with_that_many_threads() {
        let dir = tempfile::tempdir().unwrap();
        let threads = |c: &Confined| c.query_row("SELECT current_setting('threads')", [], |r| r.get::<_, i64>(0)).unwrap();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as i64;
        {
            let one = lend_confined(&[dir.path()], None, Settings { threads: Some(1), ..Settings::default() }).unwrap();
            assert_eq!(threads(&one), 1);
            // Locked like any confined instance: the task's SQL cannot raise it.
            assert!(one.execute_batch("SET threads = 4").is_err());
        }
        // The one-thread instance went back to the pool under its own key.
        let default = lend_confined(&[dir.path()], None, Settings::default()).unwrap();
        assert_eq!(threads(&default), cores);
        let one = lend_confined(&[dir.path()], None, Settings { threads: Some(1), ..Settings::default() }).unwrap();
        assert_eq!(threads(&one), 1);
    }

    use super::*;

    #[test]
    fn a_confined_instance_reaches_only_its_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let inside = tmp.path().join("p");
        let sibling = tmp.path().join("p2");
        for d in [&inside, &sibling] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("a.csv"), "x\n1\n").unwrap();
        }
        let conn = open_confined([inside.as_path()], None).unwrap();
        let read =
            |p: &Path| conn.query_row(&format!("SELECT count(*) FROM read_csv('{}')", p.display()), [], |r| r.get::<_, i64>(0));
        assert_eq!(read(&inside.join("a.csv")).unwrap(), 1);
        for refused in [
            format!("SELECT count(*) FROM read_csv('{}')", sibling.join("a.csv").display()),
            "SELECT count(*) FROM read_text('/etc/hostname')".to_string(),
            format!("COPY (SELECT 1) TO '{}'", sibling.join("out.csv").display()),
            format!("ATTACH '{}' AS other", sibling.join("db.duckdb").display()),
            "SET enable_external_access = true".to_string(),
        ] {
            let err = conn.execute_batch(&refused).unwrap_err().to_string();
            assert!(err.contains("Permission Error") || err.contains("Cannot"), "{refused}: {err}");
        }
        assert!(!sibling.join("out.csv").exists() && !sibling.join("db.duckdb").exists());
        conn.execute_batch(&format!("COPY (SELECT 1 AS x) TO '{}'", inside.join("out.csv").display())).unwrap();
        // A loaned instance is as confined on the C API connection that runs task queries.
        let loan = lend_confined(&[inside.as_path()], None, Settings::default()).unwrap();
        let cancel = CancelFlag::new();
        let escape = format!("COPY (SELECT 1) TO '{}'", sibling.join("loan.csv").display());
        let err = loan.run_pending(&[], &escape, &cancel).unwrap_err();
        assert!(err.contains("Permission Error"), "{err}");
        let err = loan.run_pending(&["SET enable_external_access = true".into()], "SELECT 1", &cancel).unwrap_err();
        assert!(err.contains("Cannot"), "{err}");
        assert!(!sibling.join("loan.csv").exists());
        let inside_copy = format!("COPY (SELECT 1 AS x) TO '{}'", inside.join("loan.csv").display());
        loan.run_pending(&[], &inside_copy, &cancel).unwrap();
        assert_eq!(std::fs::read_to_string(inside.join("loan.csv")).unwrap(), "x\n1\n");
    }

    #[test]
    fn a_confined_instance_spills_within_its_budget_and_keeps_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        std::fs::create_dir_all(&dir).unwrap();
        let budget = MemoryBudget { bytes: 100_000_000, spill_dir: tmp.path().join("spill") };
        let conn = open_confined([dir.as_path()], Some(&budget)).unwrap();
        let limit: String = conn.query_row("SELECT current_setting('memory_limit')", [], |r| r.get(0)).unwrap();
        assert_eq!(limit, "95.3 MiB");
        // Sorting 6M rows with 192 MB of hashes alone does not fit in 100 MB: it completes by
        // spilling to the budget's folder, which confinement must allow.
        let out = dir.join("sorted.parquet");
        conn.execute_batch(&format!(
            "COPY (SELECT i, md5(i::VARCHAR) AS h FROM range(6000000) t(i) ORDER BY h) TO '{}' (FORMAT parquet)",
            out.display()
        ))
        .unwrap();
        assert!(budget.spill_dir.is_dir());
        let (n, sorted): (i64, bool) = conn
            .query_row(
                &format!(
                    "SELECT count(*), bool_and(h >= prev) FROM (SELECT h, lag(h, 1, '') OVER () AS prev FROM read_parquet('{}'))",
                    out.display()
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((n, sorted), (6_000_000, true));
        // The task's SQL cannot lift its own limit.
        let err = conn.execute_batch("SET memory_limit = '100GB'").unwrap_err().to_string();
        assert!(err.contains("lock") || err.contains("Cannot"), "{err}");
        // What cannot spill (one list of all rows) fails with DuckDB's Out of Memory Error.
        let err = conn
            .query_row("SELECT length(list(md5(i::VARCHAR))) FROM range(8000000) t(i)", [], |r| r.get::<_, i64>(0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Out of Memory Error"), "{err}");
    }
}
