//! examples/medallion on small generated data: exact gold values recomputed here, caching, and
//! the rerun set after editing one SQL file.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use polder_datagen::medallion::{self, MedallionConfig};
use polder_engine::{RunOptions, RunStatus, TaskStatus};

use crate::common::*;

const CATEGORIES: [&str; 5] = ["TV", "Movie", "Child", "Relax", "Sport"];

#[derive(Default, Debug)]
struct Expected {
    by_cat: [i64; 5],
    total: i64,
    days: BTreeSet<NaiveDate>,
    last: Option<NaiveDate>,
}

fn ntile(pos: usize, n: usize, k: usize) -> i64 {
    let size = n / k;
    let large = n % k;
    let small_start = large * (size + 1);
    if pos < small_start {
        (1 + pos / (size + 1)) as i64
    } else {
        (1 + large + (pos - small_start) / size) as i64
    }
}

struct GoldRow {
    most_watched: &'static str,
    recency: i64,
    frequency: i64,
    monetary: i64,
    r: i64,
    f: i64,
    m: i64,
    segment: &'static str,
}

/// Gold recomputed from the generator's records, independently of Polars and DuckDB.
fn expected_gold(cfg: &MedallionConfig, run_date: NaiveDate) -> (BTreeMap<String, Expected>, BTreeMap<String, GoldRow>) {
    let mut per: BTreeMap<String, Expected> = BTreeMap::new();
    for rec in medallion::records(cfg) {
        let Some(cat) = medallion::category(rec.app_name) else { continue };
        let idx = CATEGORIES.iter().position(|c| *c == cat).unwrap();
        let e = per.entry(rec.contract.clone()).or_default();
        e.by_cat[idx] += rec.total_duration;
        e.total += rec.total_duration;
        e.days.insert(rec.date);
        e.last = e.last.max(Some(rec.date));
    }
    let n = per.len();
    let metrics: Vec<(&String, i64, i64, i64)> =
        per.iter().map(|(c, e)| (c, (run_date - e.last.unwrap()).num_days(), e.days.len() as i64, e.total)).collect();
    let mut by_r = metrics.clone();
    by_r.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut by_f = metrics.clone();
    by_f.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(b.0)));
    let mut by_m = metrics.clone();
    by_m.sort_by(|a, b| a.3.cmp(&b.3).then(a.0.cmp(b.0)));
    let score = |sorted: &Vec<(&String, i64, i64, i64)>| -> BTreeMap<String, i64> {
        sorted.iter().enumerate().map(|(pos, m)| (m.0.clone(), ntile(pos, n, 4))).collect()
    };
    let (rs, fs, ms) = (score(&by_r), score(&by_f), score(&by_m));
    let mut gold = BTreeMap::new();
    for (c, rec, freq, mon) in metrics {
        let e = &per[c];
        // Ties go to the first category in CATEGORIES order, as in silver.sql.
        let mut best = 0;
        for k in 1..5 {
            if e.by_cat[k] > e.by_cat[best] {
                best = k;
            }
        }
        let (r, f, m) = (rs[c], fs[c], ms[c]);
        let segment = if r >= 3 && f >= 3 && m >= 3 {
            "Champions"
        } else if r >= 3 && f >= 3 {
            "Loyal"
        } else if r >= 3 {
            "Promising"
        } else if f >= 3 || m >= 3 {
            "At Risk"
        } else {
            "Hibernating"
        };
        gold.insert(
            c.clone(),
            GoldRow { most_watched: CATEGORIES[best], recency: rec, frequency: freq, monetary: mon, r, f, m, segment },
        );
    }
    (per, gold)
}

