//! `materialize = "view"`: not stored, inlined into the reading Polars SQL task.

use polder_engine::{RunOptions, RunStatus, TaskStatus};

use crate::common::*;

const SPEC: &str = r#"
[pipeline]
name = "views"

[[task]]
id = "raw"
kind = "source"
format = "csv"
path = "data/*.csv"
materialize = "view"

[[task]]
id = "big"
kind = "sql"
sql = "SELECT id, amount * 2 AS doubled FROM raw WHERE amount > 1"
materialize = "view"

[[task]]
id = "total"
kind = "sql"
sql = "SELECT COUNT(*) AS n, SUM(doubled) AS s FROM big"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_are_inlined_not_stored_and_invalidate_readers() {
    let fx = Fixture::new(SPEC, &[("data/a.csv", "id,amount\n1,1\n2,5\n3,10\n")]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let total = rows(&run, "total");
    assert_eq!((i(&total[0]["n"]), i(&total[0]["s"])), (2, 30));
    for v in ["raw", "big"] {
        let t = run.task(v).unwrap();
        assert_eq!((t.status, t.attempts, t.artifact.is_none()), (TaskStatus::Success, 0, true), "{v}");
        assert!(!fx.ws.state_dir().join("artifacts/views").join(v).exists(), "{v} must not be stored");
    }
    // A view can still be looked at: it is computed from its upstreams' latest outputs.
    let p = polder_engine::load(&fx.dir()).unwrap();
    let big = polder_engine::inspect::latest(&fx.ws, &p, "big").unwrap();
    let rows_big = polder_engine::inspect::input_json(&big, 10).unwrap();
    let got: Vec<(i64, i64)> = rows_big.iter().map(|r| (i(&r["id"]), i(&r["doubled"]))).collect();
    assert_eq!(got, [(2, 10), (3, 20)]);
    let again = fx.run(RunOptions::default()).await;
    assert_eq!(status(&again, "total"), TaskStatus::Cached);
    // A new file behind the view changes its fingerprint, so its reader reruns.
    fx.write("data/b.csv", "id,amount\n4,3\n");
    let third = fx.run(RunOptions::default()).await;
    assert_eq!(status(&third, "total"), TaskStatus::Success);
    let total = rows(&third, "total");
    assert_eq!((i(&total[0]["n"]), i(&total[0]["s"])), (3, 36));
}

#[test]
fn only_polars_sql_tasks_can_be_or_read_views() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = SPEC.to_string()
        + "\n[[task]]\nid = \"duck\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT * FROM big\"\n\n[[task]]\nid = \"check\"\nkind = \"validate\"\ninput = \"total\"\nmaterialize = \"view\"\nchecks = [{ column = \"n\", not_null = true }]\n";
    std::fs::write(tmp.path().join("pipeline.toml"), spec).unwrap();
    let err = polder_engine::load(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("task 'check': materialize = \"view\" is for source tasks and Polars SQL tasks only"), "{err}");
}

#[test]
fn duckdb_readers_of_views_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = SPEC.to_string() + "\n[[task]]\nid = \"duck\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT * FROM big\"\n";
    std::fs::write(tmp.path().join("pipeline.toml"), spec).unwrap();
    let err = polder_engine::load(tmp.path()).unwrap_err().to_string();
    assert!(
        err.contains("task 'duck' reads 'big', which is materialize = \"view\"; only Polars SQL tasks can read views"),
        "{err}"
    );
}
