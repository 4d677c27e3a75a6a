//! REST ingest's data path without HTTP: the log, flushes cut off at each step and redone, the
//! day merge, and the same against the real S3 server (POLDER_TEST_S3_*, started by
//! scripts/test.sh).

use std::collections::BTreeSet;
use std::path::Path;

use polars::prelude::*;
use polder_engine::ingest::dataset::{self, Dataset};
use polder_engine::ingest::flush::{self, Written};
use polder_engine::ingest::rows::{decode, BodyFormat};
use polder_engine::ingest::target::Target;
use polder_engine::ingest::wal::Wal;

const DECL: &str = "event_time = \"ts\"\n[columns]\nid = \"i64 not null\"\nts = \"timestamp not null\"\nuser = \"str\"\n[target]\npath = \"lake/events\"\n";

fn declared(root: &Path) -> Dataset {
    std::fs::create_dir_all(root.join("ingest")).unwrap();
    let f = root.join("ingest/events.toml");
    std::fs::write(&f, DECL).unwrap();
    dataset::load(&f).unwrap()
}

/// Rows `ids` on 2026-12-01 (odd ids) and 2026-12-02 (even ids), `ts` falling with the id.
fn rows(ds: &Dataset, ids: std::ops::Range<i64>) -> polder_engine::ingest::rows::Batch {
    let body: Vec<serde_json::Value> = ids
        .map(|i| {
            let day = if i % 2 == 1 { 1 } else { 2 };
            serde_json::json!({ "id": i, "ts": format!("2026-12-0{day}T{:02}:00:00Z", 23 - (i % 24)), "user": format!("u{i}") })
        })
        .collect();
    decode(ds, BodyFormat::Json, serde_json::to_vec(&body).unwrap().as_slice(), 0).unwrap()
}

async fn append(wal: &Wal, ds: &Dataset, ids: std::ops::Range<i64>) {
    wal.append(rows(ds, ids), 0, None).await.unwrap();
}

/// Every id in the files the manifest lists (duplicates kept), read with Polars.
fn published_ids(target: &Target) -> Vec<i64> {
    let m = target.read_manifest().unwrap();
    let urls = flush::live_files(&m, target);
    if urls.is_empty() {
        return Vec::new();
    }
    let df = flush::scan(&urls, target).unwrap().select([col("id")]).collect().unwrap();
    let mut ids: Vec<i64> = df.column("id").unwrap().i64().unwrap().into_no_null_iter().collect();
    ids.sort_unstable();
    ids
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn flushes_cut_off_at_any_step_are_redone_without_loss_or_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = declared(tmp.path());
    let target = Target::new(tmp.path(), &ds.path, None).unwrap();
    let wal_path = tmp.path().join(".polder/ingest/events/wal.sqlite");
    let rt = runtime();
    {
        let wal = Wal::open(&wal_path).unwrap();
        rt.block_on(append(&wal, &ds, 1..101));
        assert_eq!(wal.pending().rows, 100);
        // Cut off after the files, before the manifest: nothing is visible yet.
        let Some(Written::Files(_, report)) = flush::write_files(&ds, &wal, &target, 1 << 30).unwrap() else { panic!() };
        assert_eq!(report.files.len(), 2);
        assert!(tmp.path().join("lake/events").join(&report.files[0]).exists());
        assert!(published_ids(&target).is_empty());
        // More rows arrive before the crash.
        rt.block_on(append(&wal, &ds, 101..151));
    }
    {
        // Restart: the first flush redoes exactly the cut-off one (same names, kept files).
        let wal = Wal::open(&wal_path).unwrap();
        assert_eq!(wal.pending().rows, 150);
        let first = flush::flush_once(&ds, &wal, &target, 1 << 30).unwrap().unwrap();
        assert_eq!(first.rows, 100, "the redone flush covers only its own rows");
        assert_eq!(published_ids(&target), (1..101).collect::<Vec<_>>());
        // Cut off after the manifest, before the log was truncated.
        let Some(Written::Files(m, _)) = flush::write_files(&ds, &wal, &target, 1 << 30).unwrap() else { panic!() };
        target.write_manifest(&m).unwrap();
        assert_eq!(wal.pending().rows, 50);
    }
    let wal = Wal::open(&wal_path).unwrap();
    let reports = flush::flush_all(&ds, &wal, &target, 1 << 30).unwrap();
    assert_eq!(reports.iter().map(|r| r.rows).sum::<u64>(), 0, "the published rows are only dropped from the log");
    assert_eq!(wal.pending().rows, 0);
    assert_eq!(published_ids(&target), (1..151).collect::<Vec<_>>());

    // Day merge: each day's files become one file sorted by ts; the old ones wait out the grace.
    let scratch = tmp.path().join(".polder/ingest/scratch");
    let report = flush::compact(&ds, &target, &scratch, 0, true, 600_000).unwrap();
    assert_eq!(report.days, ["2026-12-01", "2026-12-02"]);
    assert_eq!(report.files_in, 4);
    let m = target.read_manifest().unwrap();
    assert_eq!(m.files.len(), 2);
    assert!(m.files.iter().all(|f| f.contains("/merged-")), "{:?}", m.files);
    assert_eq!(published_ids(&target), (1..151).collect::<Vec<_>>());
    for f in &m.superseded {
        assert!(tmp.path().join("lake/events").join(&f.file).exists(), "superseded files stay for readers of the old manifest");
    }
    let day1 = LazyFrame::scan_parquet(
        PlRefPath::try_from_path(&tmp.path().join("lake/events").join(&m.files[0])).unwrap(),
        Default::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    let ts: Vec<i64> = day1.column("ts").unwrap().datetime().unwrap().physical().into_no_null_iter().collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "the merged day is sorted by ts");
    assert_eq!(
        day1.column("ts").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC))
    );
    // Nothing to merge twice; after the grace period the superseded files go.
    let again = flush::compact(&ds, &target, &scratch, 600_000, true, 600_000).unwrap();
    assert!(again.days.is_empty());
    assert_eq!(again.removed, 4);
    assert!(target.read_manifest().unwrap().superseded.is_empty());
    assert_eq!(published_ids(&target), (1..151).collect::<Vec<_>>());
}

