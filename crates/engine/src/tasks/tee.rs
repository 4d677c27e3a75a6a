//! A stored source teed into its DuckDB reader: while a `source` task writes its artifact, the
//! same frames stream into one downstream DuckDB SQL task's query (as a source view would), so
//! the reader neither waits for the artifact nor reads it back. Both run in this process.
//!
//! Only the success path is fused. The reader's answer must be the one it would give reading the
//! stored artifact, so it publishes nothing before the source task has finished well: a fused
//! attempt that fails is run again on the artifact (its error is the one reported), and a source
//! that fails makes the reader `upstream_failed`. The source side never waits on the reader for
//! long: when the reader stops reading (a LIMIT, an error, it never claimed the stream) the
//! source writes on alone.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use polars::prelude::*;

use crate::spec::{SourceFormat, SourceTask};
use crate::tasks::{ndjson, CancelFlag, TaskContext, TaskError, TaskOutcome};

/// Frames in flight between the source and its reader.
const IN_FLIGHT: usize = 4;

/// How often a waiting reader checks its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Set to `0` to turn fusing off (to compare, or to rule it out).
pub const FUSE_ENV: &str = "POLDER_FUSE";

/// Whether the environment turns fusing off.
pub fn disabled_by_env() -> bool {
    std::env::var(FUSE_ENV).is_ok_and(|v| v == "0" || v.eq_ignore_ascii_case("off"))
}

/// One piece of the stream: a frame, `None` at its end, or why the source stopped. A stream
/// that breaks off without its end is an error, never a short table.
pub type Piece = Result<Option<DataFrame>, TaskError>;

/// The link between one source task and its reader.
pub struct Tee {
    source: String,
    artifact: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
    stream: Mutex<Option<Receiver<Piece>>>,
}

#[derive(Default)]
struct State {
    /// The frames' schema, once the source has planned its read.
    schema: Option<SchemaRef>,
    /// The source reads without the tee (its reader cannot stream it).
    declined: bool,
    /// The reader took the stream, or gave it up.
    claimed: bool,
    /// The source task's final state: whether it succeeded.
    settled: Option<bool>,
}

impl std::fmt::Debug for Tee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tee").field("source", &self.source).field("artifact", &self.artifact).finish()
    }
}

impl Tee {
    /// A tee for source task `source`, whose artifact will be published at `artifact`; the
    /// sender goes to the source's first attempt.
    pub fn new(source: &str, artifact: &Path) -> (Arc<Tee>, TeeSender) {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let tee = Arc::new(Tee {
            source: source.to_string(),
            artifact: artifact.to_path_buf(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stream: Mutex::new(Some(rx)),
        });
        (tee.clone(), TeeSender { tee, tx: Some(tx) })
    }

    /// The source task's id.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where the source's artifact is once it has succeeded.
    pub fn artifact(&self) -> &Path {
        &self.artifact
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `ready` holds of the state, or the reader is cancelled.
    fn wait_for(&self, cancel: &CancelFlag, ready: impl Fn(&State) -> bool) -> Result<std::sync::MutexGuard<'_, State>, TaskError> {
        let mut state = self.lock();
        while !ready(&state) {
            cancel.check()?;
            state = self.changed.wait_timeout(state, CANCEL_POLL).unwrap_or_else(|p| p.into_inner()).0;
        }
        Ok(state)
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    /// The reader's side: the stream and its schema, once the source has planned its read; None
    /// when there is no stream to take (the source declined or already ended, the stream was
    /// taken or released): then the reader reads the artifact.
    pub fn claim(&self, cancel: &CancelFlag) -> Result<Option<(SchemaRef, Receiver<Piece>)>, TaskError> {
        let mut state = self.wait_for(cancel, |s| s.schema.is_some() || s.declined || s.claimed || s.settled.is_some())?;
        if state.claimed || state.declined || state.settled.is_some() {
            state.claimed = true;
            drop(state);
            self.release();
            return Ok(None);
        }
        state.claimed = true;
        let schema = state.schema.clone().expect("checked above");
        drop(state);
        let stream = self.stream.lock().unwrap_or_else(|p| p.into_inner()).take();
        Ok(stream.map(|rx| (schema, rx)))
    }

    /// The reader gives up the stream (if it never took it): the source writes on alone.
    pub fn release(&self) {
        self.update(|s| s.claimed = true);
        self.stream.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Records the source task's final state (the first call counts).
    pub fn settle(&self, succeeded: bool) {
        self.update(|s| {
            s.settled.get_or_insert(succeeded);
        });
    }

    /// The reader's side: waits for the source task's final state; its artifact's path if it
    /// succeeded, else [`TaskError::UpstreamFailed`].
    pub fn wait_source(&self, cancel: &CancelFlag) -> Result<&Path, TaskError> {
        let state = self.wait_for(cancel, |s| s.settled.is_some())?;
        match state.settled {
            Some(true) => Ok(&self.artifact),
            _ => Err(TaskError::UpstreamFailed { task: self.source.clone() }),
        }
    }
}

/// The source's side of a tee, for one attempt.
pub struct TeeSender {
    tee: Arc<Tee>,
    tx: Option<SyncSender<Piece>>,
}

impl TeeSender {
    /// Offers the stream, whose frames have `schema`, to the reader.
    pub fn offer(&self, schema: SchemaRef) {
        self.tee.update(|s| s.schema = Some(schema));
    }

    /// The source reads without the tee: the reader will read the artifact.
    pub fn decline(mut self) {
        self.tx = None;
        self.tee.update(|s| s.declined = true);
    }

    /// Whether a reader still takes frames.
    pub fn attached(&self) -> bool {
        self.tx.is_some()
    }

    /// Hands a frame to the reader; a reader that stopped reading is let go.
    pub fn frame(&mut self, df: DataFrame) {
        if let Some(tx) = &self.tx {
            if tx.send(Ok(Some(df))).is_err() {
                self.tx = None;
            }
        }
    }

    /// Ends the stream: every frame was sent.
    pub fn end(mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Ok(None));
        }
    }

    /// Ends the stream with the source's error.
    pub fn fail(mut self, e: &TaskError) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Err(TaskError::Data(format!("source '{}' failed: {e}", self.tee.source))));
        }
    }
}

