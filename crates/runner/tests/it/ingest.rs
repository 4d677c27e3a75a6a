//! REST ingest over real HTTP: every body format, refused batches (row and column named, nothing
//! kept), flush to a local folder and to the real S3 server, the day merge, a pipeline started by
//! a flush, ingest tokens, metrics; and a crash test that SIGKILLs `polder serve` while clients
//! post numbered rows.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polars::prelude::*;

use crate::http::*;

const EVENTS: &str = "description = \"Click events\"\nevent_time = \"ts\"\n[columns]\nid = \"i64 not null\"\nts = \"timestamp not null\"\nuser = \"str\"\namount = \"f64\"\n[target]\npath = \"lake/events\"\n[flush]\nmax_rows = 1000000\nmax_age_secs = 3600\n";

/// Sends `body` with `content_type` and `token` (None: no Authorization).
fn post_body(addr: SocketAddr, path: &str, token: Option<&str>, content_type: &str, body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    read_response(s)
}

fn post_json(addr: SocketAddr, dataset: &str, body: serde_json::Value) -> Resp {
    post_body(addr, &format!("/api/ingest/{dataset}"), Some(TOKEN), "application/json", body.to_string().as_bytes())
}

fn workspace(datasets: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("ingest")).unwrap();
    for (name, decl) in datasets {
        std::fs::write(tmp.path().join("ingest").join(format!("{name}.toml")), decl).unwrap();
    }
    tmp
}

fn pipeline(ws: &Path, name: &str, toml: &str) {
    std::fs::create_dir_all(ws.join(name)).unwrap();
    std::fs::write(ws.join(name).join("pipeline.toml"), toml).unwrap();
}

fn dataset(addr: SocketAddr, name: &str) -> serde_json::Value {
    get(addr, &format!("/api/datasets/{name}")).json()
}

