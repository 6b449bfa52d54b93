//! What the desk has done lately: intake per week, time to the first
//! decision, acceptance, each editor's load, overdue drafts. Figures only;
//! the page draws them, the API and /metrics report them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// Weeks of intake shown.
pub const WEEKS: usize = 12;

/// The decisions a contributor hears about: the end of the first wait.
pub const DECISIONS: [&str; 3] = ["signed_off", "rejected", "revision_requested"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    /// The last `WEEKS` weeks, oldest first, each from Monday 00:00 in the
    /// configured time zone.
    pub weeks: Vec<WeekIntake>,
    /// Drafts whose first decision fell in those weeks.
    pub decided: u64,
    /// Days from receipt to the first decision: median and 90th percentile.
    pub decision_days: Option<Percentiles>,
    /// Signed off and rejected in those weeks (by decision events).
    pub accepted: u64,
    pub rejected: u64,
    pub editors: Vec<EditorLoad>,
    /// Drafts past the processing period without a decision.
    pub overdue: u64,
}

impl Statistics {
    /// Accepted among accepted and rejected, if any were decided.
    pub fn acceptance_rate(&self) -> Option<f64> {
        let decided = self.accepted + self.rejected;
        (decided > 0).then(|| self.accepted as f64 / decided as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekIntake {
    pub week_start: NaiveDate,
    pub people: u64,
    pub automated: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub median: f64,
    pub p90: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditorLoad {
    pub name: String,
    /// Open drafts they hold now.
    pub holding: u64,
    /// Decisions and sends for sign-off they made in those weeks.
    pub decisions: u64,
}

/// The Mondays (00:00 in `tz`) that start the last `WEEKS` weeks, oldest
/// first, and the end of the current week.
pub fn week_bounds(now: DateTime<Utc>, tz: Tz) -> Vec<DateTime<Utc>> {
    let today = now.with_timezone(&tz).date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    (0..=WEEKS as i64)
        .map(|i| monday - Duration::weeks(WEEKS as i64 - 1 - i))
        .map(|day| midnight(day, tz))
        .collect()
}

fn midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&start)
        .earliest()
        .map_or_else(|| start.and_utc(), |t| t.with_timezone(&Utc))
}

/// Median and 90th percentile (nearest rank) of `values`.
pub fn percentiles(mut values: Vec<f64>) -> Option<Percentiles> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank =
        |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    Some(Percentiles {
        median: rank(0.5),
        p90: rank(0.9),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_midnight_where_the_magazine_is() {
        // Saturday 2026-12-05 10:00 in Taipei.
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).unwrap();
        let bounds = week_bounds(now, chrono_tz::Asia::Taipei);
        assert_eq!(bounds.len(), WEEKS + 1);
        let last_monday = bounds[WEEKS - 1].with_timezone(&chrono_tz::Asia::Taipei);
        assert_eq!(
            last_monday.date_naive(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        assert_eq!(last_monday.time(), chrono::NaiveTime::MIN);
        assert!(bounds[WEEKS] > now && bounds[WEEKS - 1] <= now);
        assert_eq!(bounds[1] - bounds[0], Duration::weeks(1));
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let days: Vec<f64> = (1..=10).map(f64::from).collect();
        let p = percentiles(days).unwrap();
        assert_eq!((p.median, p.p90), (5.0, 9.0));
        assert_eq!(percentiles(vec![3.0]).unwrap().p90, 3.0);
        assert!(percentiles(Vec::new()).is_none());
    }
}
