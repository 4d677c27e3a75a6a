//! Smart-meter readings and per-region demand forecasts for the energy example (CSV).
//!
//! - `meters.csv` (`meter_id,region,kind`): meters `M0001`…, every region has one or more,
//!   about 30% `commercial`, the rest `residential`.
//! - `readings.csv` (`meter_id,read_at,kwh`): one reading per meter every 15 minutes, in time
//!   order (all meters of a slot, then the next slot). Residential use peaks in the evening,
//!   commercial use in working hours (and drops at weekends). About 0.5% of readings have an
//!   empty `kwh` and 0.5% a negative one: bad rows for the pipeline to filter out.
//! - `forecast.csv` (`region,hour,predicted_kwh`): one row per hour and region: the expected
//!   (noise-free) total of the region's meters that hour, times an error factor in `[0.85, 1.15)`.
//!
//! Every `kwh` value is rounded to 3 decimals before it is stored, so the record's `f64` equals
//! the value parsed back from the file's text.

use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Weekday};

use crate::rng::Stream;
use crate::write::{ensure_dir, AtomicFile};
use crate::{Error, GenSummary};

/// The regions meters belong to, in the order forecasts list them.
pub const REGIONS: &[&str] = &["NORTH", "SOUTH", "EAST", "WEST"];

/// Minutes between two readings of a meter.
pub const INTERVAL_MINUTES: u32 = 15;

/// Readings per meter per day.
pub const READINGS_PER_DAY: u32 = 24 * 60 / INTERVAL_MINUTES;

/// `kind` of a household meter.
pub const RESIDENTIAL: &str = "residential";

/// `kind` of a business meter.
pub const COMMERCIAL: &str = "commercial";

/// Readings per hour (the forecast's granularity).
const SLOTS_PER_HOUR: u32 = 60 / INTERVAL_MINUTES;

// Independent random streams of one seed.
const STREAM_METERS: u64 = 11;
const STREAM_READINGS: u64 = 12;
const STREAM_FORECAST: u64 = 13;

/// Relative residential load by hour of day: night trough, morning bump, evening peak.
const RESIDENTIAL_SHAPE: [f64; 24] = [
    0.45, 0.38, 0.35, 0.33, 0.33, 0.38, 0.60, 0.95, 0.90, 0.70, 0.60, 0.60, //
    0.65, 0.60, 0.55, 0.60, 0.75, 1.10, 1.50, 1.70, 1.60, 1.35, 1.00, 0.70,
];

/// Relative commercial load by hour of day: high from 8 to 17.
const COMMERCIAL_SHAPE: [f64; 24] = [
    0.30, 0.30, 0.30, 0.30, 0.30, 0.30, 0.45, 0.80, 1.30, 1.60, 1.70, 1.70, //
    1.60, 1.65, 1.70, 1.65, 1.50, 1.20, 0.80, 0.50, 0.40, 0.35, 0.30, 0.30,
];

/// Knobs of the smart-meter generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnergyConfig {
    /// Number of meters (at least one per region).
    pub meters: usize,
    /// Number of days of readings.
    pub days: u32,
    /// First day; readings start at 00:00:00 of it.
    pub start: NaiveDate,
    /// Seed of all randomness.
    pub seed: u64,
}

impl EnergyConfig {
    /// 12 meters over 3 days from 2024-01-15 (a Monday), seed 7: 3456 readings, 288 forecasts.
    pub fn small() -> Self {
        EnergyConfig { meters: 12, days: 3, start: NaiveDate::from_ymd_opt(2024, 1, 15).expect("valid date"), seed: 7 }
    }

    /// Checks that the config can be generated (one meter per region, at least one day).
    pub fn validate(&self) -> Result<(), Error> {
        if self.meters < REGIONS.len() {
            return Err(Error::InvalidConfig(format!(
                "need at least {} meters (one per region), got {}",
                REGIONS.len(),
                self.meters
            )));
        }
        if self.days == 0 {
            return Err(Error::InvalidConfig("need at least one day".into()));
        }
        if self.start.checked_add_days(Days::new(u64::from(self.days))).is_none() {
            return Err(Error::InvalidConfig(format!("{} days from {} overflow the calendar", self.days, self.start)));
        }
        Ok(())
    }

