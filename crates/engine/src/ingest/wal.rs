//! The write-ahead log of a dataset: accepted rows wait here, on local disk, until a flush has
//! made them durable Parquet. It is an SQLite database (WAL journal, `synchronous = FULL`, so a
//! commit is on disk when it returns) written by one thread that commits every request waiting
//! at that moment in one transaction: one fsync for many requests (group commit). Sequence
//! numbers never repeat (AUTOINCREMENT), so a flush's files can be named by the last one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use rusqlite::{params, Connection, OpenFlags};

use super::rows::{Batch, DayRows};

/// Why the log failed; the request that met it was not acknowledged.
#[derive(Debug, Clone, thiserror::Error)]
#[error("ingest log {path}: {detail}")]
pub struct WalError {
    /// The log file.
    pub path: String,
    /// SQLite's or the system's reason.
    pub detail: String,
}

/// Most bytes one group commit writes (more requests wait for the next one).
const GROUP_BYTES: u64 = 64 << 20;

/// Rows and bytes waiting for a flush, and the arrival time of the oldest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    /// Rows in the log.
    pub rows: u64,
    /// Bytes of those rows in the log's form.
    pub bytes: u64,
    /// When the oldest arrived (ms since the epoch), if any.
    pub oldest_ms: Option<i64>,
}

#[derive(Default)]
struct Counters {
    rows: AtomicU64,
    bytes: AtomicU64,
    oldest_ms: AtomicI64,
}

struct Job {
    batch: Batch,
    received_ms: i64,
    key: Option<String>,
    done: tokio::sync::oneshot::Sender<Result<Appended, WalError>>,
}

/// How long an idempotency key is remembered.
pub const KEY_TTL_MS: i64 = 24 * 3600 * 1000;

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The rows are in the log, on disk.
    Stored(u64),
    /// A batch with the same idempotency key was stored before (its row count); nothing added.
    Duplicate(u64),
}

/// A dataset's log, open for appends.
pub struct Wal {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    counters: Arc<Counters>,
}

fn schema(conn: &Connection) -> rusqlite::Result<()> {
    // auto_vacuum must be set before the first table: flushed rows give their pages back.
    conn.pragma_update(None, "auto_vacuum", "FULL")?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "journal_size_limit", 64i64 << 20)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS batch (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            day INTEGER NOT NULL,
            rows INTEGER NOT NULL,
            received_ms INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, rows INTEGER NOT NULL, at_ms INTEGER NOT NULL);",
    )
}

