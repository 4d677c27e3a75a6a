//! The runner as an attacker holding the token would probe it: parameters are values on deployed
//! pipelines too, no route reads or writes a file outside its pipeline folder, and request bodies
//! and heavy work are bounded.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http::*;

/// A tar.gz bundle of `files` (name, content), as `polder deploy` would send.
fn bundle(files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, text.as_bytes()).unwrap();
    }
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn parameters_of_a_deployed_pipeline_are_values_and_are_checked_at_trigger() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let marker = tmp.path().join("pwned");
    let spec = "[pipeline]\nname = \"probe\"\n\n[params]\nx = \"hello\"\nn = 1\n\n[[task]]\nid = \"q\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT '{{ x }}' AS v, {{ n }} AS n\"\n\n[[task]]\nid = \"sh\"\nkind = \"shell\"\ncommand = \"echo {{ x }}\"\n";
    let r = request_bytes(addr, "/api/deploy", &bundle(&[("pipeline.toml", spec)]));
    assert_eq!(r.status, 201, "{}", r.text());

    let attack = format!(
        "' AS v, 1 AS n UNION ALL SELECT column0, 2 FROM read_csv('/etc/passwd', header = false) -- $(touch {})",
        marker.display()
    );
    let r = send(addr, "POST", "/api/pipelines/probe/runs", json!({ "params": { "x": attack, "n": "7" } }));
    assert_eq!(r.status, 202, "{}", r.text());
    let run = wait_for_end(addr, r.json()["run_id"].as_i64().unwrap());
    assert_eq!(run["run"]["status"], "success", "{run}");
    let page = get(addr, &format!("/api/runs/{}/tasks/q/output", run["run"]["id"])).json();
    assert_eq!(page["rows"], json!([{ "v": attack, "n": 7 }]), "{page}");
    assert!(!marker.exists(), "a parameter ran as a shell command");

    // Wrong types and unknown names are the caller's error, answered at once; no run starts.
    for (params, expected) in [
        (json!({ "n": "1 OR 1=1" }), "parameter `n` of pipeline 'probe' is a int: it must be an integer"),
        (json!({ "run_date": "yesterday" }), "must be a date written YYYY-MM-DD"),
        (json!({ "nope": "1" }), "unknown parameter `nope`"),
    ] {
        let r = send(addr, "POST", "/api/pipelines/probe/runs", json!({ "params": params }));
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.json()["message"].as_str().unwrap().contains(expected), "{}", r.text());
    }
    assert_eq!(get(addr, "/api/runs?pipeline=probe").json().as_array().unwrap().len(), 1);
    // The run dialog gets each parameter's type.
    let specs = get(addr, "/api/pipelines/probe").json()["param_specs"].clone();
    assert_eq!(
        specs,
        json!([{ "name": "x", "type": "string", "default": "hello", "description": null }, { "name": "n", "type": "int", "default": "1", "description": null }])
    );
}

#[test]
fn no_route_reads_or_writes_outside_the_pipeline_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(ws.join("shop")).unwrap();
    let (addr, _) = start(&ws, Some(TOKEN));
    std::fs::write(
        ws.join("shop/pipeline.toml"),
        "[pipeline]\nname = \"shop\"\n\n[[task]]\nid = \"t\"\nkind = \"sql\"\nfile = \"t.sql\"\n",
    )
    .unwrap();
    std::fs::write(ws.join("shop/t.sql"), "SELECT 1 AS a\n").unwrap();
    let victim = tmp.path().join("victim.sql");
    std::fs::write(&victim, "SELECT 'untouched' AS v\n").unwrap();

    // PATCH cannot point a task's file outside, even at a file that exists …
    let r = send(addr, "PATCH", "/api/pipelines/shop/tasks/t", json!({ "settings": { "file": "../../victim.sql" } }));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("resolves outside the pipeline folder"), "{}", r.text());
    // … nor by a symlink inside the folder; so PUT …/sql never writes through it.
    std::os::unix::fs::symlink(&victim, ws.join("shop/link.sql")).unwrap();
    let r = send(addr, "PATCH", "/api/pipelines/shop/tasks/t", json!({ "settings": { "file": "link.sql" } }));
    assert_eq!(r.status, 400, "{}", r.text());
    let r = send(addr, "PUT", "/api/pipelines/shop/tasks/t/sql", json!({ "sql": "SELECT 2 AS a" }));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "SELECT 'untouched' AS v\n");
    assert_eq!(std::fs::read_to_string(ws.join("shop/t.sql")).unwrap(), "SELECT 2 AS a");

    // Layout and notes that are symlinks out of the folder are neither read nor written.
    std::os::unix::fs::symlink("/etc/passwd", ws.join("shop/notes.md")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", ws.join("shop/layout.json")).unwrap();
    for path in ["/api/pipelines/shop/notes", "/api/pipelines/shop/layout"] {
        let r = get(addr, path);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert!(!r.text().contains("root:"), "{path} leaked a file: {}", r.text());
    }

    // A deploy bundle naming a file far outside is refused without quoting that file.
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let escape = format!("{}etc/hostname", "../".repeat(20));
    let spec = format!("[pipeline]\nname = \"dep\"\n\n[[task]]\nid = \"t\"\nkind = \"sql\"\nfile = \"{escape}\"\n");
    let r = request_bytes(addr, "/api/deploy", &bundle(&[("pipeline.toml", &spec)]));
    assert_eq!(r.status, 400, "{}", r.text());
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("resolves outside the pipeline folder"), "{message}");
    if !hostname.trim().is_empty() {
        assert!(!message.contains(hostname.trim()), "the error quotes /etc/hostname: {message}");
    }
    // So does validation of a source that reads outside.
    let r = send(
        addr,
        "POST",
        "/api/pipelines/validate",
        json!({ "spec": "[pipeline]\nname = \"v\"\n\n[[task]]\nid = \"s\"\nkind = \"source\"\nformat = \"csv\"\npath = \"/etc/*.conf\"\n" }),
    );
    assert_eq!(r.json()["valid"], false, "{}", r.text());
    assert!(r.text().contains("resolves outside the pipeline folder"), "{}", r.text());
    // Validation reads `.sql` files from `dir`, which must lie inside the workspace.
    let spec = "[pipeline]\nname = \"v\"\n\n[[task]]\nid = \"t\"\nkind = \"sql\"\nfile = \"passwd\"\n";
    for dir in ["/etc", "../..", "shop/../../.."] {
        let r = send(addr, "POST", "/api/pipelines/validate", json!({ "spec": spec, "dir": dir }));
        assert_eq!(r.status, 400, "{dir}: {}", r.text());
        assert!(!r.text().contains("root:"), "{dir}: {}", r.text());
    }
}

