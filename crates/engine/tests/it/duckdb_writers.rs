//! Many sinks writing one DuckDB file at once never fail on its lock.

use polder_engine::{RunOptions, RunStatus, TaskStatus};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sinks_to_one_duckdb_file_are_serialized() {
    let mut spec = String::from("[pipeline]\nname = \"writers\"\nmax_parallel = 8\n\n[[task]]\nid = \"nums\"\nkind = \"sql\"\nsql = \"SELECT * FROM (VALUES (1), (2), (3)) AS t(n)\"\nengine = \"duckdb\"\n");
    for k in 0..8 {
        spec.push_str(&format!(
            "\n[[task]]\nid = \"sink_{k}\"\nkind = \"sink\"\ninput = \"nums\"\nformat = \"duckdb\"\ndatabase = \"out/shared.duckdb\"\ntable = \"t{k}\"\nmode = \"{}\"\n",
            if k % 2 == 0 { "replace" } else { "append" }
        ));
    }
    let fx = Fixture::new(&spec, &[]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let run2 = fx.run(RunOptions { force: true, ..Default::default() }).await;
    assert!(run2.tasks.iter().all(|t| t.status == TaskStatus::Success), "{run2:#?}");
    let db = duckdb::Connection::open(fx.dir().join("out/shared.duckdb")).unwrap();
    for k in 0..8 {
        let n: i64 = db.query_row(&format!("SELECT SUM(n) FROM t{k}"), [], |r| r.get(0)).unwrap();
        // replace keeps one copy; append adds one per run.
        assert_eq!(n, if k % 2 == 0 { 6 } else { 12 }, "table t{k}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_mode_refuses_an_existing_table() {
    let spec = r#"
[pipeline]
name = "create"

[[task]]
id = "one"
kind = "sql"
sql = "SELECT 1 AS x"

[[task]]
id = "store"
kind = "sink"
input = "one"
format = "duckdb"
database = "db.duckdb"
table = "x"
mode = "create"
"#;
    let fx = Fixture::new(spec, &[]);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    let again = fx.run(RunOptions { force: true, ..Default::default() }).await;
    assert_eq!(status(&again, "store"), TaskStatus::Failed);
    assert!(error(&again, "store").contains("table x already exists"), "{}", error(&again, "store"));
    assert!(error(&again, "store").contains("mode = \"replace\""));
}
