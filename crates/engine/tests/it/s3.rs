//! S3 sources and sinks against a real S3 server (SeaweedFS, which checks SigV4 signatures),
//! started by scripts/test.sh (`scripts/s3-server.sh start` by hand); the server's address and
//! keys come from POLDER_TEST_S3_*.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use polars::prelude::*;
use polder_engine::connections::{Secret, SecretStore};
use polder_engine::s3::{self, S3Access};
use polder_engine::{RunOptions, RunStatus, TaskStatus, Workspace};

use crate::common::*;

/// The bucket the test server creates at start.
const BUCKET: &str = "polder";

fn server_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test.sh, or start the S3 server with `eval \"$(scripts/s3-server.sh start && scripts/s3-server.sh env)\"`")
    })
}

/// Access to the test server as the AWS_* environment would give it.
fn access() -> S3Access {
    let vars: HashMap<&str, String> = [
        ("AWS_ENDPOINT_URL", server_var("POLDER_TEST_S3_ENDPOINT")),
        ("AWS_REGION", server_var("POLDER_TEST_S3_REGION")),
        ("AWS_ACCESS_KEY_ID", server_var("POLDER_TEST_S3_KEY_ID")),
        ("AWS_SECRET_ACCESS_KEY", server_var("POLDER_TEST_S3_SECRET")),
    ]
    .into_iter()
    .collect();
    S3Access::from_env(&|n| vars.get(n).cloned()).unwrap()
}

/// A key prefix no other test (or earlier run) uses.
fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("it/{test}-{nanos}-{}", std::process::id())
}

/// Secrets held in memory, as the desktop keyring would hold them.
struct Secrets(HashMap<String, String>);

impl SecretStore for Secrets {
    fn get(&self, name: &str) -> Option<Secret> {
        self.0.get(name).map(|v| Secret::new(v.clone()))
    }
}

/// A workspace whose `connections.toml` declares `lake` (the test server, its secret from the
/// store) and whose secret store holds `secret` as `lake-secret`.
fn lake_fixture(spec: &str, secret: &str, extra_connections: &str) -> Fixture {
    let fx = Fixture::new(spec, &[]);
    let conns = format!(
        "[connections.lake]\ntype = \"s3\"\nendpoint = \"{}\"\nregion = \"{}\"\naccess_key_id = \"${{env:POLDER_TEST_S3_KEY_ID}}\"\nsecret_access_key = \"${{secret:lake-secret}}\"\n{extra_connections}",
        server_var("POLDER_TEST_S3_ENDPOINT"),
        server_var("POLDER_TEST_S3_REGION"),
    );
    std::fs::write(fx.tmp.path().join("connections.toml"), conns).unwrap();
    let mut ws = Workspace::open(fx.tmp.path()).unwrap();
    ws.secrets = Some(Arc::new(Secrets([("lake-secret".to_string(), secret.to_string())].into_iter().collect())));
    Fixture { ws: Arc::new(ws), tmp: fx.tmp }
}

/// Day `d`'s events: 10·d rows, amounts i/2 + d, countries alternating.
fn day_events(d: u32) -> String {
    (0..10 * d)
        .map(|i| {
            let country = ["NL", "DE"][(i % 2) as usize];
            format!("{{\"user\":\"u{i}\",\"amount\":{},\"meta\":{{\"country\":\"{country}\"}}}}\n", i as f64 / 2.0 + d as f64)
        })
        .collect()
}

/// (count, total) per (day, country) of `day_events`.
fn expected(days: &[u32]) -> Vec<(String, String, i64, f64)> {
    let mut out = Vec::new();
    for &d in days {
        for (c, country) in ["DE", "NL"].iter().enumerate() {
            let rows: Vec<u32> = (0..10 * d).filter(|i| (i % 2) as usize == 1 - c).collect();
            let total: f64 = rows.iter().map(|&i| i as f64 / 2.0 + d as f64).sum();
            out.push((format!("2024-01-0{d}"), country.to_string(), rows.len() as i64, total));
        }
    }
    out
}

fn daily_rows(rows: &[serde_json::Map<String, serde_json::Value>]) -> Vec<(String, String, i64, f64)> {
    rows.iter()
        .map(|r| (s(&r["day"]).to_string(), s(&r["country"]).to_string(), r["n"].as_i64().unwrap(), r["total"].as_f64().unwrap()))
        .collect()
}

const MEDALLION: &str = r#"
[pipeline]
name = "lake"

[[task]]
id = "raw"
kind = "source"
format = "ndjson"
path = "s3://polder/PREFIX/raw/*/*.ndjson"
connection = "lake"
hive = true
flatten = true

