use std::collections::{BTreeMap, BTreeSet};

use super::*;

fn cfg(rows: usize) -> MedallionConfig {
    MedallionConfig { days: 7, ..MedallionConfig::with_rows(rows) }
}

fn read_dir_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Parses a day file back into records, checking each line's exact shape on the way.
fn parse_file(path: &Path, date: NaiveDate) -> Vec<LogRecord> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'));
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["_index"], "history");
            assert_eq!(v["_type"], "kplus");
            assert_eq!(v["_score"], 0);
            let src = &v["_source"];
            assert_eq!(v.as_object().unwrap().len(), 5);
            assert_eq!(src.as_object().unwrap().len(), 4);
            let app = src["AppName"].as_str().unwrap();
            let rec = LogRecord {
                date,
                id: v["_id"].as_str().unwrap().to_string(),
                contract: src["Contract"].as_str().unwrap().to_string(),
                mac: src["Mac"].as_str().unwrap().to_string(),
                total_duration: src["TotalDuration"].as_i64().unwrap(),
                app_name: APP_NAMES.iter().copied().find(|a| *a == app).unwrap(),
            };
            let expected = format!(
                r#"{{"_index":"history","_type":"kplus","_id":"{}","_score":0,"_source":{{"Contract":"{}","Mac":"{}","TotalDuration":{},"AppName":"{}"}}}}"#,
                rec.id, rec.contract, rec.mac, rec.total_duration, rec.app_name
            );
            assert_eq!(line, expected);
            rec
        })
        .collect()
}

#[test]
fn with_rows_defaults() {
    let c = MedallionConfig::with_rows(20_000);
    assert_eq!(c.rows, 20_000);
    assert_eq!(c.days, 30);
    assert_eq!(c.contracts, 500);
    assert_eq!(c.start, NaiveDate::from_ymd_opt(2023, 4, 1).unwrap());
    assert_eq!(c.seed, 42);
    assert_eq!(MedallionConfig::with_rows(100).contracts, 10);
}

#[test]
fn category_mapping() {
    for (app, cat) in [
        ("CHANNEL", Some("TV")),
        ("DSHD", Some("TV")),
        ("KPLUS", Some("TV")),
        ("VOD", Some("Movie")),
        ("FIMS", Some("Movie")),
        ("BHD", Some("Movie")),
        ("DANET", Some("Movie")),
        ("CHILD", Some("Child")),
        ("RELAX", Some("Relax")),
        ("SPORT", Some("Sport")),
        ("APP", None),
        ("channel", None),
        ("", None),
    ] {
        assert_eq!(category(app), cat, "{app}");
    }
    assert_eq!(APP_NAMES.len(), APP_WEIGHTS.len());
    assert_eq!(APP_WEIGHTS.iter().sum::<u64>(), 100);
}

#[test]
fn row_count_is_exact_and_remainder_goes_to_first_days() {
    for (rows, days) in [(0, 7), (1, 7), (6, 7), (100, 7), (1003, 30), (20_000, 30)] {
        let c = MedallionConfig { days, ..MedallionConfig::with_rows(rows) };
        let recs: Vec<LogRecord> = records(&c).collect();
        assert_eq!(recs.len(), rows, "rows={rows} days={days}");
        let mut per_day = vec![0usize; days as usize];
        for r in &recs {
            per_day[(r.date - c.start).num_days() as usize] += 1;
        }
        for (d, n) in per_day.iter().enumerate() {
            assert_eq!(*n, c.rows_on_day(d as u32));
            let expected = rows / days as usize + usize::from(d < rows % days as usize);
            assert_eq!(*n, expected, "rows={rows} day {d}");
        }
        // File order: dates never go backwards.
        assert!(recs.windows(2).all(|w| w[0].date <= w[1].date));
    }
    let c = MedallionConfig { days: 7, ..MedallionConfig::with_rows(1003) };
    let firsts: Vec<usize> = (0..7).map(|d| c.first_row_of_day(d)).collect();
    let mut acc = 0;
    for d in 0..7 {
        assert_eq!(firsts[d as usize], acc);
        acc += c.rows_on_day(d);
    }
    assert_eq!(acc, 1003);
}