/// Runs a source task's attempt with its frames teed to the reader, when the fast NDJSON
/// reader covers it; None (the tee declined) when the attempt must run the usual way.
pub fn run_source(ctx: &TaskContext, src: &SourceTask, tee: TeeSender) -> Result<Option<TaskOutcome>, TaskError> {
    let local = !ctx.files.is_empty() && !ctx.files.iter().any(|f| crate::s3::is_s3(&f.to_string_lossy()));
    if src.format != SourceFormat::Ndjson || ctx.limit.is_some() || !local || ndjson::disabled_by_env() {
        tee.decline();
        return Ok(None);
    }
    let started = std::time::Instant::now();
    let planned = match ndjson::prepare(src, ctx.files, None) {
        Ok(p) => p,
        Err(reason) => {
            ctx.log.line(format!("not streamed to its reader: Polars' NDJSON reader: {reason}"));
            tee.decline();
            return Ok(None);
        }
    };
    let mut tee = tee;
    tee.offer(planned.schema.clone());
    ctx.log.line(format!(
        "reading {} NDJSON file(s) matching {}, streaming the frames to its reader as they are written",
        ctx.files.len(),
        src.path
    ));
    let options = ndjson::Options::default();
    match ndjson::write_parquet_teed(src, ctx.files, &planned, ctx.output, &options, ctx.cancel, &mut tee) {
        Ok(ndjson::Outcome::Read(stats)) => {
            let secs = started.elapsed().as_secs_f64();
            let reader = if tee.attached() { "streamed to its reader" } else { "its reader stopped reading early" };
            ctx.log.line(format!(
                "fast NDJSON reader: {} rows, {:.1} MB in {secs:.2} s ({:.0} MB/s); {} chunk(s) parsed fast, {} by Polars' parser; {reader}",
                stats.rows,
                stats.bytes as f64 / 1e6,
                stats.bytes as f64 / 1e6 / secs.max(1e-9),
                stats.fast_chunks,
                stats.polars_chunks
            ));
            tee.end();
            Ok(Some(TaskOutcome { has_output: true, ..Default::default() }))
        }
        Ok(ndjson::Outcome::NotCovered(reason)) => {
            // Nothing was sent, but the reader may have taken the stream: it reads the artifact
            // the usual way writes.
            ctx.log.line(format!("Polars' NDJSON reader: {reason}"));
            tee.fail(&TaskError::Data(format!("read by Polars' reader instead ({reason})")));
            Ok(None)
        }
        Err(e) => {
            tee.fail(&e);
            Err(e)
        }
    }
}