/// Ids in Parquet files (local paths), sorted, duplicates kept.
fn ids_in(files: &[String]) -> Vec<i64> {
    let mut ids = Vec::new();
    for f in files {
        let df = LazyFrame::scan_parquet(PlRefPath::try_from_path(Path::new(f)).unwrap(), Default::default())
            .unwrap()
            .select([col("id")])
            .collect()
            .unwrap();
        ids.extend(df.column("id").unwrap().i64().unwrap().into_no_null_iter());
    }
    ids.sort_unstable();
    ids
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn row(id: i64, day: u32, hour: u32) -> serde_json::Value {
    serde_json::json!({ "id": id, "ts": format!("2026-12-{day:02}T{hour:02}:00:00Z"), "user": format!("u{id}"), "amount": id as f64 / 4.0 })
}

#[test]
fn rows_are_checked_made_durable_flushed_merged_read_and_trigger_pipelines() {
    let tmp = workspace(&[("events", EVENTS), ("small", &EVENTS.replace("[flush]", "[limits]\nmax_body = \"1KB\"\n[flush]"))]);
    let ws = tmp.path();
    let reader = |name: &str, extra: &str| {
        format!("[pipeline]\nname = \"{name}\"\n{extra}\n[[task]]\nid = \"events\"\nkind = \"source\"\nformat = \"dataset\"\ndataset = \"events\"\n{}\n[[task]]\nid = \"totals\"\nkind = \"sql\"\nsql = \"SELECT count(*) AS n, sum(id) AS ids, count(DISTINCT id) AS distinct_ids FROM events\"\n",
            if name == "live" { "include_unflushed = true" } else { "" })
    };
    pipeline(ws, "report", &reader("report", "[trigger]\non_dataset = \"events\"\n"));
    pipeline(ws, "live", &reader("live", ""));
    let (addr, _) = start(ws, Some(TOKEN));

    // Every body format.
    assert_eq!(post_json(addr, "events", row(1, 1, 10)).json()["accepted"], 1);
    assert_eq!(post_json(addr, "events", serde_json::json!([row(2, 1, 11), row(3, 1, 12), row(4, 1, 13)])).json()["accepted"], 3);
    let nd = format!("{}\n{}\n", row(5, 2, 1), row(6, 2, 2));
    let r = post_body(addr, "/api/ingest/events", Some(TOKEN), "application/x-ndjson", nd.as_bytes());
    assert_eq!((r.status, r.json()["accepted"].as_u64()), (200, Some(2)));
    let mut df = df!(
        "id" => [7i64, 8],
        "ts" => [1_796_169_600_000i64 + 3 * 3_600_000, 1_796_169_600_000 + 4 * 3_600_000],
        "user" => ["u7", "u8"],
    )
    .unwrap();
    df.with_column(df.column("ts").unwrap().cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).unwrap()).unwrap();
    let mut ipc = Vec::new();
    IpcStreamWriter::new(&mut ipc).finish(&mut df).unwrap();
    let r = post_body(addr, "/api/ingest/events", Some(TOKEN), "application/vnd.apache.arrow.stream", &ipc);
    assert_eq!((r.status, r.json()["accepted"].as_u64()), (200, Some(2)), "{}", r.text());

    // Refused batches name the row and the column, and keep nothing.
    let refused = |r: Resp, status: u16, row: Option<u64>, column: Option<&str>, says: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        let j = r.json();
        assert_eq!(j["row"].as_u64(), row, "{j}");
        assert_eq!(j["column"].as_str(), column, "{j}");
        assert!(j["message"].as_str().unwrap().contains(says), "{j}");
    };
    let bad_type = serde_json::json!([row(9, 1, 1), {"id": "ten", "ts": "2026-12-01T00:00:00Z"}]);
    refused(post_json(addr, "events", bad_type), 422, Some(1), Some("id"), "expected a whole number, got a string");
    refused(
        post_json(addr, "events", serde_json::json!([{"id": 9}])),
        422,
        Some(0),
        Some("ts"),
        "missing, and the column is not null",
    );
    let unknown = serde_json::json!({"id": 9, "ts": "2026-12-01T00:00:00Z", "color": "red"});
    refused(post_json(addr, "events", unknown), 422, Some(0), Some("color"), "not a column of dataset 'events'");
    let r = post_body(addr, "/api/ingest/events", Some(TOKEN), "text/csv", b"id\n1\n");
    refused(r, 415, None, None, "Content-Type `text/csv` is not taken");
    let r = post_body(addr, "/api/ingest/events", Some(TOKEN), "application/json", b"{\"id\":");
    refused(r, 400, None, None, "not JSON");
    let nd_bad = format!("{}\n{{\"id\": 2, \"ts\": \"yesterday\"}}\n", row(9, 1, 1));
    let r = post_body(addr, "/api/ingest/events", Some(TOKEN), "application/x-ndjson", nd_bad.as_bytes());
    refused(r, 422, Some(1), Some("ts"), "not an RFC 3339 timestamp");
    refused(post_json(addr, "nope", row(1, 1, 1)), 404, None, None, "declare it in ingest/nope.toml");
    let big: Vec<serde_json::Value> = (0..50).map(|i| row(i, 1, 1)).collect();
    refused(post_json(addr, "small", serde_json::Value::Array(big)), 413, None, None, "limit of 1000 bytes");
    let d = dataset(addr, "events");
    assert_eq!((d["rows_pending"].as_u64(), d["rows_received"].as_u64()), (Some(8), Some(8)), "{d}");
    assert_eq!(d["batches_rejected"], 6);
    assert_eq!(d["files"].as_array().unwrap().len(), 0);

    // Rows still in the log are readable when asked for.
    let run = post(addr, "/api/pipelines/live/runs", "{}").json()["run_id"].as_i64().unwrap();
    assert_eq!(wait_for_end(addr, run)["run"]["status"], "success");
    let page = get(addr, &format!("/api/runs/{run}/tasks/totals/output")).json();
    assert_eq!((page["rows"][0]["n"].as_i64(), page["rows"][0]["ids"].as_i64()), (Some(8), Some(36)), "{page}");

    // Flush: one file per day, exactly the acknowledged rows; the flush starts `report`.
    let f = post(addr, "/api/datasets/events/flush", "").json();
    assert_eq!(f["rows"], 8, "{f}");
    let files: Vec<String> = f["files"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(files.len(), 2);
    assert!(files[0].starts_with("day=2026-12-01/flush-") && files[1].starts_with("day=2026-12-02/flush-"), "{files:?}");
    let d = dataset(addr, "events");
    let live_files: Vec<String> = d["files"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(ids_in(&live_files), (1..=8).collect::<Vec<_>>());
    assert_eq!((d["rows_pending"].as_u64(), d["rows_flushed"].as_u64(), d["flushes"].as_u64()), (Some(0), Some(8), Some(1)));
    let day2 = LazyFrame::scan_parquet(PlRefPath::try_from_path(Path::new(&live_files[1])).unwrap(), Default::default())
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(day2.column("ts").unwrap().dtype(), &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)));
    assert_eq!(day2.column("user").unwrap().str().unwrap().get(2), Some("u7"));
    assert_eq!(day2.column("amount").unwrap().f64().unwrap().get(0), Some(1.25));
    let triggered = || {
        get(addr, "/api/runs?pipeline=report")
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["trigger"] == "dataset:events" && r["status"] != "running")
            .cloned()
    };
    wait_for("the triggered run of report", 60, || triggered().is_some());
    let t = triggered().unwrap();
    assert_eq!(t["status"], "success", "{t}");
    let page = get(addr, &format!("/api/runs/{}/tasks/totals/output", t["id"])).json();
    assert_eq!((page["rows"][0]["n"].as_i64(), page["rows"][0]["distinct_ids"].as_i64()), (Some(8), Some(8)), "{page}");

    // Late rows for day 1, flushed, then merged into one file sorted by ts.
    assert_eq!(post_json(addr, "events", serde_json::json!([row(9, 1, 0), row(10, 1, 23)])).status, 200);
    assert_eq!(post(addr, "/api/datasets/events/flush", "").json()["rows"], 2);
    let m = post(addr, "/api/datasets/events/merge?all=true", "").json();
    assert_eq!(m["days"], serde_json::json!(["2026-12-01"]), "{m}");
    assert_eq!(m["files_in"], 2);
    let d = dataset(addr, "events");
    let live_files: Vec<String> = d["files"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(live_files.len(), 2);
    assert!(live_files.iter().any(|f| f.contains("day=2026-12-01/merged-")), "{live_files:?}");
    assert_eq!(ids_in(&live_files), (1..=10).collect::<Vec<_>>());
    let merged = live_files.iter().find(|f| f.contains("merged-")).unwrap();
    let day1 = LazyFrame::scan_parquet(PlRefPath::try_from_path(Path::new(merged)).unwrap(), Default::default())
        .unwrap()
        .collect()
        .unwrap();
    let order: Vec<i64> = day1.column("id").unwrap().i64().unwrap().into_no_null_iter().collect();
    assert_eq!(order, [9, 1, 2, 3, 4, 10]);

    // The grid reads a dataset like any output (sorted, paged, with unflushed rows on request).
    let page = get(addr, "/api/datasets/events/output?limit=3&sort=id:desc").json();
    assert_eq!(page["total_rows"], 10, "{page}");
    assert_eq!(page["rows"][0]["id"], 10);
    assert_eq!(post_json(addr, "events", row(11, 3, 1)).status, 200);
    assert_eq!(get(addr, "/api/datasets/events/output?limit=1").json()["total_rows"], 10);
    assert_eq!(get(addr, "/api/datasets/events/output?limit=1&include_unflushed=true").json()["total_rows"], 11);

    // Ingest tokens post to their datasets and do nothing else.
    let created = send(addr, "POST", "/api/ingest-tokens", serde_json::json!({"name": "web app", "datasets": ["events"]}));
    assert_eq!(created.status, 201, "{}", created.text());
    let token = created.json()["token"].as_str().unwrap().to_string();
    let id = created.json()["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("pit_"));
    let with = |path: &str, body: serde_json::Value| {
        post_body(addr, path, Some(&token), "application/json", body.to_string().as_bytes()).status
    };
    assert_eq!(with("/api/ingest/events", row(12, 3, 2)), 200);
    assert_eq!(with("/api/ingest/small", row(12, 3, 2)), 401);
    assert_eq!(with("/api/pipelines/report/runs", serde_json::json!({})), 401);
    assert_eq!(with("/api/datasets/events/flush", serde_json::json!({})), 401);
    assert_eq!(request(addr, "GET", "/api/datasets", Some(&token), None, None).status, 401);
    assert_eq!(request(addr, "GET", "/api/datasets/events/output", Some(&token), None, None).status, 401);
    let listed = get(addr, "/api/ingest-tokens").text();
    assert!(listed.contains("web app") && !listed.contains(&token) && !listed.contains(&token[4..]), "{listed}");
    assert_eq!(request(addr, "DELETE", &format!("/api/ingest-tokens/{id}"), Some(TOKEN), None, None).status, 204);
    assert_eq!(with("/api/ingest/events", row(13, 3, 3)), 401);
    assert_eq!(post_body(addr, "/api/ingest/events", None, "application/json", b"{}").status, 401);

    let metrics = get(addr, "/metrics").text();
    assert!(metrics.contains("polder_ingest_rows_total{dataset=\"events\"} 12"), "{metrics}");
    assert!(metrics.contains("polder_ingest_pending_rows{dataset=\"events\"} 2"), "{metrics}");
    assert!(metrics.contains("polder_ingest_rejected_total{dataset=\"small\"} 1"), "{metrics}");
}

#[test]
fn a_full_log_answers_429_and_a_broken_declaration_is_named() {
    let full = EVENTS.replace("[flush]", "[limits]\nmax_wal = \"100B\"\n[flush]");
    let tmp = workspace(&[("events", &full), ("broken", "[columns]\nid = \"int64\"\n[target]\npath = \"x\"\n")]);
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let first = serde_json::json!([row(1, 1, 1), row(2, 1, 1), row(3, 1, 1)]).to_string();
    let keyed = |body: &str| {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "POST /api/ingest/events HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\nIdempotency-Key: first\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        read_response(s)
    };
    assert_eq!(keyed(&first).json(), serde_json::json!({"accepted": 3, "duplicate": false}));
    // The log is full now, but a resend of a stored batch is answered as stored, not with 429.
    assert_eq!(keyed(&first).json(), serde_json::json!({"accepted": 3, "duplicate": true}));
    let r = post_json(addr, "events", row(4, 1, 1));
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.json()["message"].as_str().unwrap().contains("waiting for a flush"));
    assert_eq!(post(addr, "/api/datasets/events/flush", "").json()["rows"], 3);
    assert_eq!(post_json(addr, "events", row(4, 1, 1)).status, 200, "room again after the flush");
    let r = post_json(addr, "broken", row(1, 1, 1));
    assert_eq!(r.status, 404);
    assert!(r.json()["message"].as_str().unwrap().contains("broken.toml:2"), "{}", r.text());
    let list = get(addr, "/api/datasets").json();
    assert_eq!(list["problems"][0]["name"], "broken");
    // A deploy that reads a dataset this runner does not declare is refused, naming it.
    let src = tempfile::tempdir().unwrap();
    pipeline(src.path(), "clicks", "[pipeline]\nname = \"clicks\"\n[trigger]\non_dataset = \"clicks\"\n\n[[task]]\nid = \"e\"\nkind = \"source\"\nformat = \"dataset\"\ndataset = \"events\"\n");
    let r = request_bytes(addr, "/api/deploy", &polder_runner::deploys::bundle(&src.path().join("clicks")).unwrap());
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("uses datasets this runner does not declare: clicks;"), "{}", r.text());
    assert!(list["problems"][0]["message"].as_str().unwrap().contains("unknown type `int64`"));
}

