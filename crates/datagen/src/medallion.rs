//! Telecom TV viewing logs for the medallion example: one NDJSON file per day.
//!
//! Each line of `YYYYMMDD.json` is one Elasticsearch-style hit:
//!
//! ```text
//! {"_index":"history","_type":"kplus","_id":"<id>","_score":0,"_source":{"Contract":"HNH579912","Mac":"0C96E62FC55C","TotalDuration":318,"AppName":"CHANNEL"}}
//! ```
//!
//! A fixed population of contracts (customers) watches TV. Each contract has an activity level
//! (the chance it is active on a given day), a viewing intensity, and an active window: some
//! contracts churn before the last day, a few join late. Each day the active contracts are drawn,
//! then that day's rows are drawn from them (weighted by intensity). Rows are spread evenly over
//! the days; the first `rows % days` days get one extra row.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate};

use crate::rng::{mix64, pick_cumulative, Stream};
use crate::write::{ensure_dir, remove_if_exists, stale_temp_base, write_atomic, AtomicFile};
use crate::{Error, GenSummary};

/// Every `AppName` the generator emits; `APP` is an unknown app that [`category`] maps to `None`.
pub const APP_NAMES: &[&str] = &["CHANNEL", "KPLUS", "DSHD", "VOD", "FIMS", "BHD", "DANET", "CHILD", "RELAX", "SPORT", "APP"];

/// Percent weight of each entry of [`APP_NAMES`] (sums to 100).
const APP_WEIGHTS: [u64; 11] = [30, 10, 5, 15, 7, 5, 3, 8, 6, 8, 3];

/// Name of the marker file that [`write()`] leaves in the output folder, holding the config line.
pub const MARKER_FILE: &str = ".generated";

/// Bumped whenever the generated data changes for the same config (invalidates old markers).
const GENERATOR_VERSION: u32 = 1;

/// Largest `TotalDuration` in seconds.
pub const MAX_DURATION: i64 = 20_000;

/// Upper bound on `contracts` (keeps code generation far from exhausting the code space).
const MAX_CONTRACTS: usize = 100_000_000;

// Independent random streams of one seed.
const STREAM_CONTRACTS: u64 = 1;
const STREAM_ACTIVITY: u64 = 2;
const STREAM_ROWS: u64 = 3;
const STREAM_IDS: u64 = 4;

/// Characters of `_id` values.
const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The reference mapping from `AppName` to viewing category (`None` for unknown apps).
pub fn category(app: &str) -> Option<&'static str> {
    match app {
        "CHANNEL" | "DSHD" | "KPLUS" => Some("TV"),
        "VOD" | "FIMS" | "BHD" | "DANET" => Some("Movie"),
        "CHILD" => Some("Child"),
        "RELAX" => Some("Relax"),
        "SPORT" => Some("Sport"),
        _ => None,
    }
}

/// Knobs of the viewing-log generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedallionConfig {
    /// Total rows over all days.
    pub rows: usize,
    /// Number of days, hence of files.
    pub days: u32,
    /// Number of distinct contracts in the population.
    pub contracts: usize,
    /// Date of the first file.
    pub start: NaiveDate,
    /// Seed of all randomness.
    pub seed: u64,
}

impl MedallionConfig {
    /// `rows` rows over 30 days from 2023-04-01, `max(10, rows / 40)` contracts, seed 42.
    pub fn with_rows(rows: usize) -> Self {
        MedallionConfig {
            rows,
            days: 30,
            contracts: (rows / 40).max(10),
            start: NaiveDate::from_ymd_opt(2023, 4, 1).expect("valid date"),
            seed: 42,
        }
    }

    /// Checks that the config can be generated (rows need at least one day and one contract).
    pub fn validate(&self) -> Result<(), Error> {
        if self.rows > 0 && self.days == 0 {
            return Err(Error::InvalidConfig(format!("{} rows need at least one day", self.rows)));
        }
        if self.rows > 0 && self.contracts == 0 {
            return Err(Error::InvalidConfig(format!("{} rows need at least one contract", self.rows)));
        }
        if self.contracts > MAX_CONTRACTS {
            return Err(Error::InvalidConfig(format!("at most {MAX_CONTRACTS} contracts, got {}", self.contracts)));
        }
        if self.start.checked_add_days(Days::new(u64::from(self.days))).is_none() {
            return Err(Error::InvalidConfig(format!("{} days from {} overflow the calendar", self.days, self.start)));
        }
        Ok(())
    }

    /// The date of day `day` (0-based).
    pub fn date(&self, day: u32) -> NaiveDate {
        self.start + Days::new(u64::from(day))
    }