#[test]
fn field_formats_and_uniqueness() {
    let c = cfg(30_000);
    let recs: Vec<LogRecord> = records(&c).collect();
    let mut ids = BTreeSet::new();
    let mut macs_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut contract_of_mac: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &recs {
        assert_eq!(r.id.len(), 20);
        assert!(r.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'), "{}", r.id);
        assert!(ids.insert(r.id.as_str()), "duplicate id {}", r.id);
        let b = r.contract.as_bytes();
        assert_eq!(b.len(), 9);
        assert!(b[..3].iter().all(u8::is_ascii_uppercase) && b[3..].iter().all(u8::is_ascii_digit), "{}", r.contract);
        assert_eq!(r.mac.len(), 12);
        assert!(r.mac.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)), "{}", r.mac);
        assert!((1..=MAX_DURATION).contains(&r.total_duration));
        macs_of.entry(&r.contract).or_default().insert(&r.mac);
        // A MAC belongs to one contract only.
        assert_eq!(*contract_of_mac.entry(&r.mac).or_insert(&r.contract), r.contract.as_str());
    }
    assert!(macs_of.len() <= c.contracts);
    assert!(macs_of.len() > c.contracts * 8 / 10, "most contracts appear: {}", macs_of.len());
    assert!(macs_of.values().all(|m| (1..=2).contains(&m.len())));
    let two = macs_of.values().filter(|m| m.len() == 2).count();
    assert!(two > macs_of.len() / 5 && two < macs_of.len() / 2, "{two} of {} contracts with 2 MACs", macs_of.len());
}

#[test]
fn app_names_follow_weights() {
    let recs: Vec<LogRecord> = records(&cfg(100_000)).collect();
    let mut counts = BTreeMap::new();
    for r in &recs {
        *counts.entry(r.app_name).or_insert(0usize) += 1;
    }
    for (app, w) in APP_NAMES.iter().zip(APP_WEIGHTS) {
        let share = counts[app] as f64 / recs.len() as f64 * 100.0;
        assert!((share - w as f64).abs() < 0.6, "{app}: {share:.2}% vs {w}%");
    }
    let unknown = recs.iter().filter(|r| category(r.app_name).is_none()).count();
    assert_eq!(unknown, counts["APP"]);
}

#[test]
fn durations_are_skewed() {
    let mut d: Vec<i64> = records(&cfg(50_000)).map(|r| r.total_duration).collect();
    d.sort_unstable();
    let median = d[d.len() / 2];
    let mean = d.iter().sum::<i64>() as f64 / d.len() as f64;
    assert!((1_000..1_600).contains(&median), "median {median}");
    assert!((3_700.0..4_300.0).contains(&mean), "mean {mean}");
    let short = d.iter().filter(|&&x| x <= 300).count() as f64 / d.len() as f64;
    let long = d.iter().filter(|&&x| x > 10_000).count() as f64 / d.len() as f64;
    assert!(short > 0.3 && long > 0.1 && long < 0.2, "short {short} long {long}");
    assert!(d[0] >= 1);
    assert!(*d.last().unwrap() <= MAX_DURATION);
}

#[test]
fn activity_varies_between_contracts() {
    let c = MedallionConfig::with_rows(40_000); // 30 days, 1000 contracts
    let last_day = c.date(c.days - 1);
    let mut days_of: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    for r in records(&c) {
        days_of.entry(r.contract).or_default().insert(r.date);
    }
    let n = days_of.len() as f64;
    let frequent = days_of.values().filter(|d| d.len() >= 20).count() as f64;
    let rare = days_of.values().filter(|d| d.len() <= 5).count() as f64;
    let gone = days_of.values().filter(|d| *d.last().unwrap() < last_day - Days::new(3)).count() as f64;
    assert!(frequent / n > 0.1, "frequent {frequent}/{n}");
    assert!(rare / n > 0.1, "rare {rare}/{n}");
    assert!(gone / n > 0.1, "churned {gone}/{n}");
    // Each day has rows from a realistic spread of contracts.
    let per_day: BTreeMap<NaiveDate, usize> = days_of.values().flatten().fold(BTreeMap::new(), |mut m, d| {
        *m.entry(*d).or_default() += 1;
        m
    });
    assert_eq!(per_day.len(), 30);
    assert!(per_day.values().all(|&k| k > 200), "{per_day:?}");
}

#[test]
fn contracts_only_appear_on_active_days() {
    let c = cfg(5_000);
    let g = Generator::new(c.clone(), c.days);
    let code_index: BTreeMap<String, usize> = g.contracts.iter().enumerate().map(|(i, k)| (ascii(&k.code), i)).collect();
    assert_eq!(code_index.len(), c.contracts);
    let active: Vec<BTreeSet<u32>> = (0..c.days).map(|d| g.active_on(d).0.into_iter().collect()).collect();
    for r in records(&c) {
        let day = (r.date - c.start).num_days() as u32;
        let i = code_index[&r.contract];
        let k = &g.contracts[i];
        assert!(active[day as usize].contains(&(i as u32)));
        assert!(k.first_day <= day && day <= k.last_day);
    }
}

