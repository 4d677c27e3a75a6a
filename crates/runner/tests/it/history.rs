//! A task's history across runs, and whether it changed since its last success.

use serde_json::json;

use crate::http::*;

#[test]
fn a_tasks_history_and_whether_it_changed_since_its_last_success() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let dir = tmp.path().join("hist");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("pipeline.toml"),
        "[pipeline]\nname = \"hist\"\n\n[[task]]\nid = \"a\"\nkind = \"sql\"\nsql = \"SELECT 1 AS x UNION ALL SELECT 2\"\n\n\
         [[task]]\nid = \"b\"\nkind = \"sql\"\nfile = \"b.sql\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("b.sql"), "SELECT x * 10 AS y FROM a\n").unwrap();
    let changed = |task: &str| {
        let d = get(addr, "/api/pipelines/hist").json();
        d["tasks"].as_array().unwrap().iter().find(|t| t["id"] == task).unwrap()["changed_since_success"].clone()
    };
    assert_eq!(changed("b"), serde_json::Value::Null, "never ran");
    let first = post(addr, "/api/pipelines/hist/runs", "{}").json()["run_id"].as_i64().unwrap();
    wait_for_end(addr, first);
    assert_eq!(changed("b"), json!(false));
    // Editing b's file marks b, not a.
    std::fs::write(dir.join("b.sql"), "SELECT x * 100 AS y FROM a\n").unwrap();
    assert_eq!(changed("b"), json!(true));
    assert_eq!(changed("a"), json!(false));
    let h = get(addr, "/api/pipelines/hist/tasks/b/history").json();
    assert_eq!(h["changed_since_success"], json!(true));
    assert_eq!(h["last_success_run"], json!(first));
    // A failing edit: the history shows it first with its error; b still counts as changed.
    std::fs::write(dir.join("b.sql"), "SELECT nope FROM a\n").unwrap();
    let second = post(addr, "/api/pipelines/hist/runs", "{}").json()["run_id"].as_i64().unwrap();
    wait_for_end(addr, second);
    let h = get(addr, "/api/pipelines/hist/tasks/b/history").json();
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!((runs[0]["run_id"].as_i64(), runs[0]["status"].as_str()), (Some(second), Some("failed")));
    assert!(runs[0]["error"].as_str().unwrap().contains("nope"), "{h}");
    assert_eq!(
        (runs[1]["status"].as_str(), runs[1]["rows"].as_i64(), runs[1]["trigger"].as_str()),
        (Some("success"), Some(2), Some("api"))
    );
    assert_eq!(h["changed_since_success"], json!(true));
    // Fixed and run: unchanged again; a's reuse counts as a success too.
    std::fs::write(dir.join("b.sql"), "SELECT x * 100 AS y FROM a\n").unwrap();
    let third = post(addr, "/api/pipelines/hist/runs", "{}").json()["run_id"].as_i64().unwrap();
    wait_for_end(addr, third);
    assert_eq!(changed("b"), json!(false));
    let h = get(addr, "/api/pipelines/hist/tasks/a/history?limit=1").json();
    assert_eq!(h["runs"].as_array().unwrap().len(), 1);
    assert_eq!(h["runs"][0]["status"], "cached");
    assert_eq!(get(addr, "/api/pipelines/hist/tasks/zzz/history").status, 404);
}