    /// How many rows day `day` (0-based) has: `rows / days`, plus one on the first `rows % days` days.
    pub fn rows_on_day(&self, day: u32) -> usize {
        if self.days == 0 || day >= self.days {
            return 0;
        }
        let days = self.days as usize;
        self.rows / days + usize::from((day as usize) < self.rows % days)
    }

    /// Global index of the first row of day `day`.
    fn first_row_of_day(&self, day: u32) -> usize {
        let days = self.days as usize;
        let day = day as usize;
        day * (self.rows / days) + day.min(self.rows % days)
    }

    /// The line stored in the marker file: identifies generator version and config.
    fn marker_line(&self) -> String {
        format!(
            "polder-datagen medallion v{GENERATOR_VERSION} rows={} days={} contracts={} start={} seed={}\n",
            self.rows, self.days, self.contracts, self.start, self.seed
        )
    }
}

/// The file name of a day's logs: `YYYYMMDD.json`.
pub fn file_name(date: NaiveDate) -> String {
    format!("{:04}{:02}{:02}.json", date.year(), date.month(), date.day())
}

/// One viewing-log line, plus the date of the file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Date of the file (`YYYYMMDD.json`) holding the line.
    pub date: NaiveDate,
    /// `_id`: 20 characters of `[A-Za-z0-9_-]`, unique over the data set.
    pub id: String,
    /// `_source.Contract`: 3 uppercase letters and 6 digits.
    pub contract: String,
    /// `_source.Mac`: 12 uppercase hex digits; each contract has one or two.
    pub mac: String,
    /// `_source.TotalDuration`: seconds watched, `1..=20000`.
    pub total_duration: i64,
    /// `_source.AppName`: one of [`APP_NAMES`].
    pub app_name: &'static str,
}

/// All records in file order: day by day, line by line. Exactly `cfg.rows` of them; none if the
/// config is invalid (see [`MedallionConfig::validate`]).
pub fn records(cfg: &MedallionConfig) -> impl Iterator<Item = LogRecord> + Send + 'static {
    let days = if cfg.validate().is_ok() { cfg.days } else { 0 };
    let generator = Arc::new(Generator::new(cfg.clone(), days));
    (0..days).flat_map(move |day| {
        let g = Arc::clone(&generator);
        let date = g.cfg.date(day);
        let mut rows = g.day(day);
        std::iter::from_fn(move || {
            let row = rows.next_row(&g.contracts)?;
            let c = &g.contracts[row.contract as usize];
            Some(LogRecord {
                date,
                id: ascii(&row.id),
                contract: ascii(&c.code),
                mac: ascii(&c.macs[usize::from(row.mac)]),
                total_duration: row.duration,
                app_name: APP_NAMES[usize::from(row.app)],
            })
        })
    })
}

/// Writes `dir/YYYYMMDD.json` for each day (creating `dir`), then the marker file.
///
/// `dir` is the data set's folder: first the marker, every other `YYYYMMDD.json` file and temp
/// files that crashed runs left behind are removed, so the folder ends up holding exactly this
/// data set (other files are left alone). Each file is written atomically and the marker last, so
/// it only exists while the folder holds complete data for the config.
pub fn write(cfg: &MedallionConfig, dir: &Path) -> Result<GenSummary, Error> {
    cfg.validate()?;
    ensure_dir(dir)?;
    let marker = dir.join(MARKER_FILE);
    remove_if_exists(&marker)?;
    remove_day_files(dir)?;

    let generator = Generator::new(cfg.clone(), cfg.days);
    let mut files = Vec::with_capacity(cfg.days as usize);
    let mut total = 0usize;
    let mut line = Vec::with_capacity(256);
    for day in 0..cfg.days {
        let path = dir.join(file_name(cfg.date(day)));
        let mut file = AtomicFile::create(&path)?;
        let mut rows = generator.day(day);
        while let Some(row) = rows.next_row(&generator.contracts) {
            format_line(&mut line, &row, &generator.contracts[row.contract as usize]);
            file.out().write_all(&line).map_err(|e| file.err(e))?;
            total += 1;
        }
        files.push(file.commit()?);
    }
    write_atomic(&marker, cfg.marker_line().as_bytes())?;
    Ok(GenSummary { files, rows: total })
}

/// Like [`write()`], but does nothing (returns `None`) when `dir` already holds this config's data:
/// its marker file has the same config line and every day file exists. Otherwise writes (which
/// first removes the old day files).
pub fn write_if_missing(cfg: &MedallionConfig, dir: &Path) -> Result<Option<GenSummary>, Error> {
    cfg.validate()?;
    if is_current(cfg, dir) {
        return Ok(None);
    }
    write(cfg, dir).map(Some)
}