#[test]
fn datasets_in_s3_flush_with_put_if_absent_and_merge() {
    let endpoint = std::env::var("POLDER_TEST_S3_ENDPOINT").expect("POLDER_TEST_S3_ENDPOINT: run scripts/test.sh");
    let vars: std::collections::HashMap<&str, String> = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", std::env::var("POLDER_TEST_S3_REGION").unwrap()),
        ("AWS_ACCESS_KEY_ID", std::env::var("POLDER_TEST_S3_KEY_ID").unwrap()),
        ("AWS_SECRET_ACCESS_KEY", std::env::var("POLDER_TEST_S3_SECRET").unwrap()),
    ]
    .into_iter()
    .collect();
    let access = polder_engine::s3::S3Access::from_env(&|n| vars.get(n).cloned()).unwrap();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let url = format!("s3://polder/it/ingest-{nanos}/events");

    // Put-if-absent: the second put of a name keeps the first object.
    let probe = format!("{url}/probe.bin");
    assert!(polder_engine::s3::put_if_absent(&access, &probe, b"first".to_vec()).unwrap());
    assert!(!polder_engine::s3::put_if_absent(&access, &probe, b"second".to_vec()).unwrap());
    assert_eq!(polder_engine::s3::get(&access, &probe).unwrap(), b"first");
    polder_engine::s3::delete(&access, &probe).unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let ds = declared(tmp.path());
    let target = Target::new(tmp.path(), &url, Some(access.clone())).unwrap();
    let wal_path = tmp.path().join(".polder/ingest/events/wal.sqlite");
    let rt = runtime();
    {
        let wal = Wal::open(&wal_path).unwrap();
        rt.block_on(append(&wal, &ds, 1..41));
        // Cut off after the uploads: the redo meets its own objects (412) and keeps them.
        assert!(matches!(flush::write_files(&ds, &wal, &target, 1 << 30).unwrap(), Some(Written::Files(..))));
        rt.block_on(append(&wal, &ds, 41..61));
    }
    let wal = Wal::open(&wal_path).unwrap();
    let reports = flush::flush_all(&ds, &wal, &target, 1 << 30).unwrap();
    assert_eq!(reports.iter().map(|r| r.rows).collect::<Vec<_>>(), [40, 20]);
    assert_eq!(published_ids(&target), (1..61).collect::<Vec<_>>());
    // A folder read through the manifest (as a `parquet` source on the URL does) sees the same.
    let listed = polder_engine::s3::list(&access, &url).unwrap();
    assert_eq!(listed.len(), 4, "{listed:?}");
    let scratch = tmp.path().join("scratch");
    let report = flush::compact(&ds, &target, &scratch, 0, true, 0).unwrap();
    assert_eq!((report.days.len(), report.files_in, report.removed), (2, 4, 4));
    assert_eq!(published_ids(&target), (1..61).collect::<Vec<_>>());
    let listed: BTreeSet<String> = polder_engine::s3::list(&access, &url).unwrap().into_iter().map(|o| o.url).collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|u| u.contains("/merged-")));
}

