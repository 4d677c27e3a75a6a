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

/// Settings every DuckDB instance Polder opens gets: no extension downloads (the app works
/// offline and must not fetch code mid-run), and a thread count that leaves room for Polars.
pub fn config() -> duckdb::Result<Config> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) as i64;
    Config::default().enable_autoload_extension(false)?.threads(threads)
}

/// Opens an in-memory DuckDB with [`config`].
pub fn open_in_memory() -> duckdb::Result<Connection> {
    Connection::open_in_memory_with_flags(config()?)
}

/// Opens an in-memory DuckDB whose SQL may read and write files only below `dirs` (DuckDB's
/// `allowed_directories` with external access off): a task's own SQL — `read_csv('/etc/…')`,
/// `COPY … TO`, `ATTACH` — cannot reach files outside the pipeline's folders.
pub fn open_confined<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> duckdb::Result<Connection> {
    let conn = open_in_memory()?;
    // A trailing slash: allowed directories are prefixes, and `/p` must not allow `/p2`.
    let list: Vec<String> =
        dirs.into_iter().map(|d| format!("'{}/'", d.to_string_lossy().trim_end_matches('/').replace('\'', "''"))).collect();
    conn.execute_batch(&format!("SET allowed_directories = [{}]; SET enable_external_access = false;", list.join(", ")))?;
    Ok(conn)
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
        let conn = open_confined([inside.as_path()]).unwrap();
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
    }
}