/// Whether `dir` holds complete data generated from `cfg`.
fn is_current(cfg: &MedallionConfig, dir: &Path) -> bool {
    let Ok(marker) = std::fs::read_to_string(dir.join(MARKER_FILE)) else {
        return false;
    };
    marker == cfg.marker_line() && (0..cfg.days).all(|d| dir.join(file_name(cfg.date(d))).is_file())
}

/// Removes files named like day files (`YYYYMMDD.json`), and their stale temp files, from `dir`.
fn remove_day_files(dir: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("cannot list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = is_day_file_name(name) || stale_temp_base(name).is_some_and(is_day_file_name);
        if ours && entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            remove_if_exists(&entry.path())?;
        }
    }
    Ok(())
}

/// Whether `name` looks like `YYYYMMDD.json`.
fn is_day_file_name(name: &str) -> bool {
    name.len() == 13 && name.ends_with(".json") && name.as_bytes()[..8].iter().all(u8::is_ascii_digit)
}

/// One contract of the population.
struct Contract {
    /// `AAA000000`.
    code: [u8; 9],
    /// One or two MAC addresses (`n_macs` of them are used).
    macs: [[u8; 12]; 2],
    n_macs: u8,
    /// Chance of being active on a day of its window.
    p_active: f64,
    /// Relative number of rows on an active day.
    weight: f64,
    /// Active window, inclusive (0-based days).
    first_day: u32,
    last_day: u32,
}

/// A generated row, referring to its contract by index.
struct Row {
    id: [u8; 20],
    contract: u32,
    mac: u8,
    duration: i64,
    app: u8,
}

/// The contract population of a config; hands out per-day row streams.
struct Generator {
    cfg: MedallionConfig,
    contracts: Vec<Contract>,
}

impl Generator {
    /// Builds the population (none when there are no rows or no days to fill).
    fn new(cfg: MedallionConfig, days: u32) -> Self {
        let contracts = if cfg.rows > 0 && days > 0 { make_contracts(&cfg) } else { Vec::new() };
        Generator { cfg, contracts }
    }

    /// The rows of day `day`: picks the day's active contracts, then a row stream over them.
    fn day(&self, day: u32) -> DayRows {
        let remaining = self.cfg.rows_on_day(day);
        let (active, cumulative) = if remaining > 0 { self.active_on(day) } else { (Vec::new(), Vec::new()) };
        DayRows {
            rng: Stream::new(self.cfg.seed, STREAM_ROWS, u64::from(day)),
            id_key: mix64(self.cfg.seed ^ STREAM_IDS),
            next_index: self.cfg.first_row_of_day(day) as u64,
            remaining,
            active,
            cumulative,
        }
    }

    /// Contracts active on `day` (at least one) and their cumulative weights.
    fn active_on(&self, day: u32) -> (Vec<u32>, Vec<f64>) {
        let mut rng = Stream::new(self.cfg.seed, STREAM_ACTIVITY, u64::from(day));
        let in_window = |c: &Contract| c.first_day <= day && day <= c.last_day;
        let mut active: Vec<u32> = Vec::new();
        for (i, c) in self.contracts.iter().enumerate() {
            if in_window(c) && rng.chance(c.p_active) {
                active.push(i as u32);
            }
        }
        if active.is_empty() {
            // Nobody drew active: take one contract whose window covers the day (contract 0's
            // window covers every day, so there is one).
            let candidates: Vec<u32> =
                (0..self.contracts.len() as u32).filter(|&i| in_window(&self.contracts[i as usize])).collect();
            active.push(candidates[rng.below(candidates.len() as u64) as usize]);
        }
        let mut sum = 0.0;
        let cumulative = active
            .iter()
            .map(|&i| {
                sum += self.contracts[i as usize].weight;
                sum
            })
            .collect();
        (active, cumulative)
    }
}

