//! At most once after the hand-over. The sender records the moment the SMTP
//! server says "go ahead" to DATA, before the message's bytes and the final
//! dot; a row interrupted after that (the process killed, the connection
//! lost before the server's answer) may already be in the contributor's
//! inbox. Such rows are never sent again: they become `uncertain`, with an
//! event in the draft's history, so no contributor gets the same mail twice.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::engine::db_time;
use super::events::insert_event;
use super::{Db, Engine};
use crate::store::Result;

impl Engine {
    /// Durably notes that the acknowledgement's bytes are about to go out.
    pub async fn ack_handed_over(&self, draft_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE acks SET handed_over_at = $2 WHERE draft_id = $1 AND status = 'pending'",
        )
        .bind(draft_id)
        .bind(db_time(Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Durably notes that the letter's bytes are about to go out.
    pub async fn letter_handed_over(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE letters SET handed_over_at = $2 WHERE id = $1 AND status = 'pending'")
            .bind(id)
            .bind(db_time(Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The connection broke after the hand-over, before the server answered.
    pub async fn ack_uncertain(&self, draft_id: i64, error: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let settled = sqlx::query(
            "UPDATE acks SET status = 'uncertain', attempts = attempts + 1, last_error = $2,
                 lease_until = NULL
             WHERE draft_id = $1 AND status = 'pending' RETURNING draft_id",
        )
        .bind(draft_id)
        .bind(error)
        .fetch_all(&mut *tx)
        .await?;
        self.record_uncertain(&mut tx, &settled, "ack_uncertain")
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The connection broke after the hand-over, before the server answered.
    pub async fn letter_uncertain(&self, id: i64, error: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let settled = sqlx::query(
            "UPDATE letters SET status = 'uncertain', attempts = attempts + 1, last_error = $2,
                 lease_until = NULL
             WHERE id = $1 AND status = 'pending' RETURNING draft_id, kind",
        )
        .bind(id)
        .bind(error)
        .fetch_all(&mut *tx)
        .await?;
        self.record_uncertain(&mut tx, &settled, "letter_uncertain")
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rows handed over by a sender that is gone (its claim ran out or was
    /// released at its restart) become `uncertain`. Returns how many.
    pub async fn settle_interrupted(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = db_time(now);
        let mut tx = self.pool.begin().await?;
        let acks = sqlx::query(
            "UPDATE acks SET status = 'uncertain', lease_until = NULL, lease_owner = NULL
             WHERE status = 'pending' AND handed_over_at IS NOT NULL
               AND (lease_until IS NULL OR lease_until < $1)
             RETURNING draft_id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        self.record_uncertain(&mut tx, &acks, "ack_uncertain")
            .await?;
        let letters = sqlx::query(
            "UPDATE letters SET status = 'uncertain', lease_until = NULL, lease_owner = NULL
             WHERE status = 'pending' AND handed_over_at IS NOT NULL
               AND (lease_until IS NULL OR lease_until < $1)
             RETURNING draft_id, kind",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        self.record_uncertain(&mut tx, &letters, "letter_uncertain")
            .await?;
        tx.commit().await?;
        Ok((acks.len() + letters.len()) as u64)
    }

    /// One event per settled row; a letter's names its kind.
    async fn record_uncertain(
        &self,
        tx: &mut sqlx::Transaction<'_, Db>,
        settled: &[<Db as sqlx::Database>::Row],
        kind: &str,
    ) -> Result<()> {
        let now = db_time(Utc::now());
        for row in settled {
            let draft_id: i64 = row.try_get("draft_id")?;
            let detail = match row.try_get::<Option<String>, _>("kind") {
                Ok(Some(letter)) => json!({ "letter": letter }),
                _ => json!({}),
            };
            insert_event(tx, draft_id, now, kind, &self.actor, &detail, None).await?;
        }
        Ok(())
    }
}
