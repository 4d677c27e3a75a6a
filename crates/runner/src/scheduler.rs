//! Cron schedules and the run queue.
//!
//! Each tick fires due schedules into the queue (in SQLite, with the schedule's last fire time,
//! in one transaction) and starts queued runs while the runner's and the pipeline's limits allow.
//! Missed intervals are not caught up (only the newest fires); `backfill` queues a range on request.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use cron::Schedule;
use polder_engine::executor::RunOptions;

use crate::api::pipelines::start_run;
use crate::catalog::find;
use crate::error::ApiError;
use crate::state::AppState;

/// How often the scheduler looks at schedules and the queue.
pub const TICK: Duration = Duration::from_millis(500);

/// A parsed schedule in its time zone.
#[derive(Debug, Clone)]
pub struct Cron {
    schedule: Schedule,
    tz: Tz,
}

impl Cron {
    /// Parses a 5-field (`min hour day month weekday`, Sunday = 0) or 6-field (seconds first)
    /// cron expression, evaluated in the IANA time zone `tz` (UTC when None).
    pub fn parse(expr: &str, tz: Option<&str>) -> Result<Cron, String> {
        let f: Vec<&str> = expr.split_whitespace().collect();
        let six = match f.len() {
            5 => format!("0 {} {} {} {} {}", f[0], f[1], f[2], f[3], crate_weekdays(f[4])),
            6 => format!("{} {} {} {} {} {}", f[0], f[1], f[2], f[3], f[4], crate_weekdays(f[5])),
            n => {
                return Err(format!("schedule `{expr}` has {n} fields; use 5 (min hour day month weekday) or 6 (seconds first)"))
            }
        };
        let schedule = Schedule::from_str(&six).map_err(|e| format!("schedule `{expr}` is not a valid cron expression: {e}"))?;
        let tz = match tz {
            Some(name) => {
                name.parse::<Tz>().map_err(|_| format!("unknown time zone `{name}`; use an IANA name such as Europe/Paris"))?
            }
            None => Tz::UTC,
        };
        Ok(Cron { schedule, tz })
    }

    /// Fire times after `after` up to and including `until`, at most `cap` of them.
    pub fn fires_between(&self, after: DateTime<Utc>, until: DateTime<Utc>, cap: usize) -> Vec<DateTime<Utc>> {
        let start = after.with_timezone(&self.tz);
        self.schedule
            .after(&start)
            .take_while(|t| t.with_timezone(&Utc) <= until)
            .take(cap)
            .map(|t| t.with_timezone(&Utc))
            .collect()
    }

    /// The logical date of the interval that ends at `fire` (Airflow's `ds`): the date, in the
    /// schedule's time zone, of the fire time before it.
    pub fn logical_date(&self, fire: DateTime<Utc>) -> NaiveDate {
        // Walk from a day (or a year, for sparse schedules) back to find the previous fire.
        for back in [Duration::from_secs(86_400 * 2), Duration::from_secs(86_400 * 400)] {
            let from = fire - chrono::Duration::from_std(back).expect("small duration");
            if let Some(prev) = self.fires_between(from, fire - chrono::Duration::milliseconds(1), usize::MAX).last() {
                return prev.with_timezone(&self.tz).date_naive();
            }
        }
        fire.with_timezone(&self.tz).date_naive()
    }
}

/// The logical dates of the schedule's intervals firing between `from` and `to` (days, inclusive,
/// in the schedule's time zone), at most 10,000.
pub fn backfill_dates(expr: &str, tz: Option<&str>, from: &str, to: &str) -> Result<Vec<NaiveDate>, String> {
    let cron = Cron::parse(expr, tz)?;
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("`{s}` is not a date (YYYY-MM-DD): {e}"));
    let (from, to) = (day(from)?, day(to)?);
    if to < from {
        return Err(format!("backfill range ends ({to}) before it starts ({from})"));
    }
    let local = |d: NaiveDate| {
        cron.tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")).earliest().map(|t| t.with_timezone(&Utc))
    };
    let (Some(start), Some(end)) = (local(from), local(to + chrono::Duration::days(1))) else {
        return Err("the range falls in a time-zone gap".into());
    };
    let fires = cron.fires_between(start - chrono::Duration::milliseconds(1), end - chrono::Duration::milliseconds(1), 10_000);
    Ok(fires.into_iter().map(|f| cron.logical_date(f)).collect())
}

