//! Task failures: each gets a clear message, downstream tasks are marked, and no half-written
//! artifact is left visible.

use std::time::Instant;

use polder_engine::{run_pipeline, RunCancel, RunOptions, RunStatus, TaskStatus};

use crate::common::*;

const HEADER: &str = "[pipeline]\nname = \"fail\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_error_names_the_task_and_shows_the_engine_message() {
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"src\"\nkind = \"sql\"\nsql = \"SELECT 1 AS a\"\n\n[[task]]\nid = \"bad\"\nkind = \"sql\"\nengine = \"polars\"\nfile = \"bad.sql\"\n\n[[task]]\nid = \"after\"\nkind = \"sql\"\nsql = \"SELECT * FROM bad\"\n\n[[task]]\nid = \"bad_duck\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT no_such_column FROM src\"\n"
    );
    let fx = Fixture::new(&spec, &[("bad.sql", "SELECT missing_col FROM src")]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(status(&run, "src"), TaskStatus::Success);
    assert_eq!(status(&run, "bad"), TaskStatus::Failed);
    let err = error(&run, "bad");
    assert!(err.starts_with("SQL error (polars) in bad.sql:"), "{err}");
    assert!(err.contains("missing_col"), "{err}");
    assert_eq!(status(&run, "after"), TaskStatus::UpstreamFailed);
    let err = error(&run, "bad_duck");
    assert!(err.starts_with("SQL error (duckdb):"), "{err}");
    assert!(err.contains("no_such_column"), "{err}");
    // No artifact for failed tasks, and no temp file left behind.
    assert!(run.task("bad").unwrap().artifact.is_none());
    assert!(
        !fx.ws.state_dir().join("artifacts/fail/bad").exists()
            || std::fs::read_dir(fx.ws.state_dir().join("artifacts/fail/bad")).unwrap().next().is_none()
    );
    assert!(temp_files(fx.ws.state_dir()).is_empty());
    // The run metadata says the same.
    let stored = fx.ws.store.task_runs(run.run_id).unwrap();
    let bad = stored.iter().find(|t| t.task_id == "bad").unwrap();
    assert_eq!(bad.status, TaskStatus::Failed);
    assert!(bad.error.as_deref().unwrap().contains("missing_col"));
    assert!(fx.ws.resolve(bad.log_path.as_deref().unwrap()).exists());
    let run_rec = fx.ws.store.get_run(run.run_id).unwrap().unwrap();
    assert!(run_rec.error.unwrap().starts_with("task 'bad' failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_source_files_fail_with_the_pattern() {
    let spec = format!("{HEADER}\n[[task]]\nid = \"logs\"\nkind = \"source\"\nformat = \"ndjson\"\npath = \"data/*.json\"\n");
    let fx = Fixture::new(&spec, &[]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "logs"), TaskStatus::Failed);
    let err = error(&run, "logs");
    assert!(err.starts_with("no files match data/*.json"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_ndjson_line_fails_the_source_with_file_and_line_and_no_artifact() {
    let spec = format!("{HEADER}\n[[task]]\nid = \"logs\"\nkind = \"source\"\nformat = \"ndjson\"\npath = \"data/*.json\"\n");
    let good = "{\"id\":1,\"who\":{\"name\":\"ann\"}}\n".repeat(50);
    let bad = format!("{good}{{\"id\":2,\"who\":{{\"name\":\"bob\"}}\n{{\"id\":3}}\n");
    let fx = Fixture::new(&spec, &[("data/a.json", &good), ("data/b.json", &bad)]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "logs"), TaskStatus::Failed);
    let err = error(&run, "logs");
    assert!(err.contains("data/b.json:51: "), "{err}");
    assert!(err.contains("{\"id\":2,\"who\":{\"name\":\"bob\"}"), "the line's start is shown: {err}");
    assert!(run.task("logs").unwrap().artifact.is_none());
    assert!(temp_files(fx.ws.state_dir()).is_empty());
    // Fixed, the run reads both files, through the fast reader (the task log says so).
    fx.write("data/b.json", &format!("{good}{{\"id\":3}}\n"));
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "logs"), TaskStatus::Success);
    let stored = fx.ws.store.task_runs(run.run_id).unwrap();
    let log = std::fs::read_to_string(fx.ws.resolve(stored[0].log_path.as_deref().unwrap())).unwrap();
    assert!(log.contains("fast NDJSON reader: 101 rows"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_validation_lists_checks_and_keeps_a_sample() {
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"t\"\nkind = \"sql\"\nsql = \"SELECT * FROM (VALUES (1, 'a'), (1, 'b'), (NULL, 'zz'), (4, 'c')) AS v(id, code)\"\nengine = \"duckdb\"\n\n[[task]]\nid = \"checks\"\nkind = \"validate\"\ninput = \"t\"\nchecks = [\n  {{ column = \"id\", not_null = true, unique = true }},\n  {{ column = \"code\", accepted_values = [\"a\", \"b\", \"c\"], severity = \"warn\" }},\n  {{ column = \"id\", min = 0, max = 3 }},\n  {{ row_count = {{ min = 10 }} }},\n  {{ expr = \"length(code) = 1\" }},\n]\n\n[[task]]\nid = \"out\"\nkind = \"sink\"\ninput = \"t\"\ninputs = [\"checks\"]\nformat = \"csv\"\npath = \"out.csv\"\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "checks"), TaskStatus::Failed);
    let err = error(&run, "checks");
    assert_eq!(
        err,
        "validation failed: not_null(id): 1 of 4 rows fail; unique(id): 2 of 4 rows fail; range(id): 1 of 4 rows fail; \
         row_count: 4 rows, expected 10..; expr(length(code) = 1): 1 of 4 rows fail"
    );
    assert_eq!(run.task("checks").unwrap().warnings, ["accepted_values(code): 1 of 4 rows fail"]);
    assert_eq!(run.task("checks").unwrap().attempts, 1, "failed checks are not retried");
    assert_eq!(status(&run, "out"), TaskStatus::UpstreamFailed);
    assert!(!fx.dir().join("out.csv").exists());
    // The failing-row sample is kept, tagged with the check.
    let sample = rows(&run, "checks");
    let mut tags: Vec<String> = sample.iter().map(|r| s(&r["_check"]).to_string()).collect();
    tags.sort();
    assert_eq!(
        tags,
        ["accepted_values(code)", "expr(length(code) = 1)", "not_null(id)", "range(id)", "unique(id)", "unique(id)"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_failure_shows_exit_code_and_output() {
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"sh\"\nkind = \"shell\"\ncommand = \"echo preparing; echo \\\"broken: $REASON\\\" >&2; exit 3\"\nenv = {{ REASON = \"disk full\" }}\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "sh"), TaskStatus::Failed);
    let err = error(&run, "sh");
    assert!(err.contains("exited with code 3"), "{err}");
    assert!(err.contains("broken: disk full"), "{err}");
    let log = fx.ws.store.task_runs(run.run_id).unwrap()[0].log_path.clone().unwrap();
    let log = std::fs::read_to_string(fx.ws.resolve(&log)).unwrap();
    assert!(log.contains("| preparing"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_the_task_and_retries_back_off() {
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"slow\"\nkind = \"shell\"\ncommand = \"sleep 30\"\ntimeout_secs = 0.3\nretries = 1\nretry_delay_secs = 0.1\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let started = Instant::now();
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "slow"), TaskStatus::Failed);
    assert_eq!(error(&run, "slow"), "timed out after 0.3s (timeout_secs = 0.3); raise timeout_secs or make the task faster");
    assert_eq!(run.task("slow").unwrap().attempts, 2);
    // Both attempts were cut off, far before the command's 30 s.
    assert!(started.elapsed().as_secs() < 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_task_succeeds_on_retry() {
    // Fails the first time (no marker file yet), succeeds the second.
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"flaky\"\nkind = \"shell\"\ncommand = \"if [ -f marker ]; then echo ok; else touch marker; exit 1; fi\"\nretries = 2\nretry_delay_secs = 0.05\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "flaky"), TaskStatus::Success);
    assert_eq!(run.task("flaky").unwrap().attempts, 2);
    assert_eq!(fx.ws.store.task_runs(run.run_id).unwrap()[0].attempts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_running_and_pending_tasks() {
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"long\"\nkind = \"shell\"\ncommand = \"sleep 30\"\n\n[[task]]\nid = \"src\"\nkind = \"sql\"\nsql = \"SELECT 1 AS a\"\ninputs = [\"long\"]\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let run = run_cancelled_after(&fx, 300).await;
    assert_eq!(status(&run, "long"), TaskStatus::Cancelled);
    assert_eq!(status(&run, "src"), TaskStatus::Cancelled);
    assert_eq!(fx.ws.store.get_run(run.run_id).unwrap().unwrap().status, RunStatus::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_interrupts_a_duckdb_query_in_the_middle() {
    // Hours of hashing on DuckDB's threads: only an interrupt ends it.
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"endless\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT sum(hash(i)) AS h FROM range(1000000000000) t(i)\"\n"
    );
    let run = run_cancelled_after(&Fixture::new(&spec, &[]), 1500).await;
    assert_eq!(status(&run, "endless"), TaskStatus::Cancelled);
}

/// Runs the fixture's pipeline and cancels it after `ms` milliseconds; checks that the run
/// ended cancelled within 10 s.
async fn run_cancelled_after(fx: &Fixture, ms: u64) -> polder_engine::RunSummary {
    let p = std::sync::Arc::new(polder_engine::load(&fx.dir()).unwrap());
    let cancel = RunCancel::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        c.cancel();
    });
    let started = Instant::now();
    let run = run_pipeline(fx.ws.clone(), p, RunOptions::default(), None, cancel).await.unwrap();
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    assert_eq!(run.status, RunStatus::Cancelled);
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_branches_run_on_after_a_failure() {
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"bad\"\nkind = \"shell\"\ncommand = \"exit 1\"\n\n[[task]]\nid = \"good\"\nkind = \"sql\"\nsql = \"SELECT 42 AS answer\"\n\n[[task]]\nid = \"good_after\"\nkind = \"sql\"\nsql = \"SELECT answer + 1 AS next FROM good\"\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(status(&run, "good_after"), TaskStatus::Success);
    assert_eq!(i(&rows(&run, "good_after")[0]["next"]), 43);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_limit_bounds_duckdb_but_never_changes_the_cache_key() {
    let spec = format!(
        "{HEADER}\n[[task]]\nid = \"hoard\"\nkind = \"sql\"\nengine = \"duckdb\"\nmemory_limit = \"64MB\"\nsql = \"SELECT length(list(md5(i::VARCHAR))) AS n FROM range(5000000) t(i)\"\n\n[[task]]\nid = \"small\"\nkind = \"sql\"\nengine = \"duckdb\"\nmemory_limit = \"64MB\"\nsql = \"SELECT 1 AS x\"\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "small"), TaskStatus::Success);
    let err = error(&run, "hoard");
    assert!(err.starts_with("task 'hoard' ran out of memory within its memory budget of 64 MB (memory_limit)"), "{err}");
    assert_eq!(run.task("hoard").unwrap().attempts, 1, "over budget is not retried");
    // A different budget decides whether a task finishes, not what it outputs: still cached.
    fx.write(
        "pipeline.toml",
        &spec.replace("memory_limit = \"64MB\"\nsql = \"SELECT 1", "memory_limit = \"1GB\"\nsql = \"SELECT 1"),
    );
    let again = fx.run(RunOptions::default()).await;
    assert_eq!(status(&again, "small"), TaskStatus::Cached);
}
