//! examples/energy (a dbt-style chain of DuckDB models) with accuracy recomputed here.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, Timelike};
use polder_datagen::energy::{self, EnergyConfig};
use polder_engine::{RunOptions, RunStatus, TaskStatus};

use crate::common::*;

#[derive(Default)]
struct Acc {
    hours: i64,
    actual: f64,
    predicted: f64,
    ape_sum: f64,
    ape_n: i64,
    error: f64,
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn energy_models_match_independent_computation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("energy");
    copy_example("energy", &dir);
    let cfg = EnergyConfig::small();
    energy::write(&cfg, &dir.join("data")).unwrap();
    let ws = std::sync::Arc::new(polder_engine::Workspace::open(tmp.path()).unwrap());

    let run = run_dir(&ws, &dir, RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");

    // Independent computation: clean, join to meters, hourly sums, join forecasts, aggregate.
    let region_of: HashMap<String, &str> = energy::meters(&cfg).into_iter().map(|m| (m.meter_id, m.region)).collect();
    let mut hourly: BTreeMap<(&str, NaiveDateTime), f64> = BTreeMap::new();
    let mut clean = 0u64;
    for r in energy::readings(&cfg) {
        let Some(kwh) = r.kwh.filter(|k| *k >= 0.0) else { continue };
        clean += 1;
        let hour = r.read_at.with_minute(0).unwrap().with_second(0).unwrap();
        *hourly.entry((region_of[&r.meter_id], hour)).or_default() += kwh;
    }
    assert_eq!(run.task("stg_readings").unwrap().rows, Some(clean));
    let forecast: HashMap<(&str, NaiveDateTime), f64> =
        energy::forecasts(&cfg).into_iter().map(|f| ((f.region, f.hour), f.predicted_kwh)).collect();
    let mut acc: BTreeMap<&str, Acc> = BTreeMap::new();
    for ((region, hour), actual) in &hourly {
        let Some(pred) = forecast.get(&(*region, *hour)) else { continue };
        let a = acc.entry(region).or_default();
        a.hours += 1;
        a.actual += actual;
        a.predicted += pred;
        a.error += actual - pred;
        if *actual != 0.0 {
            a.ape_sum += (actual - pred).abs() / actual;
            a.ape_n += 1;
        }
    }

    let got = rows(&run, "region_accuracy");
    assert_eq!(got.len(), acc.len());
    for row in &got {
        let region = s(&row["region"]);
        let want = &acc[region];
        assert_eq!(i(&row["hours"]), want.hours, "{region}");
        assert!(close(f(&row["actual_kwh"]), want.actual), "{region} actual {} vs {}", f(&row["actual_kwh"]), want.actual);
        assert!(close(f(&row["predicted_kwh"]), want.predicted), "{region} predicted");
        let mape = want.ape_sum / want.ape_n as f64 * 100.0;
        assert!(close(f(&row["mape_pct"]), mape), "{region} mape {} vs {mape}", f(&row["mape_pct"]));
        let bias = want.error / want.predicted * 100.0;
        assert!(close(f(&row["bias_pct"]), bias), "{region} bias");
        assert!(mape > 0.0 && mape < 20.0, "forecast error is within the generator's ±15%: {mape}");
    }

    // Two sinks wrote into one DuckDB file (serialized), under a schema.
    let db = duckdb::Connection::open(dir.join("out/energy.duckdb")).unwrap();
    let n: i64 = db.query_row("SELECT COUNT(*) FROM marts.region_accuracy", [], |r| r.get(0)).unwrap();
    assert_eq!(n as usize, acc.len());
    let n: i64 = db.query_row("SELECT COUNT(*) FROM marts.demand_vs_forecast", [], |r| r.get(0)).unwrap();
    assert_eq!(n as usize, hourly.len());
    drop(db);
    let csv = std::fs::read_to_string(dir.join("out/region_accuracy.csv")).unwrap();
    assert_eq!(csv.lines().next().unwrap(), "region,hours,actual_kwh,predicted_kwh,mape_pct,bias_pct");
    assert_eq!(csv.lines().count(), acc.len() + 1);

    let again = run_dir(&ws, &dir, RunOptions::default()).await;
    assert!(again.tasks.iter().all(|t| t.status == TaskStatus::Cached), "{again:#?}");
}
