//! The routes the IDE needs beyond plain authoring: layout and notes files beside the pipeline,
//! output schemas for completion, newest-output stats, sorted/filtered pages served from the
//! view cache, exports, and SQL errors that say where they are.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::*;

/// A pipeline `nums`: `n` has ids 0..5000 with `id % 7` and a label; `total` sums it.
fn write_pipeline(ws: &Path) {
    let dir = ws.join("nums");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("pipeline.toml"),
        "# numbers for the grid\n[pipeline]\nname = \"nums\"\n\n\
         [[task]]\nid = \"n\"\nkind = \"sql\"\nengine = \"duckdb\"\n\
         sql = \"SELECT range AS id, range % 7 AS m, 'row ' || range AS label FROM range(5000)\"\n\n\
         [[task]]\nid = \"total\"\nkind = \"sql\"\nsql = \"SELECT SUM(id) AS s FROM n\"\n",
    )
    .unwrap();
}

#[test]
fn layout_and_notes_live_beside_the_pipeline_and_follow_renames() {
    let tmp = tempfile::tempdir().unwrap();
    write_pipeline(tmp.path());
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let dir = tmp.path().join("nums");

    assert_eq!(get(addr, "/api/pipelines/nums/layout").json(), json!({ "positions": {} }));
    let layout = json!({ "positions": { "n": { "x": 10.5, "y": -4.0 }, "total": { "x": 200.0, "y": 0.0 } } });
    assert_eq!(send(addr, "PUT", "/api/pipelines/nums/layout", layout.clone()).status, 200);
    assert_eq!(get(addr, "/api/pipelines/nums/layout").json(), layout);
    let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("layout.json")).unwrap()).unwrap();
    assert_eq!(on_disk, layout);

    let notes = json!({ "notes": [
        { "id": "intro", "after": null, "text": "# Numbers\n\nFive thousand of them." },
        { "id": "about-total", "after": "total", "text": "The sum is **12497500**." },
    ] });
    assert_eq!(send(addr, "PUT", "/api/pipelines/nums/notes", notes.clone()).status, 200);
    assert_eq!(get(addr, "/api/pipelines/nums/notes").json(), notes);
    let md = std::fs::read_to_string(dir.join("notes.md")).unwrap();
    assert!(md.contains("<!-- polder:note id=about-total after=total -->\nThe sum is **12497500**."), "{md}");
    let dup = json!({ "notes": [{ "id": "a", "text": "x" }, { "id": "a", "text": "y" }] });
    let r = send(addr, "PUT", "/api/pipelines/nums/notes", dup);
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("unique"));
    assert_eq!(std::fs::read_to_string(dir.join("notes.md")).unwrap(), md, "a refused write changes nothing");

    // Renaming a task moves its position and the notes that follow it.
    assert_eq!(send(addr, "POST", "/api/pipelines/nums/tasks/total/rename", json!({ "to": "sum" })).status, 200);
    assert_eq!(get(addr, "/api/pipelines/nums/layout").json()["positions"]["sum"], json!({ "x": 200.0, "y": 0.0 }));
    assert_eq!(get(addr, "/api/pipelines/nums/notes").json()["notes"][1]["after"], "sum");
    // Removing it drops the position; its notes move up to its upstream.
    assert_eq!(send(addr, "DELETE", "/api/pipelines/nums/tasks/sum", json!({})).status, 200);
    assert_eq!(get(addr, "/api/pipelines/nums/layout").json(), json!({ "positions": { "n": { "x": 10.5, "y": -4.0 } } }));
    assert_eq!(get(addr, "/api/pipelines/nums/notes").json()["notes"][1]["after"], "n");
    assert!(std::fs::read_to_string(dir.join("pipeline.toml")).unwrap().starts_with("# numbers for the grid\n"));
}