#[test]
fn few_contracts_still_fill_every_day() {
    // Two contracts over 30 days: some days nobody draws active, yet every day gets its rows
    // from a contract whose window covers it.
    let c = MedallionConfig { rows: 300, days: 30, contracts: 2, start: NaiveDate::MIN, seed: 3 };
    let recs: Vec<LogRecord> = records(&c).collect();
    assert_eq!(recs.len(), 300);
    let contracts: BTreeSet<&str> = recs.iter().map(|r| r.contract.as_str()).collect();
    assert!(contracts.len() <= 2);
    let c1 = MedallionConfig { contracts: 1, ..c };
    assert_eq!(records(&c1).count(), 300);
}

#[test]
fn files_parse_back_to_exactly_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let c = cfg(3_001);
    let summary = write(&c, dir.path()).unwrap();
    assert_eq!(summary.rows, 3_001);
    assert_eq!(summary.files.len(), 7);
    let mut parsed = Vec::new();
    for (d, path) in summary.files.iter().enumerate() {
        let date = c.date(d as u32);
        assert_eq!(path, &dir.path().join(file_name(date)));
        parsed.extend(parse_file(path, date));
    }
    let expected: Vec<LogRecord> = records(&c).collect();
    assert_eq!(parsed, expected);
    assert_eq!(summary.files[0].file_name().unwrap(), "20230401.json");
    assert_eq!(summary.files[6].file_name().unwrap(), "20230407.json");
    // Nothing but the day files and the marker; no temp files left over.
    let mut names: Vec<String> = read_dir_bytes(dir.path()).into_keys().collect();
    names.sort();
    assert_eq!(names.len(), 8);
    assert_eq!(names[0], MARKER_FILE);
    assert!(names[1..].iter().all(|n| is_day_file_name(n)));
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = cfg(2_000);
    write(&c, a.path()).unwrap();
    write(&c, b.path()).unwrap();
    write(&MedallionConfig { seed: 43, ..c.clone() }, other.path()).unwrap();
    let (a, b, other) = (read_dir_bytes(a.path()), read_dir_bytes(b.path()), read_dir_bytes(other.path()));
    assert_eq!(a, b);
    assert_eq!(a.keys().collect::<Vec<_>>(), other.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        if name != MARKER_FILE {
            assert_ne!(bytes, &other[name], "{name} should differ with another seed");
        }
    }
    // The iterator is deterministic too, and differs by seed.
    let r1: Vec<LogRecord> = records(&c).collect();
    assert_eq!(r1, records(&c).collect::<Vec<_>>());
    assert_ne!(r1, records(&MedallionConfig { seed: 43, ..c }).collect::<Vec<_>>());
}

#[test]
fn known_first_line_is_stable() {
    // Pins the exact output so accidental changes to the generator are caught (bump
    // GENERATOR_VERSION when changing it on purpose).
    let first = records(&MedallionConfig::with_rows(1000)).next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(&MedallionConfig::with_rows(1000), dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("20230401.json")).unwrap();
    let line = text.lines().next().unwrap();
    assert!(line.contains(&first.id) && line.contains(&first.contract) && line.contains(&first.mac));
    assert_eq!(line, PINNED_FIRST_LINE);
}

const PINNED_FIRST_LINE: &str = r#"{"_index":"history","_type":"kplus","_id":"lCMxq-9SQPlPhSZn6fyu","_score":0,"_source":{"Contract":"HJW016269","Mac":"BCED2AF4DF70","TotalDuration":239,"AppName":"CHANNEL"}}"#;

#[test]
fn more_days_than_rows_gives_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let c = MedallionConfig { rows: 2, days: 4, ..MedallionConfig::with_rows(2) };
    let s = write(&c, dir.path()).unwrap();
    assert_eq!(s.rows, 2);
    let sizes: Vec<u64> = s.files.iter().map(|p| std::fs::metadata(p).unwrap().len()).collect();
    assert!(sizes[0] > 0 && sizes[1] > 0 && sizes[2] == 0 && sizes[3] == 0, "{sizes:?}");
}