impl Wal {
    /// Opens (creating) the log at `path` and starts its writer thread.
    pub fn open(path: &Path) -> Result<Wal, WalError> {
        let err = |e: &dyn std::fmt::Display| WalError { path: path.display().to_string(), detail: e.to_string() };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
        }
        let conn = Connection::open(path).map_err(|e| err(&e))?;
        schema(&conn).map_err(|e| err(&e))?;
        let wal = Wal {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(conn)),
            jobs: Mutex::new(None),
            counters: Arc::new(Counters::default()),
        };
        wal.recount()?;
        let (tx, rx) = mpsc::channel::<Job>();
        let (conn, counters, p) = (wal.conn.clone(), wal.counters.clone(), wal.path.clone());
        std::thread::Builder::new()
            .name("ingest-wal".into())
            .spawn(move || writer(&p, &conn, &counters, &rx))
            .map_err(|e| err(&e))?;
        *wal.jobs.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        Ok(wal)
    }

    fn err(&self, e: &dyn std::fmt::Display) -> WalError {
        WalError { path: self.path.display().to_string(), detail: e.to_string() }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a checked batch; returns once it is on disk (fsynced), never before. With `key`
    /// (a client's idempotency key), a batch whose key was stored in the last 24 hours is not
    /// stored again: a client may resend a batch whose answer it never got.
    pub async fn append(&self, batch: Batch, received_ms: i64, key: Option<String>) -> Result<Appended, WalError> {
        let (done, wait) = tokio::sync::oneshot::channel();
        let sent = {
            let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            jobs.as_ref().map(|tx| tx.send(Job { batch, received_ms, key, done }).is_ok()).unwrap_or(false)
        };
        if !sent {
            return Err(self.err(&"the log is closed"));
        }
        wait.await.unwrap_or_else(|_| Err(self.err(&"the log writer stopped")))
    }

    /// Stops taking appends (the writer thread ends once the queued ones are written).
    pub fn close(&self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// What waits for a flush.
    pub fn pending(&self) -> Pending {
        let oldest = self.counters.oldest_ms.load(Ordering::Relaxed);
        Pending {
            rows: self.counters.rows.load(Ordering::Relaxed),
            bytes: self.counters.bytes.load(Ordering::Relaxed),
            oldest_ms: (oldest != 0).then_some(oldest),
        }
    }

    /// Counts what the log holds (at open and after a flush).
    fn recount(&self) -> Result<(), WalError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let (rows, bytes, oldest): (i64, i64, Option<i64>) = conn
            .query_row("SELECT coalesce(sum(rows),0), coalesce(sum(length(data)),0), min(received_ms) FROM batch", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| self.err(&e))?;
        self.counters.rows.store(rows as u64, Ordering::Relaxed);
        self.counters.bytes.store(bytes as u64, Ordering::Relaxed);
        self.counters.oldest_ms.store(oldest.unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    /// The last sequence number a flush of the entries after `after` (and not after `upto`)
    /// should take: whole entries up to about `max_bytes` (at least one), None when there are none.
    pub fn plan_through(&self, after: i64, upto: i64, max_bytes: u64) -> Result<Option<i64>, WalError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare("SELECT seq, length(data) FROM batch WHERE seq > ?1 AND seq <= ?2 ORDER BY seq")
            .map_err(|e| self.err(&e))?;
        let mut rows = stmt.query([after, upto]).map_err(|e| self.err(&e))?;
        let (mut hi, mut total) = (None, 0u64);
        while let Some(r) = rows.next().map_err(|e| self.err(&e))? {
            let (seq, len): (i64, i64) = (r.get(0).map_err(|e| self.err(&e))?, r.get(1).map_err(|e| self.err(&e))?);
            if hi.is_some() && total + len as u64 > max_bytes {
                break;
            }
            total += len as u64;
            hi = Some(seq);
        }
        Ok(hi)
    }

    /// The entries after `after` up to and including `through`, joined by day.
    pub fn read(&self, after: i64, through: i64) -> Result<BTreeMap<i32, DayRows>, WalError> {
        read_range(&self.reader()?, after, through).map_err(|e| self.err(&e))
    }

    fn reader(&self) -> Result<Connection, WalError> {
        let conn = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| self.err(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| self.err(&e))?;
        Ok(conn)
    }

    /// The rows of the batch stored under idempotency key `key` in the last 24 hours, if any.
    pub fn stored_under(&self, key: &str, now_ms: i64) -> Result<Option<u64>, WalError> {
        let conn = self.reader()?;
        conn.query_row("SELECT rows FROM idempotency WHERE key = ?1 AND at_ms >= ?2", params![key, now_ms - KEY_TTL_MS], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| Some(n as u64))
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
        .map_err(|e| self.err(&e))
    }

    /// The newest entry's sequence number (0 when the log is empty).
    pub fn last_seq(&self) -> Result<i64, WalError> {
        let conn = self.reader()?;
        conn.query_row("SELECT coalesce(max(seq), 0) FROM batch", [], |r| r.get(0)).map_err(|e| self.err(&e))
    }

    /// The flush in progress (its last sequence number), if one was started and not finished.
    pub fn intent(&self) -> Result<Option<i64>, WalError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.query_row("SELECT value FROM meta WHERE key = 'flush_through'", [], |r| r.get(0))
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(|e| self.err(&e))
    }

    /// Records that a flush through `through` starts: a restart redoes exactly this one.
    pub fn set_intent(&self, through: i64) -> Result<(), WalError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('flush_through', ?1)", [through])
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    /// Drops the entries through `through` (their Parquet is durable) and the flush intent, in
    /// one transaction.
    pub fn finish_flush(&self, through: i64) -> Result<(), WalError> {
        {
            let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn.transaction().map_err(|e| self.err(&e))?;
            tx.execute("DELETE FROM batch WHERE seq <= ?1", [through]).map_err(|e| self.err(&e))?;
            tx.execute("DELETE FROM meta WHERE key = 'flush_through'", []).map_err(|e| self.err(&e))?;
            let expired = crate::store::now_ms() - KEY_TTL_MS;
            tx.execute("DELETE FROM idempotency WHERE at_ms < ?1", [expired]).map_err(|e| self.err(&e))?;
            // SQLite's automatic checkpoints (and `journal_size_limit`) give the journal's space
            // back; a checkpoint here would hold up the writer thread.
            tx.commit().map_err(|e| self.err(&e))?;
        }
        self.recount()
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.close();
    }
}