/// Standard cron weekdays (0-6, Sunday = 0 or 7) to the cron crate's (1-7, Sunday = 1); names
/// (MON-FRI) and steps pass unchanged.
fn crate_weekdays(field: &str) -> String {
    let map = |p: &str| match p.parse::<u32>() {
        Ok(n) => ((n % 7) + 1).to_string(),
        Err(_) => p.to_string(),
    };
    field
        .split(',')
        .map(|item| {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (item, None),
            };
            let range: Vec<String> = range.split('-').map(map).collect();
            match step {
                Some(s) => format!("{}/{s}", range.join("-")),
                None => range.join("-"),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs forever: fire schedules, start queued runs.
pub async fn run(state: Arc<AppState>) {
    let mut warned: HashMap<String, String> = HashMap::new();
    loop {
        if let Err(e) = fire_due(&state, &mut warned) {
            tracing::error!(error = %e, "scheduler tick failed");
        }
        dispatch(&state).await;
        tokio::time::sleep(TICK).await;
    }
}

fn fire_due(state: &Arc<AppState>, warned: &mut HashMap<String, String>) -> Result<(), ApiError> {
    let now = Utc::now();
    for (_, _, loaded) in crate::catalog::all(state) {
        let Ok(p) = loaded else { continue };
        let Some(expr) = &p.schedule else { continue };
        let cron = match Cron::parse(expr, p.timezone.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                if warned.insert(p.name.clone(), e.clone()).as_ref() != Some(&e) {
                    tracing::warn!(pipeline = %p.name, error = %e, "schedule ignored");
                }
                continue;
            }
        };
        let Some(last_ms) = state.ws.store.last_fire(&p.name)? else {
            // First sight of this schedule: start counting from now, without back-filling.
            state.ws.store.set_last_fire(&p.name, now.timestamp_millis())?;
            continue;
        };
        let last = Utc.timestamp_millis_opt(last_ms).single().unwrap_or(now);
        // Missed intervals are not caught up: only the newest due fire runs.
        let Some(fire) = cron.fires_between(last, now, 100_000).last().copied() else { continue };
        let params = serde_json::json!({ polder_engine::params::RUN_DATE: cron.logical_date(fire).to_string() });
        let id = state.ws.store.fire_schedule(&p.name, fire.timestamp_millis(), &params.to_string())?;
        tracing::info!(pipeline = %p.name, queue_id = id, fire = %fire, "schedule fired");
    }
    Ok(())
}

/// The next fire time of a schedule after now, if it parses.
pub fn next_fire(expr: &str, tz: Option<&str>) -> Option<DateTime<Utc>> {
    let cron = Cron::parse(expr, tz).ok()?;
    let now = Utc::now();
    cron.fires_between(now, now + chrono::Duration::days(3660), 1).first().copied()
}

/// Whether one more run of `pipeline` may start now (runner-wide and per-pipeline limits).
pub fn has_capacity(state: &AppState, pipeline: &str, max_for_pipeline: usize) -> bool {
    let active = state.active.lock().unwrap_or_else(|p| p.into_inner());
    let mine = active.values().filter(|(p, _)| p == pipeline).count();
    active.len() < state.max_active_runs && mine < max_for_pipeline
}

/// Starts queued runs, oldest first, while limits allow. An entry leaves the queue only after
/// its run is recorded, so a crash can repeat a start but never lose one.
pub async fn dispatch(state: &Arc<AppState>) {
    let queue = match state.ws.store.queued() {
        Ok(q) => q,
        Err(e) => return tracing::error!(error = %e, "cannot read the run queue"),
    };
    for q in queue {
        let pipeline = match find(state, &q.pipeline) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(pipeline = %q.pipeline, error = %e, "dropping queued run");
                let _ = state.ws.store.dequeue(q.id);
                continue;
            }
        };
        if !has_capacity(state, &pipeline.name, pipeline.max_active_runs) {
            continue;
        }
        let params: std::collections::BTreeMap<String, String> = serde_json::from_str(&q.params).unwrap_or_default();
        let opts = RunOptions { params: params.into_iter().collect(), trigger: q.trigger.clone(), ..Default::default() };
        match start_run(state.clone(), pipeline, opts).await {
            Ok(run_id) => tracing::info!(queue_id = q.id, run_id, "started queued run"),
            Err(e) => tracing::warn!(queue_id = q.id, error = %e, "queued run could not start; dropped"),
        }
        let _ = state.ws.store.dequeue(q.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_weekdays_map_to_the_crate_numbering() {
        assert_eq!(crate_weekdays("1-5"), "2-6");
        assert_eq!(crate_weekdays("0,6"), "1,7");
        assert_eq!(crate_weekdays("*/2"), "*/2");
        assert_eq!(crate_weekdays("MON-FRI"), "MON-FRI");
    }

    #[test]
    fn five_field_schedules_in_a_time_zone() {
        let c = Cron::parse("30 2 * * 1", Some("Europe/Paris")).unwrap();
        let from = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(); // a Monday
        let fires = c.fires_between(from, from + chrono::Duration::days(14), 10);
        // 02:30 in Paris in winter is 01:30 UTC, on Mondays.
        assert_eq!(
            fires,
            [Utc.with_ymd_and_hms(2024, 1, 1, 1, 30, 0).unwrap(), Utc.with_ymd_and_hms(2024, 1, 8, 1, 30, 0).unwrap()]
        );
        assert_eq!(c.logical_date(fires[1]), NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
        assert!(Cron::parse("0 2 * *", None).unwrap_err().contains("has 4 fields"));
        assert!(Cron::parse("0 2 * * *", Some("Mars/Olympus")).unwrap_err().contains("unknown time zone"));
    }
}