#[test]
fn write_if_missing_skips_same_config_and_regenerates_other() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("raw").join("logs"); // created on demand
    let c = cfg(700);
    let first = write_if_missing(&c, &dir).unwrap().expect("first call generates");
    assert_eq!(first.rows, 700);
    assert_eq!(std::fs::read_to_string(dir.join(MARKER_FILE)).unwrap(), c.marker_line());
    let before = read_dir_bytes(&dir);

    assert_eq!(write_if_missing(&c, &dir).unwrap(), None);
    assert_eq!(read_dir_bytes(&dir), before);

    // A missing day file means the data is incomplete: regenerate.
    std::fs::remove_file(&first.files[3]).unwrap();
    assert!(write_if_missing(&c, &dir).unwrap().is_some());
    assert_eq!(read_dir_bytes(&dir), before);

    // Another config: old day files go, unrelated files stay.
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
    std::fs::write(dir.join("other.json"), "{}").unwrap();
    let crashed = "20230402.json.tmp-4000000000"; // no such pid
    std::fs::write(dir.join(crashed), "half a file").unwrap();
    let c2 = MedallionConfig { days: 3, start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(), ..c.clone() };
    let second = write_if_missing(&c2, &dir).unwrap().expect("config changed");
    assert_eq!(second.rows, 700);
    let names: BTreeSet<String> = read_dir_bytes(&dir).into_keys().collect();
    let expected: BTreeSet<String> = ["20240101.json", "20240102.json", "20240103.json", "notes.txt", "other.json", MARKER_FILE]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(names, expected);
    assert_eq!(std::fs::read_to_string(dir.join(MARKER_FILE)).unwrap(), c2.marker_line());

    // Only the seed changes: regenerated too.
    let c3 = MedallionConfig { seed: 1, ..c2.clone() };
    assert!(write_if_missing(&c3, &dir).unwrap().is_some());
    assert_eq!(write_if_missing(&c3, &dir).unwrap(), None);
}

#[test]
fn plain_write_replaces_the_data_set_and_refreshes_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let c = cfg(100); // 7 days
    write(&MedallionConfig { seed: 5, days: 30, ..c.clone() }, dir.path()).unwrap();
    std::fs::write(dir.path().join("README.txt"), "mine").unwrap();
    write(&c, dir.path()).unwrap();
    assert_eq!(write_if_missing(&c, dir.path()).unwrap(), None);
    let names: Vec<String> = read_dir_bytes(dir.path()).into_keys().collect();
    assert_eq!(names.len(), 7 + 2, "7 day files, the marker and README.txt: {names:?}");
    assert!(names.contains(&"README.txt".to_string()));
    assert!(!names.contains(&"20230408.json".to_string()), "day 8 of the old data set is gone");
}

#[test]
fn invalid_configs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let no_days = MedallionConfig { days: 0, ..MedallionConfig::with_rows(10) };
    let err = write(&no_days, dir.path()).unwrap_err().to_string();
    assert!(err.contains("at least one day"), "{err}");
    assert_eq!(records(&no_days).count(), 0);
    let no_contracts = MedallionConfig { contracts: 0, ..MedallionConfig::with_rows(10) };
    assert!(matches!(write(&no_contracts, dir.path()), Err(Error::InvalidConfig(_))));
    let overflow = MedallionConfig { start: NaiveDate::MAX, ..MedallionConfig::with_rows(10) };
    assert!(matches!(overflow.validate(), Err(Error::InvalidConfig(_))));
    assert!(matches!(write_if_missing(&overflow, dir.path()), Err(Error::InvalidConfig(_))));
    // Zero rows is fine: empty day files.
    let empty = MedallionConfig { contracts: 0, ..MedallionConfig::with_rows(0) };
    let s = write(&empty, dir.path()).unwrap();
    assert_eq!((s.rows, s.files.len()), (0, 30));
}

#[test]
fn io_errors_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = write(&cfg(10), &file.join("sub")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

#[test]
fn helpers() {
    let mut v = Vec::new();
    for n in [0i64, 7, 10, 19_999, 20_000] {
        v.clear();
        push_int(&mut v, n);
        assert_eq!(String::from_utf8(v.clone()).unwrap(), n.to_string());
    }
    let mut d = [0u8; 6];
    write_digits(&mut d, 42);
    assert_eq!(&d, b"000042");
    let mut h = [0u8; 12];
    write_hex(&mut h, 0x0C96_E62F_C55C);
    assert_eq!(&h, b"0C96E62FC55C");
    assert!(is_day_file_name("20230401.json"));
    assert!(!is_day_file_name("2023040.json") && !is_day_file_name("2023o401.json") && !is_day_file_name("20230401.jsonl"));
    assert_eq!(file_name(NaiveDate::from_ymd_opt(2023, 4, 1).unwrap()), "20230401.json");
}