#[test]
fn idempotency_keys_survive_restarts_and_flushes() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = declared(tmp.path());
    let target = Target::new(tmp.path(), &ds.path, None).unwrap();
    let wal_path = tmp.path().join(".polder/ingest/events/wal.sqlite");
    let rt = runtime();
    let now = polder_engine::store::now_ms();
    let wal = Wal::open(&wal_path).unwrap();
    let stored = rt.block_on(wal.append(rows(&ds, 1..4), now, Some("k1".into()))).unwrap();
    assert_eq!(stored, polder_engine::ingest::wal::Appended::Stored(3));
    let again = rt.block_on(wal.append(rows(&ds, 1..4), now, Some("k1".into()))).unwrap();
    assert_eq!(again, polder_engine::ingest::wal::Appended::Duplicate(3));
    drop(wal);
    let wal = Wal::open(&wal_path).unwrap();
    let again = rt.block_on(wal.append(rows(&ds, 1..4), now + 5, Some("k1".into()))).unwrap();
    assert_eq!(again, polder_engine::ingest::wal::Appended::Duplicate(3), "after a restart");
    flush::flush_all(&ds, &wal, &target, 1 << 30).unwrap();
    let again = rt.block_on(wal.append(rows(&ds, 1..4), now + 10, Some("k1".into()))).unwrap();
    assert_eq!(again, polder_engine::ingest::wal::Appended::Duplicate(3), "after a flush");
    assert_eq!(published_ids(&target), [1, 2, 3]);
}

#[test]
fn an_open_day_with_many_small_files_is_merged_before_it_closes() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = declared(tmp.path());
    let target = Target::new(tmp.path(), &ds.path, None).unwrap();
    let wal = Wal::open(&tmp.path().join(".polder/ingest/events/wal.sqlite")).unwrap();
    let rt = runtime();
    let scratch = tmp.path().join("scratch");
    // Odd ids only: every flush writes one file, all on 2026-12-01.
    for k in 0..flush::OPEN_DAY_MAX_FILES as i64 {
        rt.block_on(wal.append(rows(&ds, (2 * k + 1)..(2 * k + 2)), 0, None)).unwrap();
        flush::flush_once(&ds, &wal, &target, 1 << 30).unwrap().unwrap();
    }
    // The day is still open (now = its noon): 64 files are left alone...
    let noon = 1_796_083_200_000 + 12 * 3_600_000;
    assert!(flush::compact(&ds, &target, &scratch, noon, false, 600_000).unwrap().days.is_empty());
    // ...the 65th makes it crowded.
    rt.block_on(wal.append(rows(&ds, 129..130), 0, None)).unwrap();
    flush::flush_once(&ds, &wal, &target, 1 << 30).unwrap().unwrap();
    let r = flush::compact(&ds, &target, &scratch, noon, false, 600_000).unwrap();
    assert_eq!((r.days.len(), r.files_in), (1, 65));
    assert_eq!(target.read_manifest().unwrap().files.len(), 1);
    assert_eq!(published_ids(&target), (0..65).map(|k| 2 * k + 1).collect::<Vec<_>>());
}