fn read_range(conn: &Connection, after: i64, through: i64) -> rusqlite::Result<BTreeMap<i32, DayRows>> {
    let mut out: BTreeMap<i32, DayRows> = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT day, rows, data FROM batch WHERE seq > ?1 AND seq <= ?2 ORDER BY seq")?;
    let mut rows = stmt.query([after, through])?;
    while let Some(r) = rows.next()? {
        let d = out.entry(r.get::<_, i64>(0)? as i32).or_default();
        d.rows += r.get::<_, i64>(1)? as u64;
        d.lines.extend_from_slice(r.get_ref(2)?.as_blob()?);
    }
    Ok(out)
}

/// For readers in other processes: the entries of the log at `path` after sequence `after`, each
/// with its sequence number (nothing when there is no log).
pub fn read_unflushed(path: &Path, after: i64) -> Result<Vec<(i64, Vec<u8>)>, WalError> {
    let err = |e: &dyn std::fmt::Display| WalError { path: path.display().to_string(), detail: e.to_string() };
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(|e| err(&e))?;
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| err(&e))?;
    let mut stmt = conn.prepare("SELECT seq, data FROM batch WHERE seq > ?1 ORDER BY seq").map_err(|e| err(&e))?;
    let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| err(&e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| err(&e))
}

/// The writer thread: takes every job waiting, commits them in one transaction, answers each.
fn writer(path: &Path, conn: &Mutex<Connection>, counters: &Counters, rx: &mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let mut bytes: u64 = jobs[0].batch.days.values().map(|d| d.lines.len() as u64).sum();
        while bytes < GROUP_BYTES {
            match rx.try_recv() {
                Ok(j) => {
                    bytes += j.batch.days.values().map(|d| d.lines.len() as u64).sum::<u64>();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let result = (|| -> rusqlite::Result<Vec<Appended>> {
            let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn.transaction()?;
            let mut out = Vec::with_capacity(jobs.len());
            {
                let mut insert = tx.prepare_cached("INSERT INTO batch (day, rows, received_ms, data) VALUES (?1, ?2, ?3, ?4)")?;
                let mut seen = tx.prepare_cached("SELECT rows FROM idempotency WHERE key = ?1 AND at_ms >= ?2")?;
                let mut remember =
                    tx.prepare_cached("INSERT OR REPLACE INTO idempotency (key, rows, at_ms) VALUES (?1, ?2, ?3)")?;
                for j in &jobs {
                    if let Some(key) = &j.key {
                        let earlier: Option<i64> = seen
                            .query_row(params![key, j.received_ms - KEY_TTL_MS], |r| r.get(0))
                            .map(Some)
                            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
                        if let Some(rows) = earlier {
                            out.push(Appended::Duplicate(rows as u64));
                            continue;
                        }
                        remember.execute(params![key, j.batch.rows as i64, j.received_ms])?;
                    }
                    for (day, d) in &j.batch.days {
                        insert.execute(params![*day as i64, d.rows as i64, j.received_ms, &d.lines])?;
                    }
                    out.push(Appended::Stored(j.batch.rows));
                }
            }
            tx.commit()?;
            Ok(out)
        })();
        match result {
            Ok(outcomes) => {
                let kept: Vec<&Job> =
                    jobs.iter().zip(&outcomes).filter(|(_, o)| matches!(o, Appended::Stored(_))).map(|(j, _)| j).collect();
                let rows: u64 = kept.iter().map(|j| j.batch.rows).sum();
                let bytes: u64 = kept.iter().map(|j| j.batch.days.values().map(|d| d.lines.len() as u64).sum::<u64>()).sum();
                counters.rows.fetch_add(rows, Ordering::Relaxed);
                counters.bytes.fetch_add(bytes, Ordering::Relaxed);
                if let Some(oldest) = kept.iter().map(|j| j.received_ms).min() {
                    let _ = counters.oldest_ms.compare_exchange(0, oldest, Ordering::Relaxed, Ordering::Relaxed);
                }
                for (j, o) in jobs.into_iter().zip(outcomes) {
                    let _ = j.done.send(Ok(o));
                }
            }
            Err(e) => {
                let e = WalError { path: path.display().to_string(), detail: e.to_string() };
                for j in jobs {
                    let _ = j.done.send(Err(e.clone()));
                }
            }
        }
    }
}