fn small_config() -> MedallionConfig {
    let mut cfg = MedallionConfig::with_rows(6_000);
    cfg.days = 12;
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn medallion_end_to_end_exact_values_cache_and_rerun_set() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("medallion");
    copy_example("medallion", &dir);
    let cfg = small_config();
    medallion::write(&cfg, &dir.join("data/logs")).unwrap();
    let ws = std::sync::Arc::new(polder_engine::Workspace::open(tmp.path()).unwrap());
    let run_date = cfg.start + chrono::Duration::days(cfg.days as i64 + 2);
    let opts = || RunOptions { params: vec![("run_date".into(), run_date.to_string())], ..Default::default() };

    let first = run_dir(&ws, &dir, opts()).await;
    assert_eq!(first.status, RunStatus::Success, "{first:#?}");
    assert!(first.tasks.iter().all(|t| t.status == TaskStatus::Success), "{first:#?}");

    // Bronze: every generated row, flattened, with the date from the file name.
    let bronze_rows = first.task("bronze").unwrap().rows.unwrap();
    assert_eq!(bronze_rows, cfg.rows as u64);
    let head = polder_engine::inspect::head_json(first.task("bronze").unwrap().artifact.as_ref().unwrap(), 1).unwrap();
    let rec0 = medallion::records(&cfg).next().unwrap();
    assert_eq!(s(&head[0]["Contract"]), rec0.contract);
    assert_eq!(s(&head[0]["AppName"]), rec0.app_name);
    assert_eq!(i(&head[0]["TotalDuration"]), rec0.total_duration);
    assert_eq!(s(&head[0]["date"]), rec0.date.to_string());

    let (per, gold) = expected_gold(&cfg, run_date);

    // Silver: the pivot per contract.
    let silver = rows(&first, "silver");
    assert_eq!(silver.len(), per.len());
    for row in &silver {
        let e = &per[s(&row["contract"])];
        let got =
            [&row["tv_duration"], &row["movie_duration"], &row["child_duration"], &row["relax_duration"], &row["sport_duration"]]
                .map(i);
        assert_eq!(got, e.by_cat, "contract {}", s(&row["contract"]));
        assert_eq!(i(&row["total_duration"]), e.total);
        assert_eq!(i(&row["active_days"]), e.days.len() as i64);
        assert_eq!(s(&row["last_active"]), e.last.unwrap().to_string());
    }

    // Gold: every value of every row.
    let got = rows(&first, "gold");
    assert_eq!(got.len(), gold.len());
    let mut segments = BTreeSet::new();
    for row in &got {
        let c = s(&row["contract"]);
        let want = &gold[c];
        assert_eq!(s(&row["most_watched"]), want.most_watched, "{c}");
        assert_eq!(
            [i(&row["recency"]), i(&row["frequency"]), i(&row["monetary"])],
            [want.recency, want.frequency, want.monetary],
            "{c}"
        );
        assert_eq!([i(&row["r_score"]), i(&row["f_score"]), i(&row["m_score"])], [want.r, want.f, want.m], "{c}");
        assert_eq!(s(&row["rfm_code"]), format!("{}{}{}", want.r, want.f, want.m));
        assert_eq!(s(&row["segment"]), want.segment, "{c}");
        segments.insert(want.segment);
    }
    assert!(segments.len() >= 3, "the generated data should spread over segments: {segments:?}");

    // Checks passed: the failing-row sample is empty.
    assert_eq!(first.task("gold_checks").unwrap().rows, Some(0));
    // Sinks: the hive-partitioned Parquet folder and both DuckDB tables, in one file.
    // DuckDB percent-encodes partition values (`At Risk` → `At%20Risk`).
    let mut parts: Vec<String> = std::fs::read_dir(dir.join("out/gold_rfm"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    parts.sort();
    let mut want: Vec<String> = segments.iter().map(|s| format!("segment={}", s.replace(' ', "%20"))).collect();
    want.sort();
    assert_eq!(parts, want);
    assert_eq!(first.task("gold_table").unwrap().rows, Some(gold.len() as u64));
    {
        let db = duckdb::Connection::open(dir.join("out/warehouse.duckdb")).unwrap();
        let n: i64 = db.query_row("SELECT COUNT(*) FROM gold_rfm", [], |r| r.get(0)).unwrap();
        assert_eq!(n as usize, gold.len());
        let champions: i64 = db.query_row("SELECT COUNT(*) FROM gold_rfm WHERE segment = 'Champions'", [], |r| r.get(0)).unwrap();
        assert_eq!(champions as usize, gold.values().filter(|g| g.segment == "Champions").count());
        let n: i64 = db.query_row("SELECT COUNT(*) FROM silver_viewing", [], |r| r.get(0)).unwrap();
        assert_eq!(n as usize, per.len());
    }

    // Second run: everything reused.
    let second = run_dir(&ws, &dir, opts()).await;
    assert_eq!(second.status, RunStatus::Success);
    let not_cached: Vec<_> = second.tasks.iter().filter(|t| t.status != TaskStatus::Cached).map(|t| &t.task).collect();
    assert!(not_cached.is_empty(), "second run should be fully cached, reran {not_cached:?}");
    assert_eq!(rows(&second, "gold").len(), gold.len());

    // Editing silver.sql reruns silver and what depends on it, nothing else.
    let silver_sql = dir.join("silver.sql");
    let text = std::fs::read_to_string(&silver_sql).unwrap();
    std::fs::write(&silver_sql, format!("{text}\n-- edited\n")).unwrap();
    let third = run_dir(&ws, &dir, opts()).await;
    assert_eq!(third.status, RunStatus::Success);
    let ran: BTreeSet<&str> = third.tasks.iter().filter(|t| t.status == TaskStatus::Success).map(|t| t.task.as_str()).collect();
    let cached: BTreeSet<&str> = third.tasks.iter().filter(|t| t.status == TaskStatus::Cached).map(|t| t.task.as_str()).collect();
    assert_eq!(ran, BTreeSet::from(["silver", "gold", "gold_checks", "gold_parquet", "gold_table", "silver_table"]));
    assert_eq!(cached, BTreeSet::from(["bronze"]));

    // A new run date changes gold's SQL, so gold and its downstream rerun; silver is reused.
    let later = run_date + chrono::Duration::days(3);
    let fourth =
        run_dir(&ws, &dir, RunOptions { params: vec![("run_date".into(), later.to_string())], ..Default::default() }).await;
    assert_eq!(status(&fourth, "silver"), TaskStatus::Cached);
    assert_eq!(status(&fourth, "gold"), TaskStatus::Success);
    let shifted = rows(&fourth, "gold");
    let c = s(&shifted[0]["contract"]).to_string();
    assert_eq!(i(&shifted[0]["recency"]), gold[&c].recency + 3);

    // --force reruns all; --only reruns one task on its upstreams' latest outputs.
    let forced = run_dir(&ws, &dir, RunOptions { force: true, ..opts() }).await;
    assert!(forced.tasks.iter().all(|t| t.status == TaskStatus::Success));
    let only = run_dir(&ws, &dir, RunOptions { only: vec!["gold".into()], ..opts() }).await;
    assert_eq!(status(&only, "gold"), TaskStatus::Success);
    assert!(only.tasks.iter().filter(|t| t.task != "gold").all(|t| t.status == TaskStatus::Skipped), "{only:#?}");
    assert_eq!(rows(&only, "gold").len(), gold.len());
    assert!(temp_files(ws.state_dir()).is_empty());
}
