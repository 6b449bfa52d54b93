//! The desk's figures (`crate::store::statistics`) in a few bounded
//! queries: every one reads an index range of the weeks shown or the open
//! drafts, never the whole history.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::Engine;
use super::engine::db_time;
use super::query::AWAITING_DECISION;
use crate::store::Result;
use crate::store::statistics::{
    DECISIONS, EditorLoad, Statistics, WEEKS, WeekIntake, percentiles, week_bounds,
};

impl Engine {
    pub async fn statistics(
        &self,
        now: DateTime<Utc>,
        overdue_before: DateTime<Utc>,
    ) -> Result<Statistics> {
        let bounds = week_bounds(now, self.tz);
        let since = db_time(bounds[0]);
        let decisions = DECISIONS.map(|k| format!("'{k}'")).join(", ");

        // Intake: one pass over the weeks' range of the received index.
        let arms: String = (1..=WEEKS)
            .map(|i| format!(" WHEN received_at < ${} THEN {}", i + 1, i - 1))
            .collect();
        let sql = format!(
            "SELECT CAST(CASE{arms} ELSE {WEEKS} END AS BIGINT) AS week, classification,
                 COUNT(*) AS n
             FROM drafts WHERE received_at >= $1 AND received_at < ${}
             GROUP BY 1, classification",
            WEEKS + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for bound in &bounds {
            query = query.bind(db_time(*bound));
        }
        let mut weeks: Vec<WeekIntake> = bounds[..WEEKS]
            .iter()
            .map(|start| WeekIntake {
                week_start: start.with_timezone(&self.tz).date_naive(),
                people: 0,
                automated: 0,
            })
            .collect();
        for row in query.fetch_all(&self.pool).await? {
            let week: i64 = row.try_get("week")?;
            let classification: String = row.try_get("classification")?;
            let n: i64 = row.try_get("n")?;
            if let Some(w) = usize::try_from(week).ok().and_then(|w| weeks.get_mut(w)) {
                if classification == "normal" {
                    w.people += n as u64;
                } else {
                    w.automated += n as u64;
                }
            }
        }

        // The first decision of each draft decided in the weeks shown.
        let firsts: Vec<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT d.received_at, MIN(e.at) FROM events e JOIN drafts d ON d.id = e.draft_id
             WHERE e.kind IN ({decisions}) AND e.at >= $1
             GROUP BY d.id, d.received_at"
        )))
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let days: Vec<f64> = firsts
            .iter()
            .map(|(received, decided)| {
                (*decided - *received).num_seconds().max(0) as f64 / 86_400.0
            })
            .collect();

        let outcomes: Vec<(String, i64)> = sqlx::query_as(
            "SELECT kind, COUNT(DISTINCT draft_id) FROM events
             WHERE kind IN ('signed_off', 'rejected') AND at >= $1 GROUP BY kind",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let outcome = |kind: &str| {
            outcomes
                .iter()
                .find(|(k, _)| k == kind)
                .map_or(0, |(_, n)| *n as u64)
        };

        // Each editor: open drafts held now, decisions made lately.
        let held: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT claimed_by, COUNT(*) FROM drafts
             WHERE claimed_by IS NOT NULL AND status IN ({AWAITING_DECISION}) GROUP BY claimed_by"
        )))
        .fetch_all(&self.pool)
        .await?;
        let made: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT actor, COUNT(*) FROM events
             WHERE kind IN ({decisions}, 'sent_for_signoff') AND at >= $1 GROUP BY actor"
        )))
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut editors: BTreeMap<String, EditorLoad> = BTreeMap::new();
        for (name, n, held) in held
            .into_iter()
            .map(|(name, n)| (name, n, true))
            .chain(made.into_iter().map(|(name, n)| (name, n, false)))
        {
            let load = editors.entry(name.clone()).or_insert(EditorLoad {
                name,
                holding: 0,
                decisions: 0,
            });
            if held {
                load.holding = n as u64;
            } else {
                load.decisions = n as u64;
            }
        }
        let overdue = self.count_overdue(overdue_before).await? as u64;
        Ok(Statistics {
            weeks,
            decided: days.len() as u64,
            decision_days: percentiles(days),
            accepted: outcome("signed_off"),
            rejected: outcome("rejected"),
            editors: editors.into_values().collect(),
            overdue,
        })
    }
}
