//! DuckDB through its C API where duckdb-rs stops: an in-memory instance whose database handle
//! Polder keeps, and a query driven task by task on a connection of its own.
//!
//! Why: a statement run through duckdb-rs ends in DuckDB's loop for a materialized result, which
//! waits only while a task is blocked; while another thread holds the query's only task
//! (`NO_TASKS_AVAILABLE`) the calling thread spins on the scheduler's locks. With two DuckDB
//! threads over a view's stream that spinning took the core the NDJSON parser needed (runs went
//! from 8.4 s to 10.5 s at random, bench/README.md). Driving the query with the C API's pending
//! result lets this thread sleep instead.

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::time::Duration;

use duckdb::ffi;
use duckdb::Connection;

use crate::tasks::CancelFlag;

/// How long the calling thread sleeps when another thread holds the query's only task: short
/// next to a task (a vector of 2,048 rows takes ~0.1–1 ms), long next to a scheduler poll.
const IDLE_SLEEP: Duration = Duration::from_micros(200);

/// An in-memory DuckDB instance whose handle Polder holds, closed when dropped. A connection
/// still open keeps the instance itself alive (DuckDB counts its references), so dropping this
/// first is safe; Polder drops its connections first anyway.
pub struct Database {
    db: ffi::duckdb_database,
}

// SAFETY: a `duckdb_database` may be used from any thread (DuckDB's instances are thread-safe);
// this type only connects to it and closes it once.
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: the handle came from duckdb_open_ext and is closed once, here.
        unsafe { ffi::duckdb_close(&mut self.db) };
    }
}

/// A DuckDB message (owned by DuckDB) as a String.
///
/// # Safety
/// `message` is null or a NUL-terminated string alive for this call.
unsafe fn message(message: *const c_char, otherwise: &str) -> String {
    if message.is_null() {
        otherwise.to_string()
    } else {
        // SAFETY: non-null and NUL-terminated per this function's contract.
        unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
    }
}

impl Database {
    /// Opens an in-memory instance with `settings` (DuckDB configuration options, as
    /// `duckdb_set_config` takes them) and a duckdb-rs connection to it.
    pub fn open_in_memory(settings: &[(&str, String)]) -> Result<(Database, Connection), String> {
        let mut config: ffi::duckdb_config = ptr::null_mut();
        // SAFETY: plain C API calls; the config is destroyed on every path below.
        unsafe {
            if ffi::duckdb_create_config(&mut config) != ffi::DuckDBSuccess {
                return Err("cannot create a DuckDB configuration".into());
            }
            for (key, value) in settings {
                let (k, v) =
                    (CString::new(*key).map_err(|e| e.to_string())?, CString::new(value.as_str()).map_err(|e| e.to_string())?);
                if ffi::duckdb_set_config(config, k.as_ptr(), v.as_ptr()) != ffi::DuckDBSuccess {
                    ffi::duckdb_destroy_config(&mut config);
                    return Err(format!("DuckDB refused the setting {key} = {value}"));
                }
            }
            let mut db: ffi::duckdb_database = ptr::null_mut();
            let mut error: *mut c_char = ptr::null_mut();
            let state = ffi::duckdb_open_ext(c":memory:".as_ptr(), &mut db, config, &mut error);
            ffi::duckdb_destroy_config(&mut config);
            if state != ffi::DuckDBSuccess {
                let text = message(error, "cannot open DuckDB");
                if !error.is_null() {
                    ffi::duckdb_free(error.cast());
                }
                return Err(text);
            }
            let database = Database { db };
            // SAFETY: `db` is a valid instance; the connection does not close it (Database does).
            let conn = Connection::open_from_raw(database.db).map_err(|e| e.to_string())?;
            Ok((database, conn))
        }
    }

    /// Runs `setup` (statements such as the temporary views the query reads), then `query`, on
    /// a new connection of this instance, executing the query task by task and sleeping while
    /// other threads hold its tasks. Returns DuckDB's error message when a statement fails;
    /// `cancel` interrupts the query.
    pub fn run(&self, setup: &[String], query: &str, cancel: &CancelFlag) -> Result<(), String> {
        let conn = RawConnection::connect(self)?;
        for statement in setup {
            conn.execute(statement)?;
        }
        conn.execute_pending(query, cancel)
    }
}

/// A C API connection, disconnected when dropped.
struct RawConnection {
    conn: ffi::duckdb_connection,
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        // SAFETY: connected in `connect`, disconnected once.
        unsafe { ffi::duckdb_disconnect(&mut self.conn) };
    }
}

impl RawConnection {
    fn connect(db: &Database) -> Result<Self, String> {
        let mut conn: ffi::duckdb_connection = ptr::null_mut();
        // SAFETY: `db.db` is open while `db` lives, which outlives this connection's use.
        if unsafe { ffi::duckdb_connect(db.db, &mut conn) } != ffi::DuckDBSuccess {
            return Err("cannot connect to DuckDB".into());
        }
        Ok(RawConnection { conn })
    }

    /// Runs one statement to its end.
    fn execute(&self, sql: &str) -> Result<(), String> {
        let text = CString::new(sql).map_err(|_| "a statement holds a NUL byte".to_string())?;
        // SAFETY: a live connection and a NUL-terminated statement.
        finish(|result| unsafe { ffi::duckdb_query(self.conn, text.as_ptr(), result) })
    }