/// Draws the contract population: unique codes, 1–2 unique MACs each, activity and window.
fn make_contracts(cfg: &MedallionConfig) -> Vec<Contract> {
    let mut rng = Stream::new(cfg.seed, STREAM_CONTRACTS, 0);
    let mut codes: HashSet<[u8; 9]> = HashSet::with_capacity(cfg.contracts);
    let mut macs: HashSet<u64> = HashSet::with_capacity(cfg.contracts * 2);
    let days = cfg.days.max(1);
    let mut out = Vec::with_capacity(cfg.contracts);
    for i in 0..cfg.contracts {
        let code = loop {
            let mut code = [0u8; 9];
            for b in &mut code[..3] {
                *b = b'A' + rng.below(26) as u8;
            }
            write_digits(&mut code[3..], rng.below(1_000_000));
            if codes.insert(code) {
                break code;
            }
        };
        let n_macs: u8 = if rng.chance(0.35) { 2 } else { 1 };
        let mut mac_codes = [[0u8; 12]; 2];
        for mac in mac_codes.iter_mut().take(usize::from(n_macs)) {
            let bits = loop {
                let bits = rng.bits() >> 16;
                if macs.insert(bits) {
                    break bits;
                }
            };
            write_hex(mac, bits);
        }
        // Heavy viewers are active most days, light ones only a few.
        let tier = rng.unit();
        let p_active = if tier < 0.25 {
            rng.between(0.75, 0.98)
        } else if tier < 0.65 {
            rng.between(0.3, 0.75)
        } else {
            rng.between(0.03, 0.3)
        };
        let weight = (0.5 + p_active) * rng.between(0.5, 1.5);
        // A quarter churn before the last day; a tenth join late.
        let churns = rng.chance(0.25);
        let churn_day = rng.below(u64::from((days - 1).max(1))) as u32;
        let joins_late = rng.chance(0.1);
        let join_day = rng.unit();
        let (first_day, last_day) = if i == 0 || days == 1 {
            (0, days - 1) // contract 0 spans every day, so every day has a candidate
        } else {
            let last = if churns { churn_day } else { days - 1 };
            let first = if joins_late { (join_day * f64::from(last + 1)) as u32 } else { 0 };
            (first.min(last), last)
        };
        out.push(Contract { code, macs: mac_codes, n_macs, p_active, weight, first_day, last_day });
    }
    out
}

/// The rows of one day.
struct DayRows {
    rng: Stream,
    id_key: u64,
    next_index: u64,
    remaining: usize,
    active: Vec<u32>,
    cumulative: Vec<f64>,
}

impl DayRows {
    /// The next row, or `None` when the day is full.
    fn next_row(&mut self, contracts: &[Contract]) -> Option<Row> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let rng = &mut self.rng;

        let total = *self.cumulative.last().expect("a day with rows has an active contract");
        let contract = self.active[pick_cumulative(&self.cumulative, rng.unit() * total)];
        let mac = if contracts[contract as usize].n_macs == 2 { rng.below(2) as u8 } else { 0 };

        let mut ticket = rng.below(100);
        let mut app = 0u8;
        for (i, &w) in APP_WEIGHTS.iter().enumerate() {
            if ticket < w {
                app = i as u8;
                break;
            }
            ticket -= w;
        }

        // u^4 skews towards short sessions: median ~21 min, mean ~67 min, max 20000 s.
        let u = rng.unit();
        let duration = 1 + (MAX_DURATION as f64 * (u * u) * (u * u)) as i64;

        // Low 64 bits: a bijection of the global row index (unique); high 56 bits: random.
        let unique = mix64(self.next_index.wrapping_add(self.id_key));
        self.next_index += 1;
        let bits = (u128::from(rng.bits() >> 8) << 64) | u128::from(unique);
        let mut id = [0u8; 20];
        for (k, c) in id.iter_mut().enumerate() {
            *c = ID_ALPHABET[((bits >> (6 * (19 - k))) & 63) as usize];
        }

        Some(Row { id, contract, mac, duration, app })
    }
}

/// Formats one NDJSON line (with its newline) into `line`.
fn format_line(line: &mut Vec<u8>, row: &Row, contract: &Contract) {
    line.clear();
    line.extend_from_slice(br#"{"_index":"history","_type":"kplus","_id":""#);
    line.extend_from_slice(&row.id);
    line.extend_from_slice(br#"","_score":0,"_source":{"Contract":""#);
    line.extend_from_slice(&contract.code);
    line.extend_from_slice(br#"","Mac":""#);
    line.extend_from_slice(&contract.macs[usize::from(row.mac)]);
    line.extend_from_slice(br#"","TotalDuration":"#);
    push_int(line, row.duration);
    line.extend_from_slice(br#","AppName":""#);
    line.extend_from_slice(APP_NAMES[usize::from(row.app)].as_bytes());
    line.extend_from_slice(b"\"}}\n");
}

/// Appends the decimal digits of a non-negative `n`.
fn push_int(out: &mut Vec<u8>, n: i64) {
    debug_assert!(n >= 0);
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Fills `out` with the zero-padded decimal digits of `n`.
fn write_digits(out: &mut [u8], mut n: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Fills `out` with the zero-padded uppercase hex digits of `n`.
fn write_hex(out: &mut [u8], mut n: u64) {
    for b in out.iter_mut().rev() {
        *b = b"0123456789ABCDEF"[(n & 15) as usize];
        n >>= 4;
    }
}

/// The generator's ASCII bytes as a `String`.
fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests;