#[test]
fn request_bodies_are_bounded_and_big_pipelines_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    // 5 MB of JSON to a JSON route: refused before it is parsed.
    // Sent as careful clients send big bodies (`Expect: 100-continue`): a server that refuses
    // by Content-Length answers before the body, which it then never reads. Writing the body
    // regardless raced the server's close (a broken pipe, or the answer lost to the reset).
    let big = json!({ "spec": "#".repeat(5 << 20) }).to_string();
    let status = {
        use std::io::{BufRead, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let head = format!(
            "POST /api/pipelines/validate HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            big.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let mut line = String::new();
        std::io::BufReader::new(s.try_clone().unwrap()).read_line(&mut line).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u16>().unwrap()
    };
    assert_eq!(status, 413, "the body was asked for instead of refused");
    // A body under the limit is read as before (here: not JSON, so 400).
    let r = request(addr, "POST", "/api/pipelines/validate", Some(TOKEN), None, Some(&"x".repeat(64 << 10)));
    assert_eq!(r.status, 400, "{}", r.text());
    // Deploys keep their own larger limit: 5 MB of junk is read and refused as a bad bundle.
    let junk: Vec<u8> = (0..5u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let r = request_bytes(addr, "/api/deploy", &junk);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("not a valid tar.gz bundle"), "{}", r.text());

    // A 10,000-task pipeline (about 1 MB) validates, with every task and edge.
    let mut spec =
        String::from("[pipeline]\nname = \"wide\"\n\n[[task]]\nid = \"t0\"\nkind = \"sql\"\nsql = \"SELECT 1 AS a\"\n");
    for i in 1..10_000 {
        spec.push_str(&format!("\n[[task]]\nid = \"t{i}\"\nkind = \"sql\"\nsql = \"SELECT a FROM t{}\"\n", i - 1));
    }
    let r = send(addr, "POST", "/api/pipelines/validate", json!({ "spec": spec }));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["valid"], true, "{}", &r.text()[..r.text().len().min(500)]);
    assert_eq!(v["tasks"].as_array().unwrap().len(), 10_000);
    assert_eq!(v["edges"].as_array().unwrap().len(), 9_999);
    assert_eq!(v["edges"][9_998], json!({ "from": "t9998", "to": "t9999" }));
}

#[test]
fn heavy_requests_leave_the_async_workers_free() {
    // Four validations of a 20,000-task pipeline at once on a 2-worker runner: a light request
    // sent while they are in flight is answered before the first of them is done (it used to
    // wait behind them: validation ran on the async workers).
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let mut spec = String::from("[pipeline]\nname = \"wide\"\n");
    for i in 0..20_000 {
        spec.push_str(&format!("\n[[task]]\nid = \"t{i}\"\nkind = \"sql\"\nsql = \"SELECT {i} AS a\"\n"));
    }
    let body = json!({ "spec": spec }).to_string();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    for _ in 0..4 {
        let (body, done_tx) = (body.clone(), done_tx.clone());
        std::thread::spawn(move || {
            let r = request(addr, "POST", "/api/pipelines/validate", Some(TOKEN), None, Some(&body));
            done_tx.send((r.status, Instant::now())).unwrap();
        });
    }
    std::thread::sleep(Duration::from_millis(50));
    let r = get(addr, "/api/pipelines");
    let answered = Instant::now();
    assert_eq!(r.status, 200);
    let finished: Vec<(u16, Instant)> = (0..4).map(|_| done_rx.recv().unwrap()).collect();
    assert!(finished.iter().all(|(s, _)| *s == 200), "{:?}", finished.iter().map(|f| f.0).collect::<Vec<_>>());
    let first = finished.iter().map(|f| f.1).min().unwrap();
    assert!(answered < first, "the list waited for a validation to finish");
}