    /// Midnight of the first day.
    fn start_time(&self) -> NaiveDateTime {
        self.start.and_hms_opt(0, 0, 0).expect("midnight exists")
    }
}

/// A row of `meters.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meter {
    /// `M0001`, `M0002`, … (more digits past 9999).
    pub meter_id: String,
    /// One of [`REGIONS`].
    pub region: &'static str,
    /// [`RESIDENTIAL`] or [`COMMERCIAL`].
    pub kind: &'static str,
}

/// A row of `readings.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The meter's id.
    pub meter_id: String,
    /// Time of the reading (whole quarter hours).
    pub read_at: NaiveDateTime,
    /// kWh used in the quarter hour, 3 decimals; `None` (empty field) or negative for bad readings.
    pub kwh: Option<f64>,
}

/// A row of `forecast.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// One of [`REGIONS`].
    pub region: &'static str,
    /// Start of the hour.
    pub hour: NaiveDateTime,
    /// Predicted total kWh of the region's meters in that hour, 3 decimals.
    pub predicted_kwh: f64,
}

/// A meter plus the hidden parameters its readings are drawn from.
#[derive(Debug, Clone)]
struct Model {
    meter: Meter,
    /// Mean kWh per quarter hour at shape 1.0.
    scale: f64,
}

impl Model {
    /// Expected (noise-free) kWh of the quarter hour `slot` (0..96) of `date`.
    fn expected_kwh(&self, date: NaiveDate, slot: u32) -> f64 {
        let commercial = self.meter.kind == COMMERCIAL;
        let shape = if commercial { &COMMERCIAL_SHAPE } else { &RESIDENTIAL_SHAPE };
        let hour = (slot / SLOTS_PER_HOUR) as usize;
        let frac = f64::from(slot % SLOTS_PER_HOUR) / f64::from(SLOTS_PER_HOUR);
        let level = shape[hour] + (shape[(hour + 1) % 24] - shape[hour]) * frac;
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let day_factor = match (commercial, weekend) {
            (true, true) => 0.45,
            (false, true) => 1.1,
            _ => 1.0,
        };
        self.scale * level * day_factor
    }
}

/// Rounds to 3 decimals, the precision the files carry.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The meter population with hidden parameters (empty if the config is invalid).
fn models(cfg: &EnergyConfig) -> Vec<Model> {
    if cfg.validate().is_err() {
        return Vec::new();
    }
    let mut rng = Stream::new(cfg.seed, STREAM_METERS, 0);
    let mut placed: Vec<(&'static str, bool)> = (0..cfg.meters)
        .map(|i| {
            let region = if i < REGIONS.len() { REGIONS[i] } else { REGIONS[rng.below(REGIONS.len() as u64) as usize] };
            (region, rng.chance(0.3))
        })
        .collect();
    // Both kinds occur whenever there are two meters.
    if !placed.iter().any(|p| p.1) {
        placed[1].1 = true;
    }
    if placed.iter().all(|p| p.1) {
        placed[0].1 = false;
    }
    placed
        .into_iter()
        .enumerate()
        .map(|(i, (region, commercial))| {
            let scale = if commercial { rng.between(0.8, 2.4) } else { rng.between(0.12, 0.35) };
            let kind = if commercial { COMMERCIAL } else { RESIDENTIAL };
            Model { meter: Meter { meter_id: format!("M{:04}", i + 1), region, kind }, scale }
        })
        .collect()
}

/// The rows of `meters.csv` (empty if the config is invalid).
pub fn meters(cfg: &EnergyConfig) -> Vec<Meter> {
    models(cfg).into_iter().map(|m| m.meter).collect()
}

/// The rows of `readings.csv` in file order: every meter at 00:00, every meter at 00:15, …
/// (empty if the config is invalid).
pub fn readings(cfg: &EnergyConfig) -> impl Iterator<Item = Reading> + Send + 'static {
    let models = models(cfg);
    let slots = if models.is_empty() { 0 } else { u64::from(cfg.days) * u64::from(READINGS_PER_DAY) };
    let start = cfg.start_time();
    let mut rng = Stream::new(cfg.seed, STREAM_READINGS, 0);
    (0..slots).flat_map(move |slot| {
        let read_at = start + TimeDelta::minutes(slot as i64 * i64::from(INTERVAL_MINUTES));
        let slot_of_day = (slot % u64::from(READINGS_PER_DAY)) as u32;
        let values: Vec<Reading> = models
            .iter()
            .map(|m| Reading {
                meter_id: m.meter.meter_id.clone(),
                read_at,
                kwh: draw_kwh(&mut rng, m.expected_kwh(read_at.date(), slot_of_day)),
            })
            .collect();
        values
    })
}

