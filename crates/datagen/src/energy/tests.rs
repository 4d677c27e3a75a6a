use std::collections::{BTreeMap, BTreeSet};

use super::*;

fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// Splits a CSV file into its header and rows of fields (no quoting occurs in these files).
fn read_csv(path: &Path) -> (String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'));
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let rows = lines.map(|l| l.split(',').map(String::from).collect()).collect();
    (header, rows)
}

fn parse_kwh(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let (_, decimals) = s.split_once('.').expect("a decimal point");
    assert_eq!(decimals.len(), 3, "{s}");
    Some(s.parse().unwrap())
}

#[test]
fn small_config() {
    let c = EnergyConfig::small();
    assert_eq!((c.meters, c.days, c.seed), (12, 3, 7));
    assert_eq!(c.start, NaiveDate::from_ymd_opt(2024, 1, 15).unwrap());
    assert_eq!(READINGS_PER_DAY, 96);
    assert_eq!(meters(&c).len(), 12);
    assert_eq!(readings(&c).count(), 12 * 3 * 96);
    assert_eq!(forecasts(&c).len(), 4 * 3 * 24);
}

#[test]
fn meters_cover_regions_and_kinds() {
    for n in [4, 5, 12, 200] {
        let c = EnergyConfig { meters: n, ..EnergyConfig::small() };
        let ms = meters(&c);
        assert_eq!(ms.len(), n);
        for (i, m) in ms.iter().enumerate() {
            assert_eq!(m.meter_id, format!("M{:04}", i + 1));
            assert!(REGIONS.contains(&m.region));
            assert!(m.kind == RESIDENTIAL || m.kind == COMMERCIAL);
        }
        let regions: BTreeSet<&str> = ms.iter().map(|m| m.region).collect();
        assert_eq!(regions.len(), 4, "n={n}");
        let kinds: BTreeSet<&str> = ms.iter().map(|m| m.kind).collect();
        assert_eq!(kinds.len(), 2, "n={n}");
    }
    let many = meters(&EnergyConfig { meters: 1000, ..EnergyConfig::small() });
    let commercial = many.iter().filter(|m| m.kind == COMMERCIAL).count();
    assert!((250..350).contains(&commercial), "{commercial}");
    assert_eq!(many[999].meter_id, "M1000");
    assert_eq!(meters(&EnergyConfig { meters: 10_000, ..EnergyConfig::small() })[9_999].meter_id, "M10000");
}

#[test]
fn readings_follow_the_clock_in_file_order() {
    let c = EnergyConfig::small();
    let ms = meters(&c);
    let rs: Vec<Reading> = readings(&c).collect();
    for (i, r) in rs.iter().enumerate() {
        assert_eq!(r.meter_id, ms[i % 12].meter_id);
        let expected = dt("2024-01-15 00:00:00") + TimeDelta::minutes(15 * (i / 12) as i64);
        assert_eq!(r.read_at, expected);
    }
    assert_eq!(rs.last().unwrap().read_at, dt("2024-01-17 23:45:00"));
}

#[test]
fn kwh_values_are_rounded_and_mostly_good() {
    let c = EnergyConfig { meters: 40, days: 14, ..EnergyConfig::small() };
    let rs: Vec<Reading> = readings(&c).collect();
    let (mut empty, mut negative) = (0usize, 0usize);
    for r in &rs {
        match r.kwh {
            None => empty += 1,
            Some(k) => {
                assert_eq!(k, round3(k), "{k} has more than 3 decimals");
                assert_eq!(format!("{k:.3}").parse::<f64>().unwrap(), k);
                assert!(k != 0.0 && k.abs() >= 0.001 && k.abs() < 10.0, "{k}");
                if k < 0.0 {
                    negative += 1;
                }
            }
        }
    }
    let n = rs.len() as f64; // 53_760
    let (e, neg) = (empty as f64 / n, negative as f64 / n);
    assert!((0.003..0.007).contains(&e), "empty share {e}");
    assert!((0.003..0.007).contains(&neg), "negative share {neg}");
}

#[test]
fn load_shapes() {
    let c = EnergyConfig { meters: 60, days: 5, ..EnergyConfig::small() }; // Mon–Fri
    let kinds: BTreeMap<String, &str> = meters(&c).into_iter().map(|m| (m.meter_id, m.kind)).collect();
    // Mean good kWh by (kind, hour).
    let mut sums: BTreeMap<(&str, u32), (f64, usize)> = BTreeMap::new();
    for r in readings(&c) {
        if let Some(k) = r.kwh.filter(|k| *k > 0.0) {
            let e = sums.entry((kinds[&r.meter_id], r.read_at.hour())).or_default();
            e.0 += k;
            e.1 += 1;
        }
    }
    let mean = |kind, hour| {
        let (s, n) = sums[&(kind, hour)];
        s / n as f64
    };
    assert!(mean(RESIDENTIAL, 19) > 3.0 * mean(RESIDENTIAL, 3), "residential evening peak");
    assert!(mean(RESIDENTIAL, 19) > mean(RESIDENTIAL, 12));
    assert!(mean(COMMERCIAL, 11) > 3.0 * mean(COMMERCIAL, 2), "commercial working hours");
    assert!(mean(COMMERCIAL, 11) > mean(RESIDENTIAL, 11));
}

