//! Authoring over HTTP: edits go through the engine's editor, keep hand-written comments and
//! order, refuse invalid edits without touching files; previews run one task with a limit.

use serde_json::json;

use crate::http::*;

#[test]
fn edit_a_pipeline_keeping_comments_and_preview_its_tasks() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let r = send(addr, "POST", "/api/pipelines", json!({ "name": "shop", "description": "Orders" }));
    assert_eq!(r.status, 201, "{}", r.text());
    let dir = tmp.path().join("shop");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/orders.csv"), "id,customer,amount\n1,ann,10\n2,bob,5\n3,ann,7\n").unwrap();
    // A hand-written comment that every later edit must keep.
    let spec = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    std::fs::write(dir.join("pipeline.toml"), format!("# Hand-written header: keep me\n{spec}")).unwrap();

    let r = send(
        addr,
        "POST",
        "/api/pipelines/shop/tasks",
        json!({ "id": "orders", "kind": "source", "settings": { "format": "csv", "path": "data/orders.csv" } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::fs::write(dir.join("totals.sql"), "-- totals per customer\nSELECT 1 AS placeholder\n").unwrap();
    let r = send(
        addr,
        "POST",
        "/api/pipelines/shop/tasks",
        json!({ "id": "totals", "kind": "sql", "settings": { "file": "totals.sql" } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        addr,
        "PUT",
        "/api/pipelines/shop/tasks/totals/sql",
        json!({ "sql": "-- totals per customer\nSELECT customer, SUM(amount) AS total FROM orders GROUP BY customer ORDER BY customer\n" }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["edges"], json!([{ "from": "orders", "to": "totals" }]));
    assert!(std::fs::read_to_string(dir.join("totals.sql")).unwrap().contains("SUM(amount)"));

    // Previewing needs the upstream's output: run once, then preview saved and unsaved SQL.
    let run = post(addr, "/api/pipelines/shop/runs", "{}").json()["run_id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while get(addr, &format!("/api/runs/{run}")).json()["run"]["status"] == "running" {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let p = send(addr, "POST", "/api/pipelines/shop/tasks/totals/preview", json!({ "limit": 10 })).json();
    assert_eq!(p["rows"], json!([{ "customer": "ann", "total": 17 }, { "customer": "bob", "total": 5 }]), "{p}");
    let p = send(addr, "POST", "/api/pipelines/shop/tasks/totals/preview", json!({ "sql": "SELECT COUNT(*) AS n FROM orders" }))
        .json();
    assert_eq!(p["rows"], json!([{ "n": 3 }]), "{p}");
    let p = send(addr, "POST", "/api/pipelines/shop/tasks/orders/preview", json!({ "limit": 1 })).json();
    assert_eq!(p["rows"].as_array().unwrap().len(), 1);
    let bad = send(addr, "POST", "/api/pipelines/shop/tasks/totals/preview", json!({ "sql": "SELECT nope FROM orders" }));
    assert_eq!(bad.status, 400);
    // `auto` hands a query Polars cannot plan to DuckDB, whose message points at the column.
    assert!(bad.json()["message"].as_str().unwrap().starts_with("SQL error (duckdb)"), "{}", bad.text());
    assert_eq!(bad.json()["location"], json!({ "line": 1, "column": 8 }), "{}", bad.text());

    // Update, rename and edges.
    let r = send(
        addr,
        "PATCH",
        "/api/pipelines/shop/tasks/orders",
        json!({ "settings": { "description": "raw orders", "retries": 2 } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        addr,
        "POST",
        "/api/pipelines/shop/tasks",
        json!({ "id": "notify", "kind": "shell", "settings": { "command": "echo done" } }),
    );
    assert_eq!(r.status, 200);
    let r = send(addr, "PUT", "/api/pipelines/shop/tasks/notify/inputs", json!({ "inputs": ["totals"] }));
    assert_eq!(r.json()["edges"].as_array().unwrap().len(), 2);
    let r = send(addr, "POST", "/api/pipelines/shop/tasks/notify/rename", json!({ "to": "announce" }));
    assert_eq!(r.status, 200, "{}", r.text());

    // Invalid edits are refused with the engine's message, and the files stay as they were.
    let before = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    let sql_before = std::fs::read_to_string(dir.join("totals.sql")).unwrap();
    let cases = [
        ("POST", "/api/pipelines/shop/tasks", json!({ "id": "x", "kind": "sqll" }), "unknown kind `sqll`"),
        ("PUT", "/api/pipelines/shop/tasks/totals/sql", json!({ "sql": "SELECT * FROM order" }), "reads table 'order'"),
        ("PUT", "/api/pipelines/shop/tasks/orders/inputs", json!({ "inputs": ["announce"] }), "dependency cycle"),
        ("DELETE", "/api/pipelines/shop/tasks/orders", json!({}), "which is not a task of this pipeline"),
        ("PATCH", "/api/pipelines/shop/tasks/orders", json!({ "settings": { "paht": "x" } }), "unknown field `paht`"),
    ];
    for (method, path, body, why) in cases {
        let r = send(addr, method, path, body);
        assert_eq!(r.status, 400, "{why}: {}", r.text());
        assert!(r.json()["message"].as_str().unwrap().contains(why), "{why}: {}", r.text());
    }
    assert_eq!(std::fs::read_to_string(dir.join("pipeline.toml")).unwrap(), before);
    assert_eq!(std::fs::read_to_string(dir.join("totals.sql")).unwrap(), sql_before);

    // The file reads as a person would have written it: comment first, tasks in order.
    let text = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    assert!(
        text.starts_with("# Hand-written header: keep me\n[pipeline]\nname = \"shop\"\ndescription = \"Orders\"\n"),
        "{text}"
    );
    let ids: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("id = ")).collect();
    assert_eq!(ids, ["\"orders\"", "\"totals\"", "\"announce\""]);
    assert!(text.contains("description = \"raw orders\"\nretries = 2"), "{text}");
    let p = get(addr, "/api/pipelines/shop").json();
    assert_eq!(p["tasks"][2]["upstream"], json!(["totals"]));
    assert_eq!(send(addr, "POST", "/api/pipelines", json!({ "name": "shop" })).status, 409);
}

/// Every route that takes a pipeline, task or remote name answers 400 for a name that cannot
/// exist (300 characters, a path), with a message that shows no file-system path.
#[test]
fn impossible_names_are_400_without_a_path_in_the_message() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    assert_eq!(send(addr, "POST", "/api/pipelines", json!({ "name": "shop" })).status, 201);
    let long = "p".repeat(300);
    let root = tmp.path().display().to_string();
    let no_path = |r: &Resp, what: &str| {
        assert_eq!(r.status, 400, "{what}: {}", r.text());
        let m = r.json()["message"].as_str().unwrap().to_string();
        assert!(!m.contains(&root) && !m.contains("/tmp") && !m.contains(&long), "{what}: {m}");
        m
    };
    let m = no_path(&get(addr, &format!("/api/pipelines/{long}")), "get");
    assert!(m.contains("pipeline name") && m.contains("300 characters"), "{m}");
    no_path(&send(addr, "POST", "/api/pipelines", json!({ "name": long })), "create");
    for (method, path) in [
        ("POST", format!("/api/pipelines/{long}/runs")),
        ("POST", format!("/api/pipelines/{long}/tasks")),
        ("GET", format!("/api/pipelines/{long}/layout")),
        ("PUT", format!("/api/pipelines/{long}/notes")),
        ("GET", format!("/api/pipelines/{long}/versions")),
        ("GET", format!("/api/pipelines/{long}/schemas")),
        ("POST", format!("/api/pipelines/{long}/deploy")),
        ("GET", format!("/api/pipelines/{long}/tasks/t/output")),
        ("GET", "/api/pipelines/..%2F..%2Fetc/versions".to_string()),
        ("GET", format!("/api/pipelines/shop/tasks/{}/output", "t".repeat(300))),
        ("PATCH", format!("/api/pipelines/shop/tasks/{}", "t".repeat(300))),
        ("GET", format!("/api/runs/1/tasks/{}/log", "t".repeat(300))),
        ("PUT", format!("/api/remotes/{long}")),
        ("GET", format!("/api/remotes/{long}/api/runs")),
    ] {
        no_path(&send(addr, method, &path, json!({})), &format!("{method} {path}"));
    }
    // The folder exists already: refused without naming where.
    std::fs::create_dir_all(tmp.path().join("taken")).unwrap();
    let m = no_path(&send(addr, "POST", "/api/pipelines", json!({ "name": "taken" })), "exists");
    assert!(m.contains("'taken'"), "{m}");
}