/// One reading around `expected`: ±20% noise, and 1% bad values (half empty, half negative).
fn draw_kwh(rng: &mut Stream, expected: f64) -> Option<f64> {
    let value = round3(expected * rng.between(0.8, 1.2)).max(0.001);
    let fault = rng.unit();
    if fault < 0.005 {
        None
    } else if fault < 0.010 {
        Some(-value)
    } else {
        Some(value)
    }
}

/// The rows of `forecast.csv`: hour by hour, regions in [`REGIONS`] order (empty if the config is
/// invalid).
pub fn forecasts(cfg: &EnergyConfig) -> Vec<Forecast> {
    let models = models(cfg);
    if models.is_empty() {
        return Vec::new();
    }
    let mut rng = Stream::new(cfg.seed, STREAM_FORECAST, 0);
    let start = cfg.start_time();
    let hours = cfg.days * 24;
    let mut out = Vec::with_capacity(hours as usize * REGIONS.len());
    for h in 0..hours {
        let hour = start + TimeDelta::hours(i64::from(h));
        let first_slot = (h % 24) * SLOTS_PER_HOUR;
        for &region in REGIONS {
            let expected: f64 = models
                .iter()
                .filter(|m| m.meter.region == region)
                .flat_map(|m| (first_slot..first_slot + SLOTS_PER_HOUR).map(|s| m.expected_kwh(hour.date(), s)))
                .sum();
            let factor = 1.0 + rng.between(-0.15, 0.15);
            out.push(Forecast { region, hour, predicted_kwh: round3(expected * factor) });
        }
    }
    out
}

/// Writes `dir/meters.csv`, `dir/readings.csv` and `dir/forecast.csv` (creating `dir`), each atomically.
pub fn write(cfg: &EnergyConfig, dir: &Path) -> Result<GenSummary, Error> {
    cfg.validate()?;
    ensure_dir(dir)?;
    let mut files = Vec::with_capacity(3);
    let mut rows = 0;

    let meters = meters(cfg);
    files.push(write_csv(&dir.join("meters.csv"), "meter_id,region,kind", meters.iter(), |out, m| {
        writeln!(out, "{},{},{}", m.meter_id, m.region, m.kind)
    })?);
    rows += meters.len();

    let mut n = 0;
    files.push(write_csv(&dir.join("readings.csv"), "meter_id,read_at,kwh", readings(cfg), |out, r| {
        n += 1;
        write!(out, "{},", r.meter_id)?;
        write_datetime(out, r.read_at)?;
        match r.kwh {
            Some(kwh) => writeln!(out, ",{kwh:.3}"),
            None => writeln!(out, ","),
        }
    })?);
    rows += n;

    let forecasts = forecasts(cfg);
    files.push(write_csv(&dir.join("forecast.csv"), "region,hour,predicted_kwh", forecasts.iter(), |out, f| {
        write!(out, "{},", f.region)?;
        write_datetime(out, f.hour)?;
        writeln!(out, ",{:.3}", f.predicted_kwh)
    })?);
    rows += forecasts.len();

    Ok(GenSummary { files, rows })
}

/// Writes a CSV file atomically: the header line, then one line per item.
fn write_csv<T>(
    path: &Path,
    header: &str,
    items: impl IntoIterator<Item = T>,
    mut line: impl FnMut(&mut BufWriter<std::fs::File>, T) -> std::io::Result<()>,
) -> Result<std::path::PathBuf, Error> {
    let mut file = AtomicFile::create(path)?;
    writeln!(file.out(), "{header}").map_err(|e| file.err(e))?;
    for item in items {
        line(file.out(), item).map_err(|e| file.err(e))?;
    }
    file.commit()
}

/// Writes `YYYY-MM-DD HH:MM:SS`.
fn write_datetime(out: &mut impl Write, t: NaiveDateTime) -> std::io::Result<()> {
    write!(out, "{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests;
