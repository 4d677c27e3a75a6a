//! A source read by the threads that consume its rows: each takes the next chunk of whole lines
//! (in file order) and parses it itself, as DuckDB's own `read_json` does in its scan threads.
//! A DuckDB query reads a source view this way: its rows are used on the core that parsed them,
//! while they are in that core's cache, and no reader or parsing threads of their own compete with
//! the query's for the cores (the 20M-row medallion's view run: 6.32 → 6.12 s, a tenth less
//! kernel time; bench/README.md).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use polars::prelude::*;

use super::{frame, parse, Chunk, FileChunks, FilePlan, Planned, Stats};
use crate::spec::SourceTask;
use crate::tasks::TaskError;

/// Only `columns` of a planned source of local files, a chunk at a time, to whichever thread asks.
pub struct OnDemand {
    src: SourceTask,
    files: Vec<PathBuf>,
    plans: Vec<FilePlan>,
    columns: Vec<PlSmallStr>,
    chunk_bytes: usize,
    next: Mutex<Next>,
    /// Chunks handed out and not yet parsed.
    parsing: AtomicUsize,
    /// When the first chunk was handed out.
    started: OnceLock<Instant>,
    /// What the parsed chunks held.
    read: Mutex<Stats>,
    summarized: AtomicBool,
}

/// Where the next chunk comes from.
struct Next {
    /// The file being read (index into `files`) and its reader.
    file: usize,
    open: Option<FileChunks>,
    seq: u64,
    /// No chunk is left.
    ended: bool,
}

/// One consuming thread's buffers, reused from chunk to chunk.
#[derive(Default)]
pub struct Worker {
    text: Vec<u8>,
    scratch: parse::Scratch,
}

/// A chunk's frame and its place in the source (chunks are handed out in file order).
pub struct Pulled {
    /// The chunk's sequence number.
    pub seq: u64,
    /// Its rows, `columns` only.
    pub frame: DataFrame,
}

impl OnDemand {
    /// Reads `columns` of the source `planned` (its local `files`), `chunk_bytes` at a time.
    pub fn new(
        src: &SourceTask,
        files: &[PathBuf],
        planned: &Planned,
        columns: &[PlSmallStr],
        chunk_bytes: usize,
    ) -> Result<Self, TaskError> {
        if columns.is_empty() {
            return Err(TaskError::Data("no columns asked of the source".into()));
        }
        if let Some(c) = columns.iter().find(|c| !planned.schema.contains(c)) {
            return Err(TaskError::Data(format!("the source has no column '{c}'")));
        }
        Ok(OnDemand {
            src: src.clone(),
            files: files.to_vec(),
            plans: planned.files.iter().map(|p| p.project(src, columns)).collect(),
            columns: columns.to_vec(),
            chunk_bytes,
            next: Mutex::new(Next { file: 0, open: None, seq: 0, ended: false }),
            parsing: AtomicUsize::new(0),
            started: OnceLock::new(),
            read: Mutex::new(Stats::default()),
            summarized: AtomicBool::new(false),
        })
    }

    /// The next chunk's rows, parsed on the calling thread (None: every chunk was handed out).
    /// Chunks without rows (blank lines only) are passed over.
    pub fn next(&self, worker: &mut Worker) -> Result<Option<Pulled>, TaskError> {
        loop {
            let Some((seq, file, offset)) = self.take(&mut worker.text)? else { return Ok(None) };
            let len = worker.text.len();
            let chunk = Chunk { seq, file, offset, data: Arc::new(std::mem::take(&mut worker.text)), range: 0..len };
            let parsed = frame(&self.src, &self.files, &self.plans[file], Some(&self.columns), &chunk, &mut worker.scratch);
            if let Ok(text) = Arc::try_unwrap(chunk.data) {
                worker.text = text;
            }
            if let Ok((df, fast)) = &parsed {
                let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
                read.rows += df.height() as u64;
                read.bytes += len as u64;
                *if *fast { &mut read.fast_chunks } else { &mut read.polars_chunks } += 1;
            }
            // After the counts: whoever sees no chunk left and none being parsed sees them all.
            self.parsing.fetch_sub(1, Ordering::AcqRel);
            let (df, _) = parsed?;
            if df.height() > 0 {
                return Ok(Some(Pulled { seq, frame: df }));
            }
        }
    }

    /// What was read and how long since the first chunk was handed out: once every chunk was
    /// parsed, to exactly one caller (the others and earlier calls get None).
    pub fn summary(&self) -> Option<(Stats, Duration)> {
        let ended = self.next.lock().unwrap_or_else(|p| p.into_inner()).ended;
        if !ended || self.parsing.load(Ordering::Acquire) > 0 || self.summarized.swap(true, Ordering::AcqRel) {
            return None;
        }
        let stats = self.read.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Some((stats, self.started.get().map_or(Duration::ZERO, Instant::elapsed)))
    }

    /// Reads the next chunk into `text`: its sequence number, file and offset in the file. The
    /// read happens under the lock, so chunks are cut in file order; it is a small part of a
    /// chunk's cost (a copy from the page cache beside parsing it and the query's work).
    fn take(&self, text: &mut Vec<u8>) -> Result<Option<(u64, usize, u64)>, TaskError> {
        let mut guard = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let next = &mut *guard;
        self.started.get_or_init(Instant::now);
        while !next.ended {
            let Some(path) = self.files.get(next.file) else {
                next.ended = true;
                break;
            };
            let chunks = match &mut next.open {
                Some(c) => c,
                None => next.open.insert(FileChunks::open(path)?),
            };
            match chunks.next(text, self.chunk_bytes) {
                Ok(Some(offset)) => {
                    let seq = next.seq;
                    next.seq += 1;
                    self.parsing.fetch_add(1, Ordering::AcqRel);
                    return Ok(Some((seq, next.file, offset)));
                }
                Ok(None) => {
                    next.open = None;
                    next.file += 1;
                }
                Err(e) => {
                    // The query fails with this; no other thread reads on past it.
                    next.ended = true;
                    return Err(e);
                }
            }
        }
        Ok(None)
    }
}