/// Whether DuckDB reads a column of this type from the stream exactly as it reads it from the
/// Parquet artifact (same DuckDB type, same values). Other columns make the reader read the artifact.
pub fn streams_like_artifact(dtype: &DataType) -> bool {
    matches!(
        dtype,
        DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64
            | DataType::String
            | DataType::Binary
            | DataType::Date
            | DataType::Datetime(TimeUnit::Microseconds, _)
            | DataType::Null
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: i64) -> DataFrame {
        df!("n" => [n]).unwrap()
    }

    #[test]
    fn the_reader_gets_every_frame_then_the_end() {
        let (tee, mut tx) = Tee::new("bronze", Path::new("/tmp/a.parquet"));
        let cancel = CancelFlag::default();
        tx.offer(frame(0).schema().clone());
        let (schema, rx) = tee.claim(&cancel).unwrap().expect("offered");
        assert_eq!(schema.len(), 1);
        let reader = std::thread::spawn(move || rx.iter().collect::<Vec<_>>());
        for n in 0..10 {
            tx.frame(frame(n));
        }
        tx.end();
        let got = reader.join().unwrap();
        assert_eq!(got.len(), 11);
        assert!(matches!(got.last(), Some(Ok(None))));
        let values: Vec<i64> =
            got.iter().filter_map(|p| p.as_ref().ok()?.as_ref()).map(|df| df.column("n").unwrap().i64().unwrap().get(0).unwrap()).collect();
        assert_eq!(values, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_reader_that_stops_lets_the_source_go_on() {
        let (tee, mut tx) = Tee::new("bronze", Path::new("/tmp/a.parquet"));
        tx.offer(frame(0).schema().clone());
        let (_, rx) = tee.claim(&CancelFlag::default()).unwrap().unwrap();
        drop(rx);
        // More frames than the channel holds: none of them may block.
        for n in 0..(IN_FLIGHT as i64 * 3) {
            tx.frame(frame(n));
        }
        assert!(!tx.attached());
        // A stream nobody claimed is released by the reader's attempt, with the same effect.
        let (tee, mut tx) = Tee::new("bronze", Path::new("/tmp/a.parquet"));
        tee.release();
        for n in 0..(IN_FLIGHT as i64 * 3) {
            tx.frame(frame(n));
        }
        assert!(!tx.attached());
        assert!(tee.claim(&CancelFlag::default()).unwrap().is_none());
    }

    #[test]
    fn a_declined_or_failed_source_sends_the_reader_to_the_artifact_or_upstream_failed() {
        let cancel = CancelFlag::default();
        let (tee, tx) = Tee::new("bronze", Path::new("/tmp/a.parquet"));
        tx.decline();
        assert!(tee.claim(&cancel).unwrap().is_none());
        tee.settle(true);
        assert_eq!(tee.wait_source(&cancel).unwrap(), Path::new("/tmp/a.parquet"));

        let (tee, tx) = Tee::new("bronze", Path::new("/tmp/a.parquet"));
        tx.offer(frame(0).schema().clone());
        let (_, rx) = tee.claim(&cancel).unwrap().unwrap();
        tx.fail(&TaskError::Data("line 3 is not JSON".into()));
        let message = rx.recv().unwrap().unwrap_err().to_string();
        assert!(message.contains("source 'bronze' failed: line 3 is not JSON"), "{message}");
        tee.settle(false);
        tee.settle(true);
        assert!(matches!(tee.wait_source(&cancel), Err(TaskError::UpstreamFailed { task }) if task == "bronze"));
    }

    #[test]
    fn a_sender_dropped_midway_breaks_the_stream_and_a_waiting_reader_can_be_cancelled() {
        let (tee, mut tx) = Tee::new("bronze", Path::new("/tmp/a.parquet"));
        tx.offer(frame(0).schema().clone());
        let (_, rx) = tee.claim(&CancelFlag::default()).unwrap().unwrap();
        tx.frame(frame(1));
        drop(tx);
        assert!(matches!(rx.recv(), Ok(Ok(Some(_)))));
        // No end marker: the reader must treat this as a broken stream, not the table's end.
        assert!(rx.recv().is_err());

        let cancel = CancelFlag::new();
        let (tee, _tx) = Tee::new("bronze", Path::new("/tmp/a.parquet"));
        let flag = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            flag.set();
        });
        assert!(matches!(tee.wait_source(&cancel), Err(TaskError::Cancelled)));
    }
}
