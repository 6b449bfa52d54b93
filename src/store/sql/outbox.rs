//! The outbox of acknowledgements and letters: claiming due rows and
//! recording outcomes.
//! Claims are leases, so a sender that dies mid-send releases its rows by
//! time; on PostgreSQL `SKIP LOCKED` lets several senders share the queue
//! without ever claiming the same row.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};

use super::engine::db_time;
use super::events::insert_event;
use super::{Engine, SKIP_LOCKED};
use crate::store::{DueAck, DueLetter, Result, StoreError};

impl Engine {
    /// Claims up to `limit` due acknowledgements for `owner` until `lease_until`.
    pub async fn claim_due_acks(
        &self,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DueAck>> {
        let now = db_time(Utc::now());
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE acks SET lease_until = $1, lease_owner = $2
             WHERE draft_id IN (
                 SELECT draft_id FROM acks
                 WHERE status = 'pending' AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until < $3) AND handed_over_at IS NULL
                 ORDER BY next_attempt_at LIMIT $4 {SKIP_LOCKED})
             RETURNING draft_id, to_address, to_name, attempts, expires_at"
        )))
        .bind(db_time(lease_until))
        .bind(owner)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let attempts: i64 = row.try_get("attempts")?;
                Ok(DueAck {
                    draft_id: row.try_get("draft_id")?,
                    to_address: row
                        .try_get::<Option<String>, _>("to_address")?
                        .unwrap_or_default(),
                    to_name: row.try_get("to_name")?,
                    attempts: attempts as u32,
                    expires_at: row.try_get("expires_at")?,
                })
            })
            .collect()
    }

    /// Leases of a previous life of this instance (it was killed mid-send):
    /// due again at once rather than when the lease runs out.
    pub async fn release_ack_leases(&self, owner: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE acks SET lease_until = NULL, lease_owner = NULL WHERE status = 'pending' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn ack_sent(&self, draft_id: i64, message_id: &str) -> Result<()> {
        let now = db_time(Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE acks SET status = 'sent', sent_at = $2, message_id = $3, attempts = attempts + 1,
                 lease_until = NULL, last_error = NULL
             WHERE draft_id = $1 AND status IN ('pending', 'uncertain')",
        )
        .bind(draft_id)
        .bind(now)
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        insert_event(
            &mut tx,
            draft_id,
            now,
            "ack_sent",
            &self.actor,
            &json!({ "message_id": message_id }),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn ack_retry(
        &self,
        draft_id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE acks SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, lease_until = NULL,
                 handed_over_at = NULL
             WHERE draft_id = $1 AND status = 'pending'",
        )
        .bind(draft_id)
        .bind(db_time(next_attempt_at))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn ack_failed(&self, draft_id: i64, error: &str) -> Result<()> {
        let now = db_time(Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE acks SET status = 'failed', attempts = attempts + 1, last_error = $2, lease_until = NULL,
                 handed_over_at = NULL
             WHERE draft_id = $1 AND status = 'pending'",
        )
        .bind(draft_id)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        insert_event(
            &mut tx,
            draft_id,
            now,
            "ack_failed",
            &self.actor,
            &json!({ "error": error }),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pending acknowledgements, for ops and tests.
    pub async fn ack_backlog(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM acks WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Claims up to `limit` due letters for `owner` until `lease_until`.
    pub async fn claim_due_letters(
        &self,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DueLetter>> {
        let now = db_time(Utc::now());
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE letters SET lease_until = $1, lease_owner = $2
             WHERE id IN (
                 SELECT id FROM letters
                 WHERE status = 'pending' AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until < $3) AND handed_over_at IS NULL
                 ORDER BY next_attempt_at LIMIT $4 {SKIP_LOCKED})
             RETURNING id, draft_id, kind, to_address, to_name, subject, body, note, attempts,
                 expires_at, created_at"
        )))
        .bind(db_time(lease_until))
        .bind(owner)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let attempts: i64 = row.try_get("attempts")?;
                let kind: String = row.try_get("kind")?;
                Ok(DueLetter {
                    id: row.try_get("id")?,
                    draft_id: row.try_get("draft_id")?,
                    kind: kind.parse().map_err(StoreError::Corrupt)?,
                    to_address: row
                        .try_get::<Option<String>, _>("to_address")?
                        .unwrap_or_default(),
                    to_name: row.try_get("to_name")?,
                    subject: row.try_get("subject")?,
                    body: row.try_get("body")?,
                    note: row.try_get("note")?,
                    attempts: attempts as u32,
                    expires_at: row.try_get("expires_at")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Claims of a previous life of this instance: due again at once.
    pub async fn release_letter_leases(&self, owner: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE letters SET lease_until = NULL, lease_owner = NULL
             WHERE status = 'pending' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn letter_sent(&self, letter: &DueLetter, message_id: &str) -> Result<()> {
        let now = db_time(Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE letters SET status = 'sent', sent_at = $2, message_id = $3,
                 attempts = attempts + 1, lease_until = NULL, last_error = NULL
             WHERE id = $1 AND status IN ('pending', 'uncertain')",
        )
        .bind(letter.id)
        .bind(now)
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        let detail = json!({ "letter": letter.kind.as_str(), "message_id": message_id });
        insert_event(
            &mut tx,
            letter.draft_id,
            now,
            "letter_sent",
            &self.actor,
            &detail,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn letter_retry(&self, id: i64, next: DateTime<Utc>, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE letters SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3,
                 lease_until = NULL, handed_over_at = NULL
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(db_time(next))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn letter_failed(&self, letter: &DueLetter, error: &str) -> Result<()> {
        let now = db_time(Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE letters SET status = 'failed', attempts = attempts + 1, last_error = $2,
                 lease_until = NULL, handed_over_at = NULL
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(letter.id)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        let detail = json!({ "letter": letter.kind.as_str(), "error": error });
        insert_event(
            &mut tx,
            letter.draft_id,
            now,
            "letter_failed",
            &self.actor,
            &detail,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