#[test]
fn forecasts_track_the_regional_totals() {
    let c = EnergyConfig { meters: 40, days: 2, ..EnergyConfig::small() };
    let region_of: BTreeMap<String, &str> = meters(&c).into_iter().map(|m| (m.meter_id, m.region)).collect();
    let mut actual: BTreeMap<(&str, NaiveDateTime), f64> = BTreeMap::new();
    for r in readings(&c) {
        let hour = r.read_at.date().and_hms_opt(r.read_at.hour(), 0, 0).unwrap();
        *actual.entry((region_of[&r.meter_id], hour)).or_default() += r.kwh.unwrap_or(0.0).max(0.0);
    }
    let fs = forecasts(&c);
    assert_eq!(fs.len(), 4 * 48);
    let mut ratios = Vec::new();
    for (i, f) in fs.iter().enumerate() {
        assert_eq!(f.region, REGIONS[i % 4]);
        assert_eq!(f.hour, dt("2024-01-15 00:00:00") + TimeDelta::hours((i / 4) as i64));
        assert_eq!(f.predicted_kwh, round3(f.predicted_kwh));
        ratios.push(f.predicted_kwh / actual[&(f.region, f.hour)]);
    }
    // Error factor within ±15% on top of ±20% per-reading noise averaged over several meters.
    assert!(ratios.iter().all(|r| (0.6..1.5).contains(r)), "{ratios:?}");
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!((0.93..1.07).contains(&mean), "mean ratio {mean}");
    assert!(ratios.iter().any(|r| *r < 0.92) && ratios.iter().any(|r| *r > 1.08), "forecast has visible error");
}

#[test]
fn forecast_error_factor_is_within_15_percent_of_expectation() {
    let c = EnergyConfig::small();
    let ms = models(&c);
    for f in forecasts(&c) {
        let first_slot = f.hour.hour() * SLOTS_PER_HOUR;
        let expected: f64 = ms
            .iter()
            .filter(|m| m.meter.region == f.region)
            .flat_map(|m| (first_slot..first_slot + 4).map(|s| m.expected_kwh(f.hour.date(), s)))
            .sum();
        let ratio = f.predicted_kwh / expected;
        assert!((0.85 - 1e-3..1.15 + 1e-3).contains(&ratio), "{ratio}");
    }
}

#[test]
fn files_parse_back_to_exactly_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let c = EnergyConfig::small();
    let s = write(&c, dir.path()).unwrap();
    let names: Vec<&str> = s.files.iter().map(|p| p.file_name().unwrap().to_str().unwrap()).collect();
    assert_eq!(names, ["meters.csv", "readings.csv", "forecast.csv"]);
    assert_eq!(s.rows, 12 + 3456 + 288);

    let (h, rows) = read_csv(&dir.path().join("meters.csv"));
    assert_eq!(h, "meter_id,region,kind");
    let parsed: Vec<(String, String, String)> = rows.into_iter().map(|r| (r[0].clone(), r[1].clone(), r[2].clone())).collect();
    let expected: Vec<(String, String, String)> =
        meters(&c).into_iter().map(|m| (m.meter_id, m.region.to_string(), m.kind.to_string())).collect();
    assert_eq!(parsed, expected);

    let (h, rows) = read_csv(&dir.path().join("readings.csv"));
    assert_eq!(h, "meter_id,read_at,kwh");
    let parsed: Vec<Reading> = rows
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 3);
            Reading { meter_id: r[0].clone(), read_at: dt(&r[1]), kwh: parse_kwh(&r[2]) }
        })
        .collect();
    assert_eq!(parsed, readings(&c).collect::<Vec<_>>());
    assert!(rows.iter().any(|r| r[2].is_empty()), "small data has an empty kwh");
    assert!(rows.iter().any(|r| r[2].starts_with('-')), "small data has a negative kwh");

    let (h, rows) = read_csv(&dir.path().join("forecast.csv"));
    assert_eq!(h, "region,hour,predicted_kwh");
    let parsed: Vec<Forecast> = rows
        .iter()
        .map(|r| Forecast {
            region: REGIONS.iter().copied().find(|x| *x == r[0]).unwrap(),
            hour: dt(&r[1]),
            predicted_kwh: parse_kwh(&r[2]).unwrap(),
        })
        .collect();
    assert_eq!(parsed, forecasts(&c));
    assert_eq!(rows[0][1], "2024-01-15 00:00:00");

    // Only the three files, no temp files.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, o) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = EnergyConfig::small();
    write(&c, a.path()).unwrap();
    write(&c, b.path()).unwrap();
    write(&EnergyConfig { seed: 8, ..c }, o.path()).unwrap();
    for name in ["meters.csv", "readings.csv", "forecast.csv"] {
        let (x, y, z) = (
            std::fs::read(a.path().join(name)).unwrap(),
            std::fs::read(b.path().join(name)).unwrap(),
            std::fs::read(o.path().join(name)).unwrap(),
        );
        assert_eq!(x, y, "{name}");
        assert_ne!(x, z, "{name}");
    }
}

#[test]
fn invalid_configs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let few = EnergyConfig { meters: 3, ..EnergyConfig::small() };
    let err = write(&few, dir.path()).unwrap_err().to_string();
    assert!(err.contains("one per region"), "{err}");
    assert!(meters(&few).is_empty() && readings(&few).next().is_none() && forecasts(&few).is_empty());
    assert!(matches!(write(&EnergyConfig { days: 0, ..EnergyConfig::small() }, dir.path()), Err(Error::InvalidConfig(_))));
    assert!(EnergyConfig { start: NaiveDate::MAX, ..EnergyConfig::small() }.validate().is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn datetime_format() {
    let mut v = Vec::new();
    write_datetime(&mut v, dt("2024-01-05 07:05:00")).unwrap();
    assert_eq!(String::from_utf8(v).unwrap(), "2024-01-05 07:05:00");
}
