//! Pipelines, runs, outputs, logs and events over HTTP, checked against the engine's own results.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::http::*;

const SPEC: &str = r#"
[pipeline]
name = "shop"
schedule = "0 3 * * *"

[params]
min = 0
sleep = "0"

[[task]]
id = "orders"
kind = "source"
format = "csv"
path = "data/orders.csv"

[[task]]
id = "totals"
kind = "sql"
sql = "SELECT customer, SUM(amount) AS total, COUNT(*) AS n FROM orders WHERE amount >= {{ min }} GROUP BY customer ORDER BY customer"

[[task]]
id = "slow"
kind = "shell"
command = "echo started; sleep {{ sleep }}"
inputs = ["totals"]
"#;

fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("pipeline.toml"), SPEC).unwrap();
    let mut csv = String::from("order_id,customer,amount\n");
    for i in 0..1000 {
        csv.push_str(&format!("{i},c{:03},{}\n", i % 250, i % 7));
    }
    std::fs::write(dir.join("data/orders.csv"), csv).unwrap();
    tmp
}

#[test]
fn trigger_a_run_and_page_its_output_as_json_and_arrow() {
    let tmp = workspace();
    let (addr, _) = start(tmp.path(), Some(TOKEN));

    let list = get(addr, "/api/pipelines").json();
    assert_eq!(list[0]["name"], "shop");
    let p = get(addr, "/api/pipelines/shop").json();
    assert_eq!(p["schedule"], "0 3 * * *");
    let edges: Vec<(String, String)> = p["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].as_str().unwrap().to_string(), e["to"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(edges, [("orders".into(), "totals".into()), ("totals".into(), "slow".into())]);
    assert_eq!(get(addr, "/api/pipelines/nope").status, 404);

    let r = post(addr, "/api/pipelines/shop/runs", r#"{"params": {"min": "3"}}"#);
    assert_eq!(r.status, 202, "{}", r.text());
    let run = r.json()["run_id"].as_i64().unwrap();
    let done = wait_for_end(addr, run);
    assert_eq!(done["run"]["status"], "success", "{done}");
    assert_eq!(done["run"]["trigger"], "api");

    // The engine's own result, read from the artifact, is the reference.
    let ws = polder_engine::Workspace::open(tmp.path()).unwrap();
    let tr = ws.store.task_runs(run).unwrap().into_iter().find(|t| t.task_id == "totals").unwrap();
    let engine_rows = polder_engine::inspect::head_json(&ws.resolve(tr.artifact.as_deref().unwrap()), 10_000).unwrap();
    assert_eq!(engine_rows.len(), 250);
    // Independently: amounts i % 7 >= 3 for i in customer c's four orders.
    let c001: i64 = (0..1000).filter(|i| i % 250 == 1 && i % 7 >= 3).map(|i| i % 7).sum();
    assert_eq!(engine_rows[1]["total"].as_i64().unwrap(), c001);

    let mut paged: Vec<Value> = Vec::new();
    let mut offset = 0;
    loop {
        let page = get(addr, &format!("/api/runs/{run}/tasks/totals/output?offset={offset}&limit=64")).json();
        assert_eq!(page["total_rows"], 250);
        let rows = page["rows"].as_array().unwrap().clone();
        if rows.is_empty() {
            break;
        }
        offset += rows.len();
        paged.extend(rows);
    }
    let engine_values: Vec<Value> = engine_rows.into_iter().map(Value::Object).collect();
    assert_eq!(paged, engine_values);
    let page = get(addr, &format!("/api/runs/{run}/tasks/totals/output?offset=0&limit=1")).json();
    assert_eq!(page["schema"][0]["name"], "customer");

    let arrow = get(addr, &format!("/api/runs/{run}/tasks/totals/output?offset=10&limit=20&format=arrow"));
    assert_eq!(arrow.status, 200);
    assert_eq!(arrow.header("content-type"), Some("application/vnd.apache.arrow.stream"));
    assert_eq!(arrow.header("x-total-rows"), Some("250"));
    assert_eq!(&arrow.body[..4], [0xff; 4], "an IPC stream starts with a continuation marker");
    // Decoded, the Arrow page holds exactly rows 10..30 of the engine's result.
    let from_ipc: Vec<Value> = polder_engine::inspect::ipc_to_json(&arrow.body).unwrap().into_iter().map(Value::Object).collect();
    assert_eq!(from_ipc, engine_values[10..30]);

    // Column statistics, recomputed here.
    let totals: Vec<i64> = (0..250).map(|c| (0..1000).filter(|i| i % 250 == c && i % 7 >= 3).map(|i| i % 7).sum()).collect();
    let stats = get(addr, &format!("/api/runs/{run}/tasks/totals/stats")).json();
    assert_eq!(stats[0]["name"], "customer");
    assert_eq!(
        (stats[0]["null_count"].as_i64(), stats[0]["min"].as_str(), stats[0]["max"].as_str()),
        (Some(0), Some("c000"), Some("c249"))
    );
    assert_eq!(stats[1]["name"], "total");
    let want = (totals.iter().min().unwrap().to_string(), totals.iter().max().unwrap().to_string());
    assert_eq!((stats[1]["min"].as_str().unwrap().to_string(), stats[1]["max"].as_str().unwrap().to_string()), want);

    // Server-side sort and filter, recomputed here.
    let mut want: Vec<(String, i64)> =
        (0..250).map(|c| (format!("c{c:03}"), totals[c as usize])).filter(|(_, t)| *t >= 8).collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let page = get(
        addr,
        &format!("/api/runs/{run}/tasks/totals/output?limit=5&offset=2&sort=total:desc,customer:asc&filter=total:ge:8"),
    )
    .json();
    assert_eq!(page["total_rows"].as_u64(), Some(want.len() as u64));
    let got: Vec<(String, i64)> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["customer"].as_str().unwrap().to_string(), r["total"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, want[2..7]);
    let page = get(addr, &format!("/api/runs/{run}/tasks/totals/output?filter=customer:contains:c00;n:eq:4")).json();
    let expect = (0..10).filter(|c| (0..1000).filter(|i| i % 250 == *c && i % 7 >= 3).count() == 4).count();
    assert_eq!(page["total_rows"].as_u64(), Some(expect as u64));
    let arrow = get(
        addr,
        &format!("/api/runs/{run}/tasks/totals/output?format=arrow&sort=total:desc,customer:asc&filter=total:ge:8&limit=3"),
    );
    assert_eq!(arrow.header("x-total-rows"), Some(want.len().to_string().as_str()));
    let from_ipc = polder_engine::inspect::ipc_to_json(&arrow.body).unwrap();
    assert_eq!(from_ipc[0]["customer"].as_str(), Some(want[0].0.as_str()));
    let bad = get(addr, &format!("/api/runs/{run}/tasks/totals/output?sort=nope:asc"));
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"].as_str().unwrap().contains("no column `nope`; columns: customer, total, n"));
    assert_eq!(get(addr, &format!("/api/runs/{run}/tasks/totals/output?filter=total:like:3")).status, 400);

    let latest = get(addr, "/api/pipelines/shop/tasks/totals/output?limit=3").json();
    assert_eq!(latest["rows"].as_array().unwrap().len(), 3);

    let log = get(addr, &format!("/api/runs/{run}/tasks/slow/log"));
    assert!(log.text().contains("| started"), "{}", log.text());
    let runs = get(addr, "/api/runs?pipeline=shop").json();
    assert_eq!(runs[0]["id"].as_i64(), Some(run));

    // A retry reuses every unchanged output: here all of them.
    let retry = post(addr, &format!("/api/runs/{run}/retry"), "");
    assert_eq!(retry.status, 202, "{}", retry.text());
    let retried = wait_for_end(addr, retry.json()["run_id"].as_i64().unwrap());
    assert_eq!(retried["run"]["status"], "success");
    assert_eq!(retried["run"]["trigger"], "retry");
    assert!(retried["tasks"].as_array().unwrap().iter().all(|t| t["status"] == "cached"), "{retried}");

    // The run's slot is freed just after its end is recorded: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let metrics = loop {
        let m = get(addr, "/metrics").text();
        if m.contains("polder_active_runs 0") || std::time::Instant::now() > deadline {
            break m;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(metrics.contains("polder_runs{status=\"success\"} 2"), "{metrics}");
    assert!(metrics.contains("polder_active_runs 0"), "{metrics}");

    // Filters and paging.
    let failed = get(addr, "/api/runs?status=failed").json();
    assert!(failed.as_array().unwrap().is_empty());
    let page1 = get(addr, "/api/runs?limit=1").json();
    let older = get(addr, &format!("/api/runs?limit=5&before={}", page1[0]["id"])).json();
    assert_eq!(older[0]["id"].as_i64(), Some(run));
    assert_eq!(get(addr, "/api/runs?status=weird").status, 400);
    let metrics = get(addr, "/metrics").text();
    assert!(metrics.contains("polder_task_duration_seconds_count{kind=\"sql\",status=\"success\"} 1"), "{metrics}");
    assert!(metrics.contains("polder_queue_depth 0"), "{metrics}");

    // Validating a spec without saving it.
    let v = post(
        addr,
        "/api/pipelines/validate",
        &serde_json::json!({ "spec": "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"a\"\nkind = \"sqll\"\n" }).to_string(),
    )
    .json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][0]["line"], 6);
    assert!(v["problems"][0]["message"].as_str().unwrap().contains("did you mean `sql`"));
    let v = post(addr, "/api/pipelines/validate", &serde_json::json!({ "spec": SPEC }).to_string()).json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["edges"].as_array().unwrap().len(), 2);
    // Queries are planned over their inputs' schemas: a query Polars cannot run is reported,
    // and each query says which engine `auto` gives it.
    let spec = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"a\"\nkind = \"sql\"\nsql = \"SELECT 2.5 AS v\"\n\n[[task]]\nid = \"b\"\nkind = \"sql\"\nengine = \"polars\"\nsql = \"SELECT date_trunc('month', v) AS m FROM a\"\n\n[[task]]\nid = \"c\"\nkind = \"sql\"\nsql = \"SELECT round(v) AS r FROM a\"\n";
    let v = post(addr, "/api/pipelines/validate", &serde_json::json!({ "spec": spec }).to_string()).json();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["problems"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["problems"][0]["line"], 9, "{v}");
    assert!(v["problems"][0]["message"].as_str().unwrap().contains("unsupported function 'date_trunc'"), "{v}");
    assert_eq!(v["engines"]["a"], serde_json::json!({ "engine": "duckdb", "auto": true, "why": null }), "{v}");
    assert_eq!(v["engines"]["b"], serde_json::json!({ "engine": "polars", "auto": false, "why": null }), "{v}");

    let bad = post(addr, "/api/pipelines/shop/runs", r#"{"params": {"nope": "1"}}"#);
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"].as_str().unwrap().contains("unknown parameter `nope`"));
}

#[test]
fn events_stream_and_cancel() {
    let tmp = workspace();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    // Subscribe first, then start a run whose last task sleeps, then cancel it.
    let mut sse = TcpStream::connect(addr).unwrap();
    write!(sse, "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").unwrap();
    sse.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reader = BufReader::new(sse);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    std::thread::sleep(Duration::from_millis(100));

    let run = post(addr, "/api/pipelines/shop/runs", r#"{"params": {"sleep": "30"}, "force": true}"#).json()["run_id"]
        .as_i64()
        .unwrap();
    let mut seen: Vec<(String, String)> = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some(data) = line.trim_end().strip_prefix("data: ") else { continue };
        let ev: Value = serde_json::from_str(data).unwrap();
        if ev["run_id"].as_i64() != Some(run) {
            continue;
        }
        let kind = ev["event"].as_str().unwrap().to_string();
        let task = ev["task"].as_str().unwrap_or("").to_string();
        // Every event says when the runner saw it (Unix ms, within the last minute).
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let at = ev["at_ms"].as_i64().unwrap_or_else(|| panic!("no at_ms in {ev}"));
        assert!(at <= now_ms && now_ms - at < 60_000, "{ev}");
        seen.push((kind.clone(), task.clone()));
        if kind == "task_started" && task == "slow" {
            let c = post(addr, &format!("/api/runs/{run}/cancel"), "");
            assert_eq!(c.status, 200, "{}", c.text());
        }
        if kind == "run_finished" {
            assert_eq!(ev["status"], "cancelled");
            break;
        }
    }
    assert!(seen.contains(&("task_finished".into(), "totals".into())), "{seen:?}");
    assert_eq!(wait_for_end(addr, run)["run"]["status"], "cancelled");
    assert_eq!(post(addr, &format!("/api/runs/{run}/cancel"), "").status, 409);
}

#[test]
fn a_task_log_streams_live_until_the_task_ends() {
    let tmp = workspace();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let run = post(addr, "/api/pipelines/shop/runs", r#"{"params": {"sleep": "1"}}"#).json()["run_id"].as_i64().unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET /api/runs/{run}/tasks/slow/log/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reader = BufReader::new(s);
    let (mut lines, mut end, mut line, mut in_end) = (Vec::new(), None, String::new(), false);
    while end.is_none() {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l == "event: end" {
            in_end = true;
        } else if let Some(data) = l.strip_prefix("data: ") {
            if in_end {
                end = Some(data.to_string());
            } else {
                lines.push(data.to_string());
            }
        }
    }
    assert_eq!(end.as_deref(), Some("success"));
    assert!(lines.iter().any(|l| l.ends_with("| started")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("attempt 1 of task 'slow'")), "{lines:?}");
}

#[test]
fn status_and_the_remote_cli() {
    let tmp = workspace();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let status = get(addr, "/api/status").json();
    assert_eq!(status["queued_runs"], 0);
    assert!(status["resources"]["rss_bytes"].as_u64().unwrap() > 1_000_000);

    let polder = |args: &[&str]| {
        let mut full = args.to_vec();
        let to = format!("http://{addr}");
        full.extend(["--to", &to]);
        let o = std::process::Command::new(polder_bin()).args(&full).env("POLDER_TOKEN", TOKEN).output().unwrap();
        (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
    };
    let (ok, out) = polder(&["remote", "trigger", "shop", "--param", "min=5"]);
    assert!(ok && out.starts_with("started run 1 of 'shop'"), "{out}");
    wait_for_end(addr, 1);
    let (ok, out) = polder(&["remote", "runs"]);
    assert!(ok && out.contains("shop") && out.contains("success"), "{out}");
    let (ok, out) = polder(&["remote", "logs", "1", "slow"]);
    assert!(ok && out.contains("| started"), "{out}");
    let (ok, out) = polder(&["remote", "trigger", "nope"]);
    assert!(!ok && out.contains("failed (404 Not Found): no pipeline 'nope'"), "{out}");
}

#[test]
fn the_plan_check_names_failing_queries_and_each_engine_before_any_run() {
    let tmp = workspace();
    let dir = tmp.path().join("shop");
    let spec = format!(
        "{SPEC}\n[[task]]\nid = \"by_month\"\nkind = \"sql\"\nengine = \"polars\"\nfile = \"by_month.sql\"\n\n[[task]]\nid = \"after\"\nkind = \"sql\"\nsql = \"SELECT * FROM by_month\"\n"
    );
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    std::fs::write(dir.join("by_month.sql"), "SELECT customer,\n  date_trunc('month', amount) AS m\nFROM orders").unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let c = get(addr, "/api/pipelines/shop/check").json();
    assert_eq!(c["problems"].as_array().unwrap().len(), 1, "{c}");
    let p = &c["problems"][0];
    assert_eq!(
        (p["task"].as_str(), p["file"].as_str(), &p["line"], &p["col"]),
        (Some("by_month"), Some("by_month.sql"), &serde_json::json!(2), &serde_json::json!(3)),
        "{c}"
    );
    assert!(p["message"].as_str().unwrap().contains("unsupported function 'date_trunc'"), "{c}");
    assert_eq!(c["engines"]["totals"], serde_json::json!({ "engine": "duckdb", "auto": true, "why": null }), "{c}");
    assert_eq!(c["engines"]["by_month"]["engine"], "polars", "{c}");
    assert_eq!(c["unchecked"], serde_json::json!([{ "task": "after", "why": "upstream 'by_month': its query fails" }]), "{c}");
    // Nothing ran, and the check left nothing behind.
    assert_eq!(get(addr, "/api/runs?pipeline=shop").json().as_array().map(|a| a.len()), Some(0));
    assert!(std::fs::read_dir(tmp.path().join(".polder")).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("plancheck")));
    assert_eq!(get(addr, "/api/pipelines/nope/check").status, 404);
}
