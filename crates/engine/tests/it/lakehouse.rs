//! examples/lakehouse against the real S3 server and ClickHouse: its day files landed in the
//! bucket, read back hive-partitioned, refined, gold published to the bucket and loaded into
//! ClickHouse; every number recomputed here from the example's files, and a second run cached
//! up to the ClickHouse load (a database has no cheap fingerprint: it loads again).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use polder_engine::{RunOptions, RunStatus, TaskStatus, Workspace};

use crate::common::*;

#[derive(Default)]
struct Day {
    events: i64,
    users: BTreeSet<String>,
    purchases: i64,
    revenue: f64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lakehouse_example_lands_refines_and_publishes_the_right_numbers() {
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n} is not set: run the tests with scripts/test.sh"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lakehouse");
    copy_example("lakehouse", &dir);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lakehouse/data/events");
    std::fs::create_dir_all(dir.join("data/events")).unwrap();
    let mut want: BTreeMap<(String, String), Day> = BTreeMap::new();
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        std::fs::copy(e.path(), dir.join("data/events").join(e.file_name())).unwrap();
        let day = e.file_name().to_string_lossy().trim_end_matches(".ndjson").to_string();
        for line in std::fs::read_to_string(e.path()).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let d = want.entry((day.clone(), v["device"]["country"].as_str().unwrap().to_string())).or_default();
            d.events += 1;
            d.users.insert(v["user"].as_str().unwrap().to_string());
            d.purchases += i64::from(v["event"] == "purchase");
            d.revenue += v["amount"].as_f64().unwrap_or(0.0);
        }
    }
    // A prefix of its own, so reruns of the suite never meet an earlier run's objects.
    let prefix = format!("it/lakehouse-{}-{}", std::process::id(), polder_engine::store::now_ms());
    let spec = std::fs::read_to_string(dir.join("pipeline.toml"))
        .unwrap()
        .replace("s3://polder/lakehouse/", &format!("s3://polder/{prefix}/"))
        .replace("table = \"daily_revenue\"", "table = \"it_lakehouse_daily\"");
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    std::fs::write(
        tmp.path().join("connections.toml"),
        format!(
            "[connections.lake]\ntype = \"s3\"\nendpoint = \"{}\"\nbucket = \"polder\"\naccess_key_id = \"${{env:POLDER_TEST_S3_KEY_ID}}\"\nsecret_access_key = \"${{env:POLDER_TEST_S3_SECRET}}\"\n\n\
             [connections.olap]\ntype = \"clickhouse\"\nurl = \"{}\"\nuser = \"{}\"\npassword = \"${{env:POLDER_TEST_CH_PASSWORD}}\"\n",
            var("POLDER_TEST_S3_ENDPOINT"),
            crate::clickhouse::var("URL"),
            crate::clickhouse::var("USER"),
        ),
    )
    .unwrap();
    crate::clickhouse::server().execute("DROP TABLE IF EXISTS it_lakehouse_daily").unwrap();
    let ws = Arc::new(Workspace::open(tmp.path()).unwrap());

    let first = run_dir(&ws, &dir, RunOptions::default()).await;
    assert_eq!(first.status, RunStatus::Success, "{first:?}");
    let got = rows(&first, "daily");
    assert_eq!(got.len(), want.len());
    for (r, ((day, country), d)) in got.iter().zip(&want) {
        assert_eq!((s(&r["day"]), s(&r["country"])), (day.as_str(), country.as_str()));
        assert_eq!(r["events"].as_i64(), Some(d.events), "{r:?}");
        assert_eq!(r["users"].as_i64(), Some(d.users.len() as i64), "{r:?}");
        assert_eq!(r["purchases"].as_i64(), Some(d.purchases), "{r:?}");
        assert!((f(&r["revenue"]) - (d.revenue * 100.0).round() / 100.0).abs() < 0.005, "{r:?} vs {}", d.revenue);
    }
    // The dashboard table holds the same rows.
    let dashboard = || {
        let got = crate::clickhouse::query(
            "SELECT toString(day), country, events, users, purchases, revenue FROM it_lakehouse_daily ORDER BY day, country",
        );
        let got: Vec<Vec<String>> = got.lines().map(|l| l.split('\t').map(String::from).collect()).collect();
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (r, ((day, country), d)) in got.iter().zip(&want) {
            assert_eq!((r[0].as_str(), r[1].as_str()), (day.as_str(), country.as_str()));
            let ints: Vec<i64> = r[2..5].iter().map(|v| v.parse().unwrap()).collect();
            assert_eq!(ints, [d.events, d.users.len() as i64, d.purchases], "{r:?}");
            assert!((r[5].parse::<f64>().unwrap() - (d.revenue * 100.0).round() / 100.0).abs() < 0.005, "{r:?}");
        }
    };
    dashboard();
    // Gold is in the bucket: one published file per day.
    let env: BTreeMap<&str, String> = [
        ("AWS_ENDPOINT_URL", var("POLDER_TEST_S3_ENDPOINT")),
        ("AWS_ACCESS_KEY_ID", var("POLDER_TEST_S3_KEY_ID")),
        ("AWS_SECRET_ACCESS_KEY", var("POLDER_TEST_S3_SECRET")),
    ]
    .into_iter()
    .collect();
    let access = polder_engine::s3::S3Access::from_env(&|n| env.get(n).cloned()).unwrap();
    let gold = polder_engine::s3::list(&access, &format!("s3://polder/{prefix}/gold")).unwrap();
    assert_eq!(gold.len(), 3, "{gold:?}");

    // An unchanged bucket: everything cached, also what listed the bucket only after `land`
    // had written it in the first run.
    let second = run_dir(&ws, &dir, RunOptions::default()).await;
    for t in ["exported", "land", "bronze", "silver", "daily", "gold"] {
        assert_eq!(status(&second, t), TaskStatus::Cached, "{t}: {second:?}");
    }
    assert_eq!(status(&second, "dashboard"), TaskStatus::Success, "{second:?}");
    dashboard();
    assert_eq!(crate::clickhouse::query("SELECT count() FROM system.tables WHERE name LIKE 'it_lakehouse_daily_%'"), "0");
}