#[test]
fn datasets_flush_into_the_real_s3_server_and_pipelines_read_them() {
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n} is not set: run scripts/test.sh"));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let url = format!("s3://polder/it/runner-ingest-{nanos}");
    let decl = EVENTS.replace("path = \"lake/events\"", &format!("path = \"{url}\"\nconnection = \"lake\""));
    let tmp = workspace(&[("events", &decl)]);
    std::fs::write(
        tmp.path().join("connections.toml"),
        format!(
            "[connections.lake]\ntype = \"s3\"\nendpoint = \"{}\"\nregion = \"{}\"\naccess_key_id = \"${{env:POLDER_TEST_S3_KEY_ID}}\"\nsecret_access_key = \"${{env:POLDER_TEST_S3_SECRET}}\"\n",
            var("POLDER_TEST_S3_ENDPOINT"),
            var("POLDER_TEST_S3_REGION")
        ),
    )
    .unwrap();
    pipeline(
        tmp.path(),
        "fromlake",
        &format!("[pipeline]\nname = \"fromlake\"\n\n[[task]]\nid = \"events\"\nkind = \"source\"\nformat = \"dataset\"\ndataset = \"events\"\n\n[[task]]\nid = \"raw\"\nkind = \"source\"\nformat = \"parquet\"\npath = \"{url}\"\nconnection = \"lake\"\n\n[[task]]\nid = \"totals\"\nkind = \"sql\"\nsql = \"SELECT (SELECT count(*) FROM events) AS n, (SELECT sum(id) FROM raw) AS ids\"\n"),
    );
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let rows: Vec<serde_json::Value> = (1..=200).map(|i| row(i, 1 + (i % 3) as u32, (i % 24) as u32)).collect();
    assert_eq!(post_json(addr, "events", serde_json::Value::Array(rows)).status, 200);
    let f = post(addr, "/api/datasets/events/flush", "").json();
    assert_eq!(f["rows"], 200, "{f}");
    assert_eq!(f["files"].as_array().unwrap().len(), 3);
    let files = dataset(addr, "events")["files"].as_array().unwrap().clone();
    assert!(files.iter().all(|f| f.as_str().unwrap().starts_with(&format!("{url}/day=2026-12-0"))), "{files:?}");
    let run = post(addr, "/api/pipelines/fromlake/runs", "{}").json()["run_id"].as_i64().unwrap();
    let end = wait_for_end(addr, run);
    assert_eq!(end["run"]["status"], "success", "{end}");
    let page = get(addr, &format!("/api/runs/{run}/tasks/totals/output")).json();
    assert_eq!((page["rows"][0]["n"].as_i64(), page["rows"][0]["ids"].as_i64()), (Some(200), Some(20100)), "{page}");
    // The grid shows local datasets only, and says so.
    let r = get(addr, "/api/datasets/events/output");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("object storage"));
}

