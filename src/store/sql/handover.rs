//! At most once after the hand-over. The sender records the moment the SMTP
//! server says "go ahead" to DATA, before the message's bytes and the final
//! dot; a row interrupted after that (the process killed, the connection
//! lost before the server's answer) may already be in the contributor's
//! inbox. Such rows are never sent again: they become `uncertain`, with an
//! event in the draft's history, so no contributor gets the same mail twice.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};

use super::engine::db_time;
use super::events::insert_event;
use super::{Db, Engine};
use crate::store::Result;

/// One of the outbox's two tables, as the statements below name it.
struct Outbox {
    table: &'static str,
    key: &'static str,
    /// The draft, and for a letter its kind, for the event.
    returning: &'static str,
    event: &'static str,
}

const ACKS: Outbox = Outbox {
    table: "acks",
    key: "draft_id",
    returning: "draft_id",
    event: "ack_uncertain",
};

const LETTERS: Outbox = Outbox {
    table: "letters",
    key: "id",
    returning: "draft_id, kind",
    event: "letter_uncertain",
};

impl Engine {
    /// Durably notes that the acknowledgement's bytes are about to go out.
    pub async fn ack_handed_over(&self, draft_id: i64) -> Result<()> {
        self.handed_over(&ACKS, draft_id).await
    }

    /// Durably notes that the letter's bytes are about to go out.
    pub async fn letter_handed_over(&self, id: i64) -> Result<()> {
        self.handed_over(&LETTERS, id).await
    }

    /// The connection broke after the hand-over, before the server answered.
    pub async fn ack_uncertain(&self, draft_id: i64, error: &str) -> Result<()> {
        self.unanswered(&ACKS, draft_id, error).await
    }

    /// The connection broke after the hand-over, before the server answered.
    pub async fn letter_uncertain(&self, id: i64, error: &str) -> Result<()> {
        self.unanswered(&LETTERS, id, error).await
    }

    /// Rows handed over by a sender that is gone (its claim ran out or was
    /// released at its restart) become `uncertain`. Returns how many.
    pub async fn settle_interrupted(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = db_time(now);
        let mut tx = self.pool.begin().await?;
        let mut settled = 0;
        for outbox in [&ACKS, &LETTERS] {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "UPDATE {} SET status = 'uncertain', lease_until = NULL, lease_owner = NULL
                 WHERE status = 'pending' AND handed_over_at IS NOT NULL
                   AND (lease_until IS NULL OR lease_until < $1)
                 RETURNING {}",
                outbox.table, outbox.returning
            )))
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            self.record_uncertain(&mut tx, &rows, outbox.event).await?;
            settled += rows.len() as u64;
        }
        tx.commit().await?;
        Ok(settled)
    }

    async fn handed_over(&self, outbox: &Outbox, id: i64) -> Result<()> {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {} SET handed_over_at = $2 WHERE {} = $1 AND status = 'pending'",
            outbox.table, outbox.key
        )))
        .bind(id)
        .bind(db_time(Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn unanswered(&self, outbox: &Outbox, id: i64, error: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE {} SET status = 'uncertain', attempts = attempts + 1, last_error = $2,
                 lease_until = NULL
             WHERE {} = $1 AND status = 'pending' RETURNING {}",
            outbox.table, outbox.key, outbox.returning
        )))
        .bind(id)
        .bind(error)
        .fetch_all(&mut *tx)
        .await?;
        self.record_uncertain(&mut tx, &rows, outbox.event).await?;
        tx.commit().await?;
        Ok(())
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