#[test]
fn sql_tasks_added_with_a_file_get_it_written_and_errors_point_into_the_sql() {
    let tmp = tempfile::tempdir().unwrap();
    write_pipeline(tmp.path());
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let dir = tmp.path().join("nums");
    let run = post(addr, "/api/pipelines/nums/runs", "{}").json()["run_id"].as_i64().unwrap();
    assert_eq!(wait_for_end(addr, run)["run"]["status"], "success");

    let sql = "-- sevens\nSELECT id\nFROM n\nWHERE m = 0\n";
    let r = send(
        addr,
        "POST",
        "/api/pipelines/nums/tasks",
        json!({ "id": "sevens", "kind": "sql", "settings": { "file": "sevens.sql", "sql": sql } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(std::fs::read_to_string(dir.join("sevens.sql")).unwrap(), sql);
    let spec = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    assert!(spec.contains("id = \"sevens\"\nkind = \"sql\"\nfile = \"sevens.sql\""), "{spec}");
    assert!(r.json()["edges"].as_array().unwrap().contains(&json!({ "from": "n", "to": "sevens" })));
    assert_eq!(r.json()["order"], json!(["n", "total", "sevens"]));
    // Each task also comes as written in pipeline.toml, and with its explicit inputs.
    let sevens = r.json()["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "sevens").unwrap().clone();
    assert_eq!(sevens["spec"], json!({ "id": "sevens", "kind": "sql", "file": "sevens.sql" }));
    assert_eq!(sevens["inputs"], json!([]));

    // An existing file with other SQL is never overwritten.
    let r = send(
        addr,
        "POST",
        "/api/pipelines/nums/tasks",
        json!({ "id": "other", "kind": "sql", "settings": { "file": "sevens.sql", "sql": "SELECT 1" } }),
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("already exists"), "{}", r.text());
    assert_eq!(std::fs::read_to_string(dir.join("sevens.sql")).unwrap(), sql);

    // A preview of SQL naming a missing column says where (Polars and DuckDB).
    let bad = "SELECT id,\n       nope\nFROM n";
    let r = send(addr, "POST", "/api/pipelines/nums/tasks/sevens/preview", json!({ "sql": bad }));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["location"], json!({ "line": 2, "column": 8 }), "{}", r.text());
    let r = send(addr, "POST", "/api/pipelines/nums/tasks/n/preview", json!({ "sql": "SELECT 1 AS a,\n  zzz FROM range(3)" }));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["location"], json!({ "line": 2, "column": 3 }), "{}", r.text());
    // DuckDB's excerpt of line 1 shows the user's SQL, not the runner's COPY wrapper.
    let r = send(addr, "POST", "/api/pipelines/nums/tasks/n/preview", json!({ "sql": "SELECT nme FROM range(3)" }));
    assert_eq!(r.status, 400);
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("LINE 1: SELECT nme FROM range(3)") && !msg.contains("COPY"), "{msg}");
    assert_eq!(r.json()["location"], json!({ "line": 1, "column": 8 }), "{msg}");
    // A syntax error in a saved SQL is refused with its place; the file is unchanged.
    let r = send(addr, "PUT", "/api/pipelines/nums/tasks/sevens/sql", json!({ "sql": "SELECT id\nFORM n" }));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["location"]["line"], 2, "{}", r.text());
    assert_eq!(std::fs::read_to_string(dir.join("sevens.sql")).unwrap(), sql);

    // A failed run's task run carries the location of its error in the current SQL.
    std::fs::write(dir.join("sevens.sql"), "SELECT id,\n  missing_col\nFROM n\n").unwrap();
    let run = post(addr, "/api/pipelines/nums/runs", "{}").json()["run_id"].as_i64().unwrap();
    let d = wait_for_end(addr, run);
    assert_eq!(d["run"]["status"], "failed");
    let t = d["tasks"].as_array().unwrap().iter().find(|t| t["task_id"] == "sevens").unwrap().clone();
    assert_eq!(t["status"], "failed");
    assert_eq!(t["error_location"], json!({ "line": 2, "column": 3 }), "{t}");
    let ok = d["tasks"].as_array().unwrap().iter().find(|t| t["task_id"] == "n").unwrap().clone();
    assert!(ok.get("error_location").is_none());
}

