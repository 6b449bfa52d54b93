//! Rebuilding derived fields from the raw record, e.g. after a parser fix.

use chrono::Utc;
use serde_json::json;

use super::Engine;
use super::engine::db_time;
use super::events::insert_event;
use super::thread::rewrite_follow_up;
use crate::draft::DraftStatus;
use crate::message::auth_results::QUARANTINE_PREFIX;
use crate::message::{self, ParseOptions};
use crate::store::{ReparseReport, Result};

/// Id, status, quarantine reason and raw hash (None: only headers kept).
type StoredDraft = (i64, String, Option<String>, Option<String>);

impl Engine {
    /// Re-parses every stored message. Status, editors' work, events and
    /// identity are kept; only derived columns change. Drafts are processed in
    /// id order in small transactions so a large store never holds a long lock.
    pub async fn reparse(&self, options: &ParseOptions) -> Result<ReparseReport> {
        let mut report = ReparseReport::default();
        let mut after = 0_i64;
        loop {
            let rows: Vec<StoredDraft> = sqlx::query_as(
                "SELECT id, status, quarantine_reason, raw_sha256 FROM drafts
                 WHERE id > $1 ORDER BY id LIMIT 100",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            let now = db_time(Utc::now());
            let mut tx = self.pool.begin().await?;
            for (id, status, reason, sha) in rows {
                let Some(sha) = sha else {
                    report.skipped += 1;
                    continue;
                };
                let bytes = self.stored_raw(&sha).await?;
                let mut parsed = message::parse(&bytes, options);
                // A sender who failed DMARC at ingestion stays held: that
                // verdict came from DNS then, not from the bytes.
                if let Some(reason) = reason.filter(|r| r.starts_with(QUARANTINE_PREFIX))
                    && parsed.quarantine.is_none()
                {
                    parsed.quarantine = Some(reason);
                }
                super::rows::rewrite_derived(&mut tx, id, &parsed).await?;
                report.reparsed += 1;
                insert_event(&mut tx, id, now, "reparsed", &self.actor, &json!({}), None).await?;
                if status == DraftStatus::Quarantined.as_str() && parsed.quarantine.is_none() {
                    sqlx::query(
                        "UPDATE drafts SET status = $2, status_changed_at = $3 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(DraftStatus::New.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let detail = json!({ "from": "quarantined", "to": "new", "note": "parses since reparse" });
                    insert_event(&mut tx, id, now, "released", &self.actor, &detail, None).await?;
                    report.released += 1;
                }
            }
            tx.commit().await?;
        }
        report.follow_ups = self.reparse_follow_ups(options).await?;
        Ok(report)
    }

    /// Rebuilds the derived columns of every follow-up (`reparse`).
    async fn reparse_follow_ups(&self, options: &crate::message::ParseOptions) -> Result<u64> {
        let mut after = 0_i64;
        let mut done = 0;
        loop {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, raw_sha256 FROM follow_ups WHERE id > $1 ORDER BY id LIMIT 100",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else {
                return Ok(done);
            };
            after = last.0;
            let mut tx = self.pool.begin().await?;
            for (id, sha) in rows {
                let bytes = self.stored_raw(&sha).await?;
                let parsed = crate::message::parse(&bytes, options);
                rewrite_follow_up(&mut tx, id, &parsed).await?;
                done += 1;
            }
            tx.commit().await?;
        }
    }
}
