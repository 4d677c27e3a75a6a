//! A stored NDJSON source streams into its DuckDB reader while it writes its artifact
//! (`tasks::tee`): same answers and types as reading the artifact, and failures on either side
//! end as they would unfused.

use polder_engine::{RunOptions, RunStatus, RunSummary, TaskStatus};

use crate::common::*;
use crate::views::streamed_logs;

/// `bronze` (stored) and DuckDB readers of it; `{reader}` is the SQL of the reader that may run
/// fused with it, `later` reads the artifact after.
fn spec(max_parallel: usize, reader: &str) -> String {
    format!(
        r#"
[pipeline]
name = "fused"
max_parallel = {max_parallel}

[[task]]
id = "bronze"
kind = "source"
format = "ndjson"
path = "data/*.json"
flatten = true
path_column = {{ name = "day", pattern = '(\d{{8}})\.json$', type = "date", format = "%Y%m%d" }}

[[task]]
id = "silver"
kind = "sql"
engine = "duckdb"
sql = "{reader}"

[[task]]
id = "later"
kind = "sql"
engine = "duckdb"
sql = "SELECT count(*) AS n, count(DISTINCT user) AS users FROM bronze"
"#
    )
}

const PER_USER: &str = "SELECT user, day, count(*) AS n, sum(amount) AS amount, max(note) AS note, bool_or(ok) AS ok, sum(score) AS score, min(id) AS first_id FROM bronze GROUP BY ALL ORDER BY ALL";

fn fixture(spec: &str) -> Fixture {
    let logs = streamed_logs();
    let files: Vec<(&str, &str)> = logs.iter().map(|(n, t)| (*n, t.as_str())).collect();
    Fixture::new(spec, &files)
}

fn log(fx: &Fixture, run: &RunSummary, task: &str) -> String {
    std::fs::read_to_string(fx.ws.state_dir().join(format!("logs/fused/run-{}/{task}.log", run.run_id))).unwrap_or_default()
}

/// The Parquet schema of a task's artifact, as DuckDB reads it.
fn duckdb_types(run: &RunSummary, task: &str) -> Vec<(String, String)> {
    let path = run.task(task).unwrap().artifact.clone().unwrap();
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let mut stmt = conn.prepare(&format!("DESCRIBE SELECT * FROM read_parquet('{}')", path.display())).unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap().map(Result::unwrap).collect()
}