#[test]
fn outputs_serve_schemas_stats_sorted_pages_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    write_pipeline(tmp.path());
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    // Before any run: no schemas, and stats say there is no output.
    assert_eq!(get(addr, "/api/pipelines/nums/schemas").json(), json!({ "tasks": {} }));
    assert_eq!(get(addr, "/api/pipelines/nums/tasks/n/stats").status, 404);
    let run = post(addr, "/api/pipelines/nums/runs", "{}").json()["run_id"].as_i64().unwrap();
    assert_eq!(wait_for_end(addr, run)["run"]["status"], "success");

    // Runs filter by trigger.
    assert_eq!(get(addr, "/api/runs?pipeline=nums&trigger=api").json().as_array().unwrap().len(), 1);
    assert_eq!(get(addr, "/api/runs?pipeline=nums&trigger=retry").json(), json!([]));
    assert_eq!(get(addr, "/api/runs?pipeline=nums&trigger=cli,api").json().as_array().unwrap().len(), 1);

    let s = get(addr, "/api/pipelines/nums/schemas").json();
    assert_eq!(
        s["tasks"]["n"],
        json!([{ "name": "id", "type": "i64" }, { "name": "m", "type": "i64" }, { "name": "label", "type": "str" }])
    );
    assert_eq!(s["tasks"]["total"][0]["name"], "s");

    let stats = get(addr, "/api/pipelines/nums/tasks/n/stats").json();
    assert_eq!(stats[0], json!({ "name": "id", "type": "i64", "null_count": 0, "min": "0", "max": "4999" }));

    // Sorted and filtered pages: every page of the view is consistent with the others.
    let q = "sort=m:desc,id:asc&filter=id:lt:100";
    let mut ids = Vec::new();
    for offset in [0, 10, 20] {
        let p = get(addr, &format!("/api/pipelines/nums/tasks/n/output?{q}&offset={offset}&limit=10")).json();
        assert_eq!(p["total_rows"], 100);
        ids.extend(p["rows"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()));
    }
    let mut expected: Vec<i64> = (0..100).collect();
    expected.sort_by_key(|i| (-(i % 7), *i));
    assert_eq!(ids, expected[..30]);
    // The Arrow form of the same view agrees.
    let a = get(addr, &format!("/api/pipelines/nums/tasks/n/output?{q}&offset=95&limit=10&format=arrow"));
    assert_eq!(a.header("x-total-rows"), Some("100"));
    let rows = polder_engine::inspect::ipc_to_json(&a.body).unwrap();
    let tail: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(tail, expected[95..]);

    // Export the view to CSV: the same rows, every one of them.
    let r = get(addr, &format!("/api/runs/{run}/tasks/n/output/export?format=csv&{q}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-disposition"), Some("attachment; filename=\"n.csv\""));
    let csv = r.text();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,m,label");
    assert_eq!(lines.len(), 101);
    assert_eq!(lines[1], format!("{},{},row {}", expected[0], expected[0] % 7, expected[0]));
    // Parquet export reads back with the same row count.
    let r = get(addr, "/api/pipelines/nums/tasks/n/output/export?format=parquet&filter=m:eq:3");
    assert_eq!(r.status, 200);
    let path = tmp.path().join("export.parquet");
    std::fs::write(&path, &r.body).unwrap();
    let json = polder_engine::inspect::head_json(&path, 10_000).unwrap();
    assert_eq!(json.len(), (0..5000).filter(|i| i % 7 == 3).count());
    assert!(get(addr, "/api/pipelines/nums/tasks/n/output/export?format=xlsx").status == 400);
    // Exports leave no temporary files behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join(".polder/exports")).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The next `pipeline_changed` event on an open event stream.
fn next_change(reader: &mut std::io::BufReader<std::net::TcpStream>) -> Value {
    use std::io::BufRead;
    let mut line = String::new();
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "event stream ended");
        let Some(data) = line.trim_end().strip_prefix("data: ") else { continue };
        let ev: Value = serde_json::from_str(data).unwrap();
        if ev["event"] == "pipeline_changed" {
            return ev;
        }
    }
}

#[test]
fn files_changed_on_disk_are_announced_within_a_second() {
    use std::io::{BufRead, Write};
    let tmp = tempfile::tempdir().unwrap();
    write_pipeline(tmp.path());
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let mut sse = std::net::TcpStream::connect(addr).unwrap();
    write!(sse, "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").unwrap();
    sse.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = std::io::BufReader::new(sse);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    std::thread::sleep(Duration::from_millis(500));

    // An external editor changes a file: one event names the pipeline, quickly.
    let dir = tmp.path().join("nums");
    let t0 = Instant::now();
    let spec = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    std::fs::write(dir.join("pipeline.toml"), spec.replace("SUM(id)", "SUM(id) + 0")).unwrap();
    let ev = next_change(&mut reader);
    assert!(t0.elapsed() < Duration::from_secs(1), "took {:?}", t0.elapsed());
    assert_eq!((ev["pipeline"].as_str(), ev["error"].is_null()), (Some("nums"), true), "{ev}");
    assert!(get(addr, "/api/pipelines/nums").json()["tasks"][1]["settings"]["sql"].as_str().unwrap().contains("+ 0"));

    // Broken files: the event carries the loader's message; the list shows it on the pipeline.
    std::fs::write(dir.join("pipeline.toml"), "[pipeline\nname = \"nums\"\n").unwrap();
    let ev = next_change(&mut reader);
    assert_eq!(ev["pipeline"], "nums");
    assert!(ev["error"].as_str().unwrap().contains("pipeline.toml:1"), "{ev}");
    let list = get(addr, "/api/pipelines").json();
    let entry = list.as_array().unwrap().iter().find(|p| p["dir"] == "nums").cloned().unwrap();
    assert!(entry["error"].as_str().unwrap().contains("pipeline.toml:1:10: invalid TOML"), "{list}");
}