    /// Runs one statement through a pending result (see the module's comment).
    fn execute_pending(&self, sql: &str, cancel: &CancelFlag) -> Result<(), String> {
        let text = CString::new(sql).map_err(|_| "a statement holds a NUL byte".to_string())?;
        let prepared = Prepared::new(self, &text)?;
        let pending = Pending::new(&prepared)?;
        let mut interrupted = false;
        loop {
            if cancel.is_set() && !interrupted {
                // SAFETY: a live connection; the query then ends with an "interrupted" error.
                unsafe { ffi::duckdb_interrupt(self.conn) };
                interrupted = true;
            }
            // SAFETY: a live pending result.
            match unsafe { ffi::duckdb_pending_execute_task(pending.0) } {
                ffi::duckdb_pending_state_DUCKDB_PENDING_RESULT_READY => break,
                ffi::duckdb_pending_state_DUCKDB_PENDING_RESULT_NOT_READY => {}
                ffi::duckdb_pending_state_DUCKDB_PENDING_NO_TASKS_AVAILABLE => std::thread::sleep(IDLE_SLEEP),
                _ => return Err(pending.error()),
            }
        }
        // SAFETY: a live pending result, ready.
        finish(|result| unsafe { ffi::duckdb_execute_pending(pending.0, result) })
    }
}

/// Runs `call`, which writes a statement's result, and turns that result into the statement's
/// outcome (its rows are not read: Polder's task statements write files), then destroys it.
fn finish(call: impl FnOnce(*mut ffi::duckdb_result) -> ffi::duckdb_state) -> Result<(), String> {
    // SAFETY: DuckDB fills the zeroed result (or leaves it empty); it is destroyed once, after
    // the error text is copied out of it.
    unsafe {
        let mut result: ffi::duckdb_result = std::mem::zeroed();
        let outcome = if call(&mut result) == ffi::DuckDBSuccess {
            Ok(())
        } else {
            Err(message(ffi::duckdb_result_error(&mut result), "DuckDB failed without a message"))
        };
        ffi::duckdb_destroy_result(&mut result);
        outcome
    }
}

/// A prepared statement, destroyed when dropped.
struct Prepared(ffi::duckdb_prepared_statement);

impl Prepared {
    fn new(conn: &RawConnection, sql: &CStr) -> Result<Self, String> {
        let mut stmt: ffi::duckdb_prepared_statement = ptr::null_mut();
        // SAFETY: a live connection; the statement is destroyed by Drop, also after a failure
        // (DuckDB asks for that).
        let state = unsafe { ffi::duckdb_prepare(conn.conn, sql.as_ptr(), &mut stmt) };
        let prepared = Prepared(stmt);
        if state != ffi::DuckDBSuccess {
            // SAFETY: the error lives until the statement is destroyed (after this copy).
            return Err(unsafe { message(ffi::duckdb_prepare_error(prepared.0), "DuckDB cannot prepare the query") });
        }
        Ok(prepared)
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: destroyed once.
        unsafe { ffi::duckdb_destroy_prepare(&mut self.0) };
    }
}

/// A pending result, destroyed when dropped (which also ends a query still running).
struct Pending(ffi::duckdb_pending_result);

impl Pending {
    fn new(prepared: &Prepared) -> Result<Self, String> {
        let mut pending: ffi::duckdb_pending_result = ptr::null_mut();
        // SAFETY: a live statement; the pending result is destroyed by Drop, also after a failure.
        let state = unsafe { ffi::duckdb_pending_prepared(prepared.0, &mut pending) };
        let pending = Pending(pending);
        if state != ffi::DuckDBSuccess {
            return Err(pending.error());
        }
        Ok(pending)
    }

    fn error(&self) -> String {
        // SAFETY: the error lives until the pending result is destroyed (after this copy).
        unsafe { message(ffi::duckdb_pending_error(self.0), "DuckDB failed without a message") }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        // SAFETY: destroyed once.
        unsafe { ffi::duckdb_destroy_pending(&mut self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_runs_task_by_task_sees_the_setup_and_reports_errors_and_cancellation() {
        let dir = tempfile::tempdir().unwrap();
        let settings = [("threads", "2".to_string()), ("autoload_known_extensions", "false".to_string())];
        let (db, conn) = Database::open_in_memory(&settings).unwrap();
        // The duckdb-rs connection and the C API connection share the instance's tables.
        conn.execute_batch("CREATE TABLE t AS SELECT range AS x, range % 7 AS k FROM range(2000000)").unwrap();
        let out = dir.path().join("out.parquet");
        let cancel = CancelFlag::new();
        let setup = ["CREATE TEMP VIEW v AS SELECT k, sum(x) AS s, count(*) AS n FROM t GROUP BY k".to_string()];
        db.run(&setup, &format!("COPY (SELECT * FROM v ORDER BY k) TO '{}' (FORMAT parquet)", out.display()), &cancel).unwrap();
        let rows: Vec<(i64, i128, i64)> = conn
            .prepare(&format!("SELECT k, s, n FROM read_parquet('{}') ORDER BY k", out.display()))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<(i64, i128, i64)> = (0..7i64)
            .map(|k| {
                let xs = (0..2_000_000i64).filter(|x| x % 7 == k);
                (k, xs.clone().map(i128::from).sum(), xs.count() as i64)
            })
            .collect();
        assert_eq!(rows, expected);
        // The temporary view belonged to that connection alone.
        let err = db.run(&[], "SELECT * FROM v", &cancel).unwrap_err();
        assert!(err.contains("Table with name v does not exist"), "{err}");
        let err = db.run(&[], "SELECT * FROM t WHERE", &cancel).unwrap_err();
        assert!(err.contains("syntax error"), "{err}");
        let err = db.run(&[], "SELECT CAST('x' AS INTEGER)", &cancel).unwrap_err();
        assert!(err.contains("Conversion Error"), "{err}");
        cancel.set();
        let err = db.run(&[], "SELECT count(*) FROM range(1000000000000) a", &cancel).unwrap_err();
        assert!(err.to_lowercase().contains("interrupt"), "{err}");
        drop(conn);
    }
}