[[task]]
id = "daily"
kind = "sql"
engine = "duckdb"
sql = "SELECT day, country, COUNT(*) AS n, SUM(amount) AS total FROM raw GROUP BY day, country ORDER BY day, country"

[[task]]
id = "gold"
kind = "sink"
input = "daily"
format = "parquet"
path = "s3://polder/PREFIX/gold"
connection = "lake"
partition_by = ["day"]
"#;

const READ_GOLD: &str = r#"
[pipeline]
name = "gold_reader"

[[task]]
id = "gold"
kind = "source"
format = "parquet"
path = "s3://polder/PREFIX/gold"
connection = "lake"
hive = true

[[task]]
id = "back"
kind = "sql"
engine = "duckdb"
sql = "SELECT CAST(day AS VARCHAR) AS day, country, n, total FROM gold ORDER BY day, country"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ndjson_glob_in_a_bucket_becomes_partitioned_parquet_there_and_is_cached_until_an_object_changes() {
    let p = prefix("medallion");
    let a = access();
    for d in 1..=3 {
        s3::put(&a, &format!("s3://{BUCKET}/{p}/raw/day=2024-01-0{d}/events.ndjson"), day_events(d).into_bytes()).unwrap();
    }
    // Not data: skipped by the glob's reader.
    s3::put(&a, &format!("s3://{BUCKET}/{p}/raw/day=2024-01-01/_SUCCESS"), Vec::new()).unwrap();
    let fx = lake_fixture(&MEDALLION.replace("PREFIX", &p), &server_var("POLDER_TEST_S3_SECRET"), "");
    let first = fx.run(RunOptions::default()).await;
    assert_eq!(first.status, RunStatus::Success, "{first:?}");
    assert_eq!(daily_rows(&rows(&first, "daily")), expected(&[1, 2, 3]));

    // The gold folder: one file per day under day=…, listed by its manifest.
    let gold = s3::list(&a, &format!("s3://{BUCKET}/{p}/gold")).unwrap();
    assert_eq!(gold.len(), 3, "{gold:?}");
    assert!(gold.iter().all(|o| o.url.contains("/gold/day=2024-01-0") && o.url.contains("/part-")), "{gold:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&s3::get(&a, &format!("s3://{BUCKET}/{p}/gold/{}", s3::MANIFEST)).unwrap()).unwrap();
    assert_eq!(manifest["partition_by"], serde_json::json!(["day"]));

    // Read back from the bucket by another pipeline: the same numbers, day from the folders.
    fx.write("../reader/pipeline.toml", &READ_GOLD.replace("PREFIX", &p));
    let back = run_dir(&fx.ws, &fx.tmp.path().join("reader"), RunOptions::default()).await;
    assert_eq!(back.status, RunStatus::Success, "{back:?}");
    assert_eq!(daily_rows(&rows(&back, "back")), expected(&[1, 2, 3]));

    // An unchanged bucket: everything cached.
    let second = fx.run(RunOptions::default()).await;
    for t in ["raw", "daily", "gold"] {
        assert_eq!(status(&second, t), TaskStatus::Cached, "{t}: {second:?}");
    }
    // One object changes: the chain reruns and the new output replaces the old.
    s3::put(&a, &format!("s3://{BUCKET}/{p}/raw/day=2024-01-02/events.ndjson"), day_events(1).into_bytes()).unwrap();
    let third = fx.run(RunOptions::default()).await;
    for t in ["raw", "daily", "gold"] {
        assert_eq!(status(&third, t), TaskStatus::Success, "{t}: {third:?}");
    }
    let mut want = expected(&[1, 1, 3]);
    want[2].0 = "2024-01-02".into();
    want[3].0 = "2024-01-02".into();
    assert_eq!(daily_rows(&rows(&third, "daily")), want);
    let gold = s3::list(&a, &format!("s3://{BUCKET}/{p}/gold")).unwrap();
    assert_eq!(gold.len(), 3, "superseded files are removed: {gold:?}");
    let all = s3::list(&a, &format!("s3://{BUCKET}/{p}/gold/**/*.parquet")).unwrap();
    assert_eq!(all.len(), 3, "nothing of the first output is left: {all:?}");
    let back = run_dir(&fx.ws, &fx.tmp.path().join("reader"), RunOptions::default()).await;
    assert_eq!(daily_rows(&rows(&back, "back")), want);
}

fn frame() -> DataFrame {
    df!(
        "id" => (0..1000i64).collect::<Vec<_>>(),
        "v" => (0..1000).map(|i| i as f64 * 0.25).collect::<Vec<_>>(),
        "name" => (0..1000).map(|i| format!("n{}", i % 7)).collect::<Vec<_>>(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_reads_from_a_bucket_and_csv_and_parquet_write_to_one() {
    let p = prefix("formats");
    let a = access();
    let mut df = frame();
    let mut parquet = Vec::new();
    ParquetWriter::new(&mut parquet).finish(&mut df.slice(0, 500)).unwrap();
    let mut parquet2 = Vec::new();
    ParquetWriter::new(&mut parquet2).finish(&mut df.slice(500, 500)).unwrap();
    let mut ipc = Vec::new();
    IpcWriter::new(&mut ipc).finish(&mut df).unwrap();
    let mut csv = Vec::new();
    CsvWriter::new(&mut csv).finish(&mut df).unwrap();
    let mut json = Vec::new();
    JsonWriter::new(&mut json).with_json_format(JsonFormat::Json).finish(&mut df).unwrap();
    let mut ndjson = Vec::new();
    JsonWriter::new(&mut ndjson).with_json_format(JsonFormat::JsonLines).finish(&mut df).unwrap();
    for (key, body) in [
        ("pq/a.parquet", parquet),
        ("pq/b.parquet", parquet2),
        ("x/all.arrow", ipc),
        ("x/all.csv", csv),
        ("x/all.json", json),
        ("x/all.ndjson", ndjson),
    ] {
        s3::put(&a, &format!("s3://{BUCKET}/{p}/{key}"), body).unwrap();
    }
    let spec = r#"
[pipeline]
name = "formats"

[[task]]
id = "pq"
kind = "source"
format = "parquet"
path = "s3://polder/PREFIX/pq/*.parquet"
connection = "lake"

[[task]]
id = "ipc"
kind = "source"
format = "ipc"
path = "s3://polder/PREFIX/x/all.arrow"
connection = "lake"

[[task]]
id = "csv"
kind = "source"
format = "csv"
path = "s3://polder/PREFIX/x/*.csv"
connection = "lake"

[[task]]
id = "json"
kind = "source"
format = "json"
path = "s3://polder/PREFIX/x/all.json"
connection = "lake"

[[task]]
id = "ndjson"
kind = "source"
format = "ndjson"
path = "s3://polder/PREFIX/x/all.ndjson"
connection = "lake"

[[task]]
id = "sums"
kind = "sql"
engine = "duckdb"
sql = """
SELECT 'pq' AS f, COUNT(*) AS n, SUM(v) AS s, COUNT(DISTINCT name) AS d FROM pq
UNION ALL SELECT 'ipc', COUNT(*), SUM(v), COUNT(DISTINCT name) FROM ipc
UNION ALL SELECT 'csv', COUNT(*), SUM(v), COUNT(DISTINCT name) FROM csv
UNION ALL SELECT 'json', COUNT(*), SUM(v), COUNT(DISTINCT name) FROM json
UNION ALL SELECT 'ndjson', COUNT(*), SUM(v), COUNT(DISTINCT name) FROM ndjson
ORDER BY f
"""

[[task]]
id = "out_csv"
kind = "sink"
input = "pq"
format = "csv"
path = "s3://polder/PREFIX/out/pq.csv"
connection = "lake"

[[task]]
id = "out_parquet"
kind = "sink"
input = "csv"
format = "parquet"
path = "s3://polder/PREFIX/out/csv.parquet"
connection = "lake"
"#;
    let fx = lake_fixture(&spec.replace("PREFIX", &p), &server_var("POLDER_TEST_S3_SECRET"), "");
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:?}");
    let want_sum: f64 = (0..1000).map(|i| i as f64 * 0.25).sum();
    let sums = rows(&run, "sums");
    assert_eq!(sums.len(), 5);
    for r in &sums {
        assert_eq!(r["n"].as_i64(), Some(1000), "{r:?}");
        assert_eq!(r["s"].as_f64(), Some(want_sum), "{r:?}");
        assert_eq!(r["d"].as_i64(), Some(7), "{r:?}");
    }
    // The written objects read back whole.
    let csv_back = String::from_utf8(s3::get(&a, &format!("s3://{BUCKET}/{p}/out/pq.csv")).unwrap()).unwrap();
    assert_eq!(csv_back.lines().count(), 1001);
    assert_eq!(csv_back.lines().next(), Some("id,v,name"));
    let pq_back = s3::get(&a, &format!("s3://{BUCKET}/{p}/out/csv.parquet")).unwrap();
    let back = ParquetReader::new(std::io::Cursor::new(pq_back)).finish().unwrap();
    assert_eq!(back.height(), 1000);
    assert_eq!(back.column("v").unwrap().as_materialized_series().sum::<f64>().unwrap(), want_sum);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_fails_naming_the_connection_and_never_showing_the_value() {
    let p = prefix("wrong-secret");
    let a = access();
    s3::put(&a, &format!("s3://{BUCKET}/{p}/raw/a.ndjson"), day_events(1).into_bytes()).unwrap();
    let spec = r#"
[pipeline]
name = "wrong"

[[task]]
id = "raw"
kind = "source"
format = "ndjson"
path = "s3://polder/PREFIX/raw/*.ndjson"
connection = "lake"
retries = 1
retry_delay_secs = 0
"#;
    let wrong = "definitely-Wrong-secret-4711";
    let fx = lake_fixture(&spec.replace("PREFIX", &p), wrong, "");
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Failed);
    let e = error(&run, "raw");
    assert!(e.contains("connection 'lake'") && e.contains("refused the credentials"), "{e}");
    assert!(e.contains(&server_var("POLDER_TEST_S3_ENDPOINT")), "{e}");
    assert_no_secret(fx.tmp.path(), wrong);
    assert!(!e.contains(wrong));
}

/// Fails if `secret` appears in any file under `dir` (logs, run records, artifacts).
pub fn assert_no_secret(dir: &std::path::Path, secret: &str) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                let hit = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!hit, "the secret is in {}", p.display());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_fails_in_seconds_naming_it_and_is_retried() {
    let spec = r#"
[pipeline]
name = "down"

[[task]]
id = "raw"
kind = "source"
format = "ndjson"
path = "s3://polder/x/*.ndjson"
connection = "down"
retries = 1
retry_delay_secs = 0
"#;
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = format!("[connections.down]\ntype = \"s3\"\nendpoint = \"http://127.0.0.1:{port}\"\n");
    let fx = lake_fixture(spec, "x", &down);
    let started = Instant::now();
    let run = fx.run(RunOptions::default()).await;
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());
    assert_eq!(run.status, RunStatus::Failed);
    let e = error(&run, "raw");
    assert!(e.contains("connection 'down'") && e.contains(&format!("cannot reach http://127.0.0.1:{port}")), "{e}");
    let log = std::fs::read_to_string(fx.ws.log_path("down", "raw", run.run_id).0).unwrap();
    assert!(log.contains("attempt 2"), "retried: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_connections_and_missing_buckets_are_named() {
    let spec = r#"
[pipeline]
name = "names"

[[task]]
id = "raw"
kind = "source"
format = "ndjson"
path = "s3://polder/x/*.ndjson"
connection = "laek"
"#;
    let fx = lake_fixture(spec, "x", "");
    let p = Arc::new(polder_engine::load(&fx.dir()).unwrap());
    let err = polder_engine::run_pipeline(fx.ws.clone(), p, RunOptions::default(), None, polder_engine::RunCancel::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pipeline.toml:5:1: task 'raw'") && err.contains("no connection named 'laek' (did you mean 'lake'?)"),
        "{err}"
    );

    let e = s3::check(&access(), "no-such-bucket-here").unwrap_err().to_string();
    assert!(e.contains("bucket 'no-such-bucket-here' does not exist"), "{e}");
    s3::check(&access(), BUCKET).unwrap();
}

#[test]
fn an_object_removed_after_listing_fails_the_read_naming_it() {
    let p = prefix("gone");
    let a = access();
    for name in ["a", "b"] {
        s3::put(&a, &format!("s3://{BUCKET}/{p}/{name}.ndjson"), day_events(2).into_bytes()).unwrap();
    }
    let listed = s3::list(&a, &format!("s3://{BUCKET}/{p}/*.ndjson")).unwrap();
    assert_eq!(listed.len(), 2);
    s3::delete(&a, &listed[1].url).unwrap();
    let src =
        polder_engine::spec::SourceTask::new(polder_engine::spec::SourceFormat::Ndjson, format!("s3://{BUCKET}/{p}/*.ndjson"));
    let files: Vec<std::path::PathBuf> = listed.iter().map(|o| std::path::PathBuf::from(&o.url)).collect();
    let read = polder_engine::tasks::source::lazy(&src, &files, Some(&a))
        .and_then(|lf| lf.collect().map_err(|e| polder_engine::tasks::TaskError::Data(e.to_string())));
    let e = read.expect_err("a removed object cannot be read").to_string();
    assert!(e.contains("b.ndjson"), "the error names the object: {e}");
}