/// Runs the pipeline (fused), then the reader alone on bronze's stored artifact: both answers.
async fn fused_and_stored(fx: &Fixture) -> (RunSummary, RunSummary) {
    let fused = fx.run(RunOptions::default()).await;
    assert_eq!(fused.status, RunStatus::Success, "{fused:#?}");
    let stored = fx.run(RunOptions { only: vec!["silver".into()], ..Default::default() }).await;
    assert_eq!(stored.status, RunStatus::Success, "{stored:#?}");
    assert!(!log(fx, &stored, "silver").contains("while its task wrote it"));
    (fused, stored)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_source_streams_into_its_duckdb_reader_with_the_answer_of_its_artifact() {
    for reader in [PER_USER, "SELECT * FROM bronze ORDER BY id"] {
        let fx = fixture(&spec(4, reader));
        let (fused, stored) = fused_and_stored(&fx).await;
        let bronze_log = log(&fx, &fused, "bronze");
        assert!(bronze_log.contains("streaming the frames to its reader") && bronze_log.contains("; streamed to its reader"), "{bronze_log}");
        let silver_log = log(&fx, &fused, "silver");
        assert!(silver_log.contains("'bronze' streamed into DuckDB while its task wrote it: 703 rows"), "{silver_log}");
        assert!(!silver_log.contains("on the stored artifact"), "{silver_log}");
        // The second reader found no stream to share and read the artifact.
        assert!(!log(&fx, &fused, "later").contains("while its task wrote it"));
        assert_eq!(i(&rows(&fused, "later")[0]["n"]), 703);

        let (a, b) = (rows(&fused, "silver"), rows(&stored, "silver"));
        assert_eq!(a, b, "{reader}");
        assert_eq!(duckdb_types(&fused, "silver"), duckdb_types(&stored, "silver"), "{reader}");
        assert_eq!(rows(&fused, "bronze").len(), 703);
        if reader == PER_USER {
            assert_eq!(a.len(), 7);
            let kees = a.iter().find(|r| r["user"] == "kees van der berg-achternaam").unwrap();
            assert_eq!((i(&kees["n"]), f(&kees["amount"])), (175, 3.0 * (2..700).step_by(4).sum::<usize>() as f64));
        } else {
            assert_eq!(a.len(), 703);
            let types = duckdb_types(&fused, "silver");
            let names: Vec<&str> = types.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["id", "user", "amount", "note", "ok", "score", "day"]);
            assert!(types.contains(&("day".into(), "DATE".into())) && types.contains(&("ok".into(), "BOOLEAN".into())), "{types:?}");
        }
        assert!(temp_files(fx.tmp.path()).is_empty(), "{:?}", temp_files(fx.tmp.path()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_that_stop_early_or_read_twice_get_the_stored_answer() {
    let readers = [
        // DuckDB stops reading after a few rows: bronze writes on alone.
        "SELECT count(*) AS n FROM (SELECT * FROM bronze LIMIT 5)",
        // Two scans of bronze: one stream cannot feed both, so the query runs on the artifact.
        "SELECT a.user, count(*) AS pairs FROM bronze a JOIN bronze b ON a.user = b.user AND a.day = b.day GROUP BY ALL ORDER BY ALL",
        // No row of bronze is needed at all.
        "SELECT 42 AS answer FROM (SELECT 1) WHERE NOT EXISTS (SELECT 1 FROM bronze WHERE false)",
    ];
    for reader in readers {
        let fx = fixture(&spec(4, reader));
        let (fused, stored) = fused_and_stored(&fx).await;
        assert_eq!(rows(&fused, "silver"), rows(&stored, "silver"), "{reader}");
        assert_eq!(rows(&fused, "bronze").len(), 703, "{reader}");
        assert_eq!(i(&rows(&fused, "later")[0]["n"]), 703);
    }
    let fx = fixture(&spec(4, readers[1]));
    let (fused, _) = fused_and_stored(&fx).await;
    let silver = rows(&fused, "silver");
    // ann: 175 rows on day 1 (175² pairs) and one on day 2.
    let ann = silver.iter().filter(|r| r["user"] == "ann").map(|r| i(&r["pairs"])).collect::<Vec<_>>();
    assert_eq!(ann, [175 * 175 + 1]);
    let silver_log = log(&fx, &fused, "silver");
    assert!(silver_log.contains("reads 'bronze' twice") && silver_log.contains("running it on the stored artifact"), "{silver_log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_fails_the_source_and_leaves_its_fused_reader_upstream_failed() {
    // Past the rows Polars infers the schema from, so the stream is already flowing.
    let mut late = String::new();
    for id in 0..10_010 {
        late += &format!("{{\"meta\": {{\"id\": {id}}}, \"_source\": {{\"user\": \"u\", \"amount\": 1, \"note\": \"n\", \"ok\": true, \"score\": 0.5}}}}\n");
    }
    late += "{\"meta\": {\"id\": 1}, \"_source\": {\"user\": \"ann\" \"amount\": 1}}\n";
    let fx = Fixture::new(&spec(4, PER_USER), &[("data/20240103.json", &late)]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(status(&run, "bronze"), TaskStatus::Failed);
    assert!(error(&run, "bronze").contains("data/20240103.json:10011:"), "{}", error(&run, "bronze"));
    assert_eq!(status(&run, "silver"), TaskStatus::UpstreamFailed, "{run:#?}");
    assert!(error(&run, "silver").contains("upstream task 'bronze' failed"), "{}", error(&run, "silver"));
    assert!(run.task("silver").unwrap().artifact.is_none());
    assert_eq!(status(&run, "later"), TaskStatus::UpstreamFailed);
    assert!(!fx.ws.state_dir().join("artifacts/fused/silver").exists() || walk(&fx.ws.state_dir().join("artifacts/fused/silver")) == 0);
    assert!(temp_files(fx.tmp.path()).is_empty(), "{:?}", temp_files(fx.tmp.path()));
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|rd| rd.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_reader_reports_the_error_it_gets_on_the_artifact_and_the_source_is_kept() {
    let fx = fixture(&spec(4, "SELECT CAST(user AS INTEGER) AS u FROM bronze"));
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "bronze"), TaskStatus::Success);
    assert_eq!(rows(&run, "bronze").len(), 703);
    assert_eq!(status(&run, "later"), TaskStatus::Success);
    assert_eq!(status(&run, "silver"), TaskStatus::Failed);
    let err = error(&run, "silver");
    assert!(err.contains("SQL error (duckdb)") && err.contains("Could not convert string 'ann' to INT32"), "{err}");
    let silver_log = log(&fx, &run, "silver");
    assert!(silver_log.contains("running it on the stored artifact"), "{silver_log}");
    assert!(temp_files(fx.tmp.path()).is_empty(), "{:?}", temp_files(fx.tmp.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_duckdb_reads_differently_from_a_stream_send_the_reader_to_the_artifact() {
    // A list column: Parquet gives DuckDB a LIST, which the stream cannot carry.
    let mut text = String::new();
    for id in 0..50 {
        text += &format!("{{\"meta\": {{\"id\": {id}}}, \"_source\": {{\"user\": \"u{}\", \"tags\": [\"a\", \"b{id}\"]}}}}\n", id % 3);
    }
    let fx = Fixture::new(
        &spec(4, "SELECT user, sum(len(tags)) AS tags, max(tags[2]) AS last FROM bronze GROUP BY ALL ORDER BY ALL"),
        &[("data/20240105.json", &text)],
    );
    let (fused, stored) = fused_and_stored(&fx).await;
    let silver_log = log(&fx, &fused, "silver");
    assert!(silver_log.contains("DuckDB reads its column 'tags' (list[str]) differently from a stream"), "{silver_log}");
    let got = rows(&fused, "silver");
    assert_eq!(got, rows(&stored, "silver"));
    assert_eq!((s(&got[0]["user"]), i(&got[0]["tags"]), s(&got[0]["last"])), ("u0", 34, "b9"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_task_at_a_time_means_no_fusing() {
    let fx = fixture(&spec(1, PER_USER));
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert!(!log(&fx, &run, "bronze").contains("streaming the frames"));
    assert!(!log(&fx, &run, "silver").contains("while its task wrote it"));
    assert_eq!(rows(&run, "silver").len(), 7);
}
