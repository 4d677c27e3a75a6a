//! The scheduler over real HTTP: a per-second schedule fires, runs queue behind
//! `max_active_runs`, and a backfill queues one run per interval with its logical date.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http::*;

fn pipeline(ws: &Path, name: &str, header_extra: &str, task: &str) {
    let dir = ws.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pipeline.toml"), format!("[pipeline]\nname = \"{name}\"\n{header_extra}\n\n{task}")).unwrap();
}

fn runs_of(addr: std::net::SocketAddr, name: &str) -> Vec<Value> {
    get(addr, &format!("/api/runs?pipeline={name}")).json().as_array().unwrap().clone()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const SQL_TASK: &str = "[[task]]\nid = \"d\"\nkind = \"sql\"\nsql = \"SELECT '{{ run_date }}' AS run_date\"\n";

#[test]
fn a_per_second_schedule_fires_with_its_logical_date() {
    let tmp = tempfile::tempdir().unwrap();
    pipeline(tmp.path(), "tick", "schedule = \"* * * * * *\"", SQL_TASK);
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    wait_until("a scheduled run", || runs_of(addr, "tick").iter().any(|r| r["status"] == "success"));
    let run = runs_of(addr, "tick").into_iter().find(|r| r["status"] == "success").unwrap();
    assert_eq!(run["trigger"], "schedule");
    let params: Value = serde_json::from_str(run["params"].as_str().unwrap()).unwrap();
    let today = chrono::Utc::now().date_naive();
    let run_date = chrono::NaiveDate::parse_from_str(params["run_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert!(run_date == today || run_date == today.pred_opt().unwrap(), "{run_date}");
    // The task saw the same date.
    let out = get(addr, &format!("/api/runs/{}/tasks/d/output", run["id"])).json();
    assert_eq!(out["rows"][0]["run_date"], params["run_date"]);
}

#[test]
fn runs_beyond_max_active_runs_wait_in_the_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let task = "[[task]]\nid = \"s\"\nkind = \"shell\"\ncommand = \"sleep 0.5\"\n";
    pipeline(tmp.path(), "solo", "max_active_runs = 1", task);
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let first = post(addr, "/api/pipelines/solo/runs", "{}").json();
    assert!(first["run_id"].is_i64(), "{first}");
    let second = post(addr, "/api/pipelines/solo/runs", "{}").json();
    assert!(second["queued"].is_i64(), "the second run must queue: {second}");
    assert_eq!(get(addr, "/api/queue").json().as_array().unwrap().len(), 1);
    wait_until("both runs", || {
        let runs = runs_of(addr, "solo");
        runs.len() == 2 && runs.iter().all(|r| r["status"] == "success")
    });
    let runs = runs_of(addr, "solo");
    let (newer, older) = (&runs[0], &runs[1]);
    // They never overlapped.
    assert!(newer["started_at_ms"].as_i64().unwrap() >= older["ended_at_ms"].as_i64().unwrap(), "{runs:?}");
    assert!(get(addr, "/api/queue").json().as_array().unwrap().is_empty());
}

#[test]
fn backfill_queues_one_run_per_interval() {
    let tmp = tempfile::tempdir().unwrap();
    pipeline(tmp.path(), "daily", "schedule = \"0 2 * * *\"\ntimezone = \"Europe/Paris\"", SQL_TASK);
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let r = post(addr, "/api/pipelines/daily/backfill", r#"{"from": "2023-04-01", "to": "2023-04-03"}"#);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["run_dates"], serde_json::json!(["2023-03-31", "2023-04-01", "2023-04-02"]));
    wait_until("three backfill runs", || {
        let runs = runs_of(addr, "daily");
        runs.len() == 3 && runs.iter().all(|r| r["status"] == "success")
    });
    let mut dates: Vec<String> = runs_of(addr, "daily")
        .iter()
        .map(|r| {
            assert_eq!(r["trigger"], "backfill");
            let p: Value = serde_json::from_str(r["params"].as_str().unwrap()).unwrap();
            p["run_date"].as_str().unwrap().to_string()
        })
        .collect();
    dates.sort();
    assert_eq!(dates, ["2023-03-31", "2023-04-01", "2023-04-02"]);
    let bad = post(addr, "/api/pipelines/daily/backfill", r#"{"from": "2023-04-03", "to": "2023-04-01"}"#);
    assert_eq!(bad.status, 400);
}
