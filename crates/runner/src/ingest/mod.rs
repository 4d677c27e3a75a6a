//! The runner's side of REST ingest: the datasets declared in the workspace (re-read when their
//! files change), each with its open log, counters and storage; the flusher that turns logs into
//! Parquet and starts the pipelines a flush triggers; and the ingest tokens.
//! The engine's `ingest` module does the data work; the HTTP routes are in `api::ingest`.

pub mod flusher;
pub mod tokens;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use polder_engine::ingest::dataset::{self, Dataset};
use polder_engine::ingest::target::Target;
use polder_engine::ingest::wal::Wal;
use polder_engine::Workspace;

/// Counters of one dataset since the runner started (the log's own figures come from the log).
#[derive(Debug, Default)]
pub struct Counters {
    /// Rows acknowledged.
    pub rows_received: AtomicU64,
    /// Requests acknowledged.
    pub batches_accepted: AtomicU64,
    /// Requests refused for their content (400/413/415/422).
    pub batches_rejected: AtomicU64,
    /// Requests refused with 429 (log over its cap, disk nearly full).
    pub throttled: AtomicU64,
    /// Flushes that wrote rows.
    pub flushes: AtomicU64,
    /// Rows written to Parquet.
    pub rows_flushed: AtomicU64,
    /// When the last flush that wrote rows ended (ms since the epoch; 0: none).
    pub last_flush_ms: AtomicI64,
    /// Day merges done.
    pub merges: AtomicU64,
    /// After a failed flush, the flusher waits until then (ms since the epoch) before trying again.
    pub retry_at_ms: AtomicI64,
    /// Consecutive failed flushes (the wait doubles with each, up to a minute).
    pub failures: AtomicU64,
}

/// A dataset being served.
pub struct Live {
    /// Its declaration.
    pub ds: Dataset,
    /// Its log (kept across re-reads of the declaration).
    pub wal: Arc<Wal>,
    /// Its storage, or why it cannot be reached (rows are still taken into the log).
    pub target: Result<Target, String>,
    /// Counters (kept across re-reads).
    pub counters: Arc<Counters>,
    /// The last flush or merge error, cleared by the next success.
    pub last_error: Arc<Mutex<Option<String>>>,
    /// Flushes and merges of this dataset take turns.
    pub busy: Arc<Mutex<()>>,
}

/// Every declared dataset, and the declarations that do not load.
pub struct Ingest {
    ws: Arc<Workspace>,
    live: RwLock<BTreeMap<String, Arc<Live>>>,
    problems: RwLock<BTreeMap<String, String>>,
    seen: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
    loaded: AtomicBool,
    /// Ingest tokens.
    pub tokens: tokens::IngestTokens,
}

impl Ingest {
    /// The datasets of `ws` (read on the first [`Ingest::refresh`]).
    pub fn new(ws: Arc<Workspace>) -> Ingest {
        let tokens = tokens::IngestTokens::new(ws.state_dir());
        Ingest {
            ws,
            live: RwLock::new(BTreeMap::new()),
            problems: RwLock::new(BTreeMap::new()),
            seen: Mutex::new(Vec::new()),
            loaded: AtomicBool::new(false),
            tokens,
        }
    }

    /// Re-reads the declarations when a file was added, changed or removed since the last call.
    pub fn refresh(&self) {
        let files = dataset::dataset_files(self.ws.root());
        let stamp: Vec<(PathBuf, Option<SystemTime>, u64)> = files
            .iter()
            .map(|f| {
                let m = std::fs::metadata(f).ok();
                (f.clone(), m.as_ref().and_then(|m| m.modified().ok()), m.map(|m| m.len()).unwrap_or(0))
            })
            .collect();
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if self.loaded.load(Ordering::Relaxed) && *seen == stamp {
                return;
            }
            *seen = stamp;
            self.loaded.store(true, Ordering::Relaxed);
        }
        let mut next = BTreeMap::new();
        let mut problems = BTreeMap::new();
        let current = self.live.read().unwrap_or_else(|p| p.into_inner()).clone();
        for f in files {
            let name = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            match dataset::load(&f) {
                Ok(ds) => match self.open(ds, current.get(&name)) {
                    Ok(l) => {
                        next.insert(name, Arc::new(l));
                    }
                    Err(e) => {
                        problems.insert(name, e);
                    }
                },
                Err(e) => {
                    tracing::warn!(file = %f.display(), error = %e, "dataset declaration ignored");
                    problems.insert(name, e.to_string());
                }
            }
        }
        *self.live.write().unwrap_or_else(|p| p.into_inner()) = next;
        *self.problems.write().unwrap_or_else(|p| p.into_inner()) = problems;
    }

    fn open(&self, ds: Dataset, previous: Option<&Arc<Live>>) -> Result<Live, String> {
        let (wal, counters, last_error, busy) = match previous {
            Some(p) => (p.wal.clone(), p.counters.clone(), p.last_error.clone(), p.busy.clone()),
            None => {
                let path = polder_engine::ingest::wal_path(self.ws.state_dir(), &ds.name);
                let wal = Wal::open(&path).map_err(|e| e.to_string())?;
                (Arc::new(wal), Arc::default(), Arc::default(), Arc::default())
            }
        };
        let access = if ds.is_s3() { Some(self.ws.s3_access(ds.connection.as_deref())) } else { None };
        let target = match access {
            Some(Err(e)) => Err(format!("dataset '{}': {e}", ds.name)),
            Some(Ok(a)) => Target::new(self.ws.root(), &ds.path, Some(a)).map_err(|e| e.to_string()),
            None => Target::new(self.ws.root(), &ds.path, None).map_err(|e| e.to_string()),
        };
        Ok(Live { ds, wal, target, counters, last_error, busy })
    }

    /// The dataset called `name`, if declared and loadable.
    pub fn get(&self, name: &str) -> Option<Arc<Live>> {
        self.live.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// Every served dataset, by name.
    pub fn all(&self) -> Vec<Arc<Live>> {
        self.live.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Declarations that do not load, by dataset name.
    pub fn problems(&self) -> BTreeMap<String, String> {
        self.problems.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The problem with dataset `name`'s declaration, if it has one.
    pub fn problem(&self, name: &str) -> Option<String> {
        self.problems.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }
}

impl Live {
    /// Records a flush or merge failure (logged once per distinct message).
    pub fn set_error(&self, e: Option<String>) {
        let mut last = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(msg) = &e {
            if last.as_ref() != Some(msg) {
                tracing::error!(dataset = %self.ds.name, error = %msg, "ingest flush failed; rows stay in the log");
            }
        }
        *last = e;
    }

    /// The last error, if the last flush or merge failed.
    pub fn error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rows received since start.
    pub fn received(&self) -> u64 {
        self.counters.rows_received.load(Ordering::Relaxed)
    }
}