/// The runner as a process, on `port` (0: any), with its address; None when it did not start
/// (the port not free yet).
fn try_serve(ws: &Path, port: u16) -> Option<(std::process::Child, SocketAddr)> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(polder_bin())
        .args(["--workspace", &ws.display().to_string(), "serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("POLDER_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    match line.trim().rsplit("http://").next().unwrap().parse() {
        Ok(addr) => Some((child, addr)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }
}

fn serve(ws: &Path, port: u16) -> (std::process::Child, SocketAddr) {
    for _ in 0..100 {
        if let Some(started) = try_serve(ws, port) {
            return started;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("polder serve did not start on port {port}");
}

/// Resent batches the runner had stored already (their first answer was lost to a kill).
static RESENT_STORED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One POST (no keep-alive) with an idempotency key and a timeout; None when no full answer came
/// (connection refused, reset by the kill, or cut off).
fn try_post(addr: SocketAddr, key: &str, body: &[u8]) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let head = format!(
        "POST /api/ingest/events HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\nIdempotency-Key: {key}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut s, &mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let status: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
    if text.contains("\"duplicate\":true") {
        RESENT_STORED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    // Only a complete answer counts as an acknowledgement.
    (status != 200 || text.contains("\"accepted\"")).then_some(status)
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_row_and_duplicates_none() {
    // Clients resend unanswered batches with the same Idempotency-Key (checked by the test at the end).
    // Small flushes, so kills land in flushes too (cut-off flushes are redone at start).
    let decl = EVENTS.replace("max_rows = 1000000\nmax_age_secs = 3600", "max_rows = 300\nmax_age_secs = 1");
    let tmp = workspace(&[("events", &decl)]);
    let ws = tmp.path().to_path_buf();
    let (mut child, addr) = serve(&ws, 0);
    let port = addr.port();
    let acked: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
    let sent: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    const CLIENTS: i64 = 8;
    const BATCH: i64 = 20;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (acked, sent, stop) = (acked.clone(), sent.clone(), stop.clone());
            std::thread::spawn(move || {
                // Client c owns ids c, c + CLIENTS, …; a batch without an answer is sent again
                // with the same Idempotency-Key until one comes, as a careful client does.
                let mut next = c;
                let mut batch_no = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let ids: Vec<i64> = (0..BATCH).map(|k| next + k * CLIENTS).collect();
                    next += BATCH * CLIENTS;
                    batch_no += 1;
                    let key = format!("client{c}-batch{batch_no}");
                    let body: String =
                        ids.iter().map(|&i| format!("{}\n", row(i, 1 + (i % 2) as u32, (i % 24) as u32))).collect();
                    sent.lock().unwrap().extend(&ids);
                    loop {
                        match try_post(SocketAddr::from(([127, 0, 0, 1], port)), &key, body.as_bytes()) {
                            Some(200) => {
                                acked.lock().unwrap().extend(&ids);
                                break;
                            }
                            Some(429) | None => std::thread::sleep(Duration::from_millis(20)),
                            Some(other) => panic!("unexpected status {other}"),
                        }
                    }
                }
            })
        })
        .collect();
    // Pseudo-random kill moments (deterministic per run, varied across runs by the clock).
    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rand = move |lo: u64, hi: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        lo + seed % (hi - lo)
    };
    for round in 0..5 {
        let before = acked.lock().unwrap().len();
        std::thread::sleep(Duration::from_millis(rand(300, 1500)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(acked.lock().unwrap().len() > before || round > 0, "clients made no progress before the kill");
        // Restart on the same port so the clients carry on.
        child = serve(&ws, port).0;
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let f = post(addr, "/api/datasets/events/flush", "");
    assert_eq!(f.status, 200, "{}", f.text());
    let d = dataset(addr, "events");
    assert_eq!(d["rows_pending"], 0, "{d}");
    let files: Vec<String> = d["files"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let ids = ids_in(&files);
    child.kill().unwrap();
    child.wait().unwrap();

    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for id in &ids {
        *counts.entry(*id).or_default() += 1;
    }
    let dups: Vec<_> = counts.iter().filter(|(_, &n)| n > 1).map(|(id, _)| *id).collect();
    assert!(dups.is_empty(), "duplicated ids: {:?}", &dups[..dups.len().min(20)]);
    let published: BTreeSet<i64> = counts.keys().copied().collect();
    let lost: Vec<_> = acked.difference(&published).copied().collect();
    assert!(lost.is_empty(), "{} acknowledged ids lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(20)]);
    // Every batch was resent until answered, so what is published is exactly what was acknowledged.
    assert_eq!(acked, sent);
    assert_eq!(published, acked, "published rows differ from the acknowledged ones");
    assert!(acked.len() > 1000, "only {} rows acknowledged: the test did not exercise much", acked.len());
    eprintln!(
        "{} rows acknowledged across 5 kills; {} resent batches were recognised as stored",
        acked.len(),
        RESENT_STORED.load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[test]
fn the_clicks_example_turns_posted_events_into_a_daily_report() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = workspace(&[("clicks", &std::fs::read_to_string(repo.join("ingest/clicks.toml")).unwrap())]);
    pipeline(tmp.path(), "clicks_daily", &std::fs::read_to_string(repo.join("examples/clicks_daily/pipeline.toml")).unwrap());
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let click = |id: i64, day: u32, user: &str, page: &str, ms: Option<i64>| serde_json::json!({"id": id, "ts": format!("2026-12-{day:02}T09:{:02}:00Z", id % 60), "user": user, "page": page, "ms_on_page": ms});
    let batch = serde_json::json!([
        click(1, 1, "ana", "/pricing", Some(1000)),
        click(2, 1, "bo", "/pricing", Some(3000)),
        click(3, 1, "ana", "/pricing", None),
        click(4, 1, "ana", "/docs", Some(500)),
        click(5, 2, "cy", "/docs", Some(700)),
    ]);
    // Sent twice with one Idempotency-Key (the first answer was lost, say): stored once.
    let keyed = |body: &serde_json::Value| {
        let mut s = TcpStream::connect(addr).unwrap();
        let b = body.to_string();
        write!(s, "POST /api/ingest/clicks HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\nIdempotency-Key: app-batch-1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}", b.len()).unwrap();
        read_response(s).json()
    };
    assert_eq!(keyed(&batch), serde_json::json!({"accepted": 5, "duplicate": false}));
    assert_eq!(keyed(&batch), serde_json::json!({"accepted": 5, "duplicate": true}));
    assert_eq!(dataset(addr, "clicks")["rows_pending"], 5);
    // A field the app added later is kept, not refused.
    let mut late = click(6, 2, "cy", "/docs", Some(900));
    late["referrer"] = "news".into();
    assert_eq!(post_json(addr, "clicks", late).status, 200);
    assert_eq!(post(addr, "/api/datasets/clicks/flush", "").json()["rows"], 6);
    let done = || {
        get(addr, "/api/runs?pipeline=clicks_daily")
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["trigger"] == "dataset:clicks" && r["status"] != "running")
            .cloned()
    };
    wait_for("the triggered clicks_daily run", 60, || done().is_some());
    let run = done().unwrap();
    assert_eq!(run["status"], "success", "{run}");
    let page = get(addr, &format!("/api/runs/{}/tasks/daily_pages/output", run["id"])).json();
    let rows: Vec<(String, String, i64, i64, Option<f64>)> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["day"].as_str().unwrap().to_string(),
                r["page"].as_str().unwrap().to_string(),
                r["views"].as_i64().unwrap(),
                r["users"].as_i64().unwrap(),
                r["avg_ms"].as_f64(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("2026-12-01".into(), "/docs".into(), 1, 1, Some(500.0)),
            ("2026-12-01".into(), "/pricing".into(), 3, 2, Some(2000.0)),
            ("2026-12-02".into(), "/docs".into(), 2, 1, Some(800.0)),
        ]
    );
    let page = get(addr, "/api/datasets/clicks/output?sort=id:asc&limit=10").json();
    assert_eq!(page["rows"][5]["_extra"], "{\"referrer\":\"news\"}", "{page}");
    assert!(tmp.path().join("clicks_daily/out/daily_pages.parquet").exists());
}
