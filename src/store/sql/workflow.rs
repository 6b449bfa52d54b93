//! The editors' workflow on the store: claims with leases, transitions,
//! edits, withdrawal (purge) and retention. Every decision is
//! `crate::workflow`'s; this file only makes it atomic and records events.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::AssertSqlSafe;

use super::engine::db_time;
use super::events::insert_event;
use super::letters::letter_for_transition;
use super::{BEGIN_WRITE, Db, Engine, FOR_UPDATE, SKIP_LOCKED};
use crate::draft::{DraftStatus, DraftView};
use crate::store::{ChangeError, DraftKey, LetterPlan, Result, StoreError};
use crate::workflow::{self, Actor, Current, Holder};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

impl Engine {
    /// Puts every claim whose lease ran out back to `new`.
    pub async fn expire_leases(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let expired = self.expire_in(&mut tx, db_time(now)).await?;
        tx.commit().await?;
        Ok(expired)
    }

    async fn expire_in(&self, tx: &mut Transaction<'_>, now: DateTime<Utc>) -> Result<u64> {
        let due: Vec<(i64, Option<String>)> = sqlx::query_as(
            // In id order, so concurrent sweeps lock rows in the same order.
            "SELECT id, claimed_by FROM drafts WHERE status = 'claimed' AND lease_until < $1
             ORDER BY id",
        )
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        let mut expired = 0;
        for (id, holder) in due {
            // Another instance may have expired (or the holder renewed) it
            // meanwhile: only what still matches is put back.
            let done = sqlx::query(
                "UPDATE drafts SET status = 'new', claimed_by = NULL, lease_until = NULL,
                     status_changed_at = $2
                 WHERE id = $1 AND status = 'claimed' AND lease_until < $2",
            )
            .bind(id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 1 {
                let detail = json!({ "from": "claimed", "to": "new", "holder": holder });
                insert_event(tx, id, now, "lease_expired", &self.actor, &detail, None).await?;
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Gives `actor` the oldest `limit` unclaimed drafts, each held until
    /// `now + lease`. Concurrent claimers never get the same draft: SQLite
    /// runs one writer at a time, PostgreSQL skips rows another claim locked.
    pub async fn claim(
        &self,
        actor: &Actor,
        limit: u32,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<DraftView>> {
        let now = db_time(now);
        let until = lease_end(now, lease);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        self.expire_in(&mut tx, now).await?;
        let claimed: Vec<(i64,)> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE drafts SET status = 'claimed', claimed_by = $1, lease_until = $2,
                 status_changed_at = $3
             WHERE id IN (SELECT id FROM drafts WHERE status = 'new' AND classification = 'normal'
                          ORDER BY received_at, id LIMIT $4 {SKIP_LOCKED})
             RETURNING id"
        )))
        .bind(&actor.name)
        .bind(until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let detail = json!({ "from": "new", "to": "claimed", "lease_until": until });
        for (id,) in &claimed {
            insert_event(&mut tx, *id, now, "claimed", &actor.name, &detail, None).await?;
        }
        tx.commit().await?;
        let ids: Vec<i64> = claimed.into_iter().map(|(id,)| id).collect();
        self.drafts_by_ids(&ids).await
    }

    /// Moves one draft to `to`, if the workflow allows `actor` to, with
    /// the letter the decision sends (queued in the same transaction).
    #[allow(clippy::too_many_arguments)]
    pub async fn transition(
        &self,
        key: &DraftKey,
        to: DraftStatus,
        actor: &Actor,
        note: Option<&str>,
        letter: &LetterPlan,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<DraftView, ChangeError> {
        let now = db_time(now);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        self.expire_in(&mut tx, now).await?;
        let (id, status, holder) = lock_draft(&mut tx, key).await?;
        let current = Current {
            status,
            claimed_by: holder.as_deref(),
        };
        let step = workflow::decide(&current, to, actor)?;
        let (claimed_by, lease_until) = match step.holder {
            Holder::TakeLease => (Some(actor.name.clone()), Some(lease_end(now, lease))),
            Holder::RenewLease => (holder.clone(), Some(lease_end(now, lease))),
            Holder::KeepName => (holder.clone(), None),
            Holder::Clear => (None, None),
        };
        sqlx::query(
            "UPDATE drafts SET status = $2, claimed_by = $3, lease_until = $4,
                 status_changed_at = $5
             WHERE id = $1",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(&claimed_by)
        .bind(lease_until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut detail = json!({
            "from": step.from.as_str(),
            "to": step.to.as_str(),
            "note": note.filter(|n| !n.trim().is_empty()),
        });
        if let Some(written) =
            letter_for_transition(&mut tx, id, step.from, to, letter, &actor.name, now).await?
        {
            detail["letter"] = written;
        }
        let kind = step.action.event_kind();
        insert_event(&mut tx, id, now, kind, &actor.name, &detail, None).await?;
        tx.commit().await?;
        self.existing(id).await
    }

    /// Sets the editors' title (empty: back to the submitted one) and
    /// notes of a draft `actor` holds. The submission is never touched.
    pub async fn edit(
        &self,
        key: &DraftKey,
        actor: &Actor,
        title: Option<&str>,
        notes: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DraftView, ChangeError> {
        let now = db_time(now);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        self.expire_in(&mut tx, now).await?;
        let (id, status, holder) = lock_draft(&mut tx, key).await?;
        workflow::may_edit(
            &Current {
                status,
                claimed_by: holder.as_deref(),
            },
            actor,
        )?;
        // Only what changed is written and recorded: a form sends both.
        let (edited, submitted, current_notes): (Option<String>, String, String) =
            sqlx::query_as("SELECT edited_title, title, notes FROM drafts WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let shown = edited.clone().unwrap_or(submitted);
        let title = title.map(str::trim).filter(|t| {
            if t.is_empty() {
                edited.is_some()
            } else {
                *t != shown
            }
        });
        let notes = notes.filter(|n| *n != current_notes);
        if title.is_none() && notes.is_none() {
            tx.commit().await?;
            return self.existing(id).await;
        }
        sqlx::query(
            "UPDATE drafts SET
                 edited_title = CASE WHEN $2 THEN $3 ELSE edited_title END,
                 notes = COALESCE($4, notes)
             WHERE id = $1",
        )
        .bind(id)
        .bind(title.is_some())
        .bind(title.filter(|t| !t.is_empty()))
        .bind(notes)
        .execute(&mut *tx)
        .await?;
        // Every version of 編者按 stays in the history, with who and when.
        let detail = json!({ "title": title, "notes": notes });
        insert_event(&mut tx, id, now, "edited", &actor.name, &detail, None).await?;
        tx.commit().await?;
        self.existing(id).await
    }

    /// Withdrawal: deletes the submission's raw bytes (unless another
    /// record still uses them) and everything derived from it. The
    /// reference, the message's locations (so it is never ingested again)
    /// and one event saying who purged it and when remain.
    pub async fn purge(
        &self,
        key: &DraftKey,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), ChangeError> {
        let now = db_time(now);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let (id, status, _) = lock_draft(&mut tx, key).await?;
        workflow::may_purge(status, actor)?;
        purge_in(&mut tx, id, &actor.name, now).await?;
        tx.commit().await?;
        self.erase_freed().await?;
        Ok(())
    }

    /// Purges rejected and archived drafts whose status has not changed for
    /// the given time; returns how many.
    pub async fn purge_expired(
        &self,
        rejected_after: Option<Duration>,
        archived_after: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let now = db_time(now);
        let cutoff = |after: Option<Duration>| after.map(|after| now - after_chrono(after));
        let mut purged = 0;
        loop {
            let ids: Vec<(i64,)> = sqlx::query_as(
                "SELECT id FROM drafts
                 WHERE (status = 'rejected' AND status_changed_at < $1)
                    OR (status = 'archived' AND status_changed_at < $2)
                 ORDER BY id LIMIT 100",
            )
            .bind(cutoff(rejected_after))
            .bind(cutoff(archived_after))
            .fetch_all(&self.pool)
            .await?;
            if ids.is_empty() {
                if purged > 0 {
                    self.erase_freed().await?;
                }
                return Ok(purged);
            }
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
            for (id,) in ids {
                purge_in(&mut tx, id, "retention", now).await?;
                purged += 1;
            }
            tx.commit().await?;
        }
    }

    pub(super) async fn existing(&self, id: i64) -> Result<DraftView, ChangeError> {
        self.draft(&DraftKey::Id(id))
            .await?
            .ok_or_else(|| ChangeError::NotFound(id.to_string()))
    }
}

fn after_chrono(after: Duration) -> chrono::Duration {
    chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX)
}

pub(super) fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    db_time(now + after_chrono(lease))
}

/// Reads and (on PostgreSQL) locks a draft for a decision.
pub(super) async fn lock_draft(
    tx: &mut Transaction<'_>,
    key: &DraftKey,
) -> Result<(i64, DraftStatus, Option<String>), ChangeError> {
    let (by_id, by_reference) = match key {
        DraftKey::Id(id) => (Some(*id), None),
        DraftKey::Reference(r) => (None, Some(r.as_str())),
    };
    let row: Option<(i64, String, Option<String>)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, status, claimed_by FROM drafts WHERE id = $1 OR reference = $2 {FOR_UPDATE}"
    )))
    .bind(by_id)
    .bind(by_reference)
    .fetch_optional(&mut **tx)
    .await?;
    let (id, status, holder) = row.ok_or_else(|| ChangeError::NotFound(key.to_string()))?;
    let status = status
        .parse()
        .map_err(|e: String| StoreError::Corrupt(format!("draft {id}: {e}")))?;
    Ok((id, status, holder))
}

async fn purge_in(
    tx: &mut Transaction<'_>,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let raws: Vec<(String,)> = sqlx::query_as(
        "SELECT raw_sha256 FROM drafts WHERE id = $1 AND raw_sha256 IS NOT NULL
         UNION SELECT raw_sha256 FROM events WHERE draft_id = $1 AND raw_sha256 IS NOT NULL
         UNION SELECT raw_sha256 FROM follow_ups WHERE draft_id = $1",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    for table in ["attachments", "acks", "events", "follow_ups", "letters"] {
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE draft_id = $1"
        )))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE drafts SET status = 'purged', status_changed_at = $2,
             raw_sha256 = NULL, raw_headers = NULL, message_id = NULL, from_name = NULL,
             from_address = NULL, reply_to = NULL, to_addresses = '[]', date = NULL,
             subject = NULL, title = '', edited_title = NULL, notes = '', body_text = '',
             body_html = NULL, forwarded = '[]', forwarded_by = NULL, defects = '[]', quarantine_reason = NULL,
             sender_auth = NULL, search_text = '', claimed_by = NULL, lease_until = NULL,
             unseen_mail = 0
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_event(tx, id, now, "purged", actor, &json!({}), None).await?;
    for (sha,) in raws {
        sqlx::query(
            "DELETE FROM raw_messages WHERE sha256 = $1
               AND NOT EXISTS (SELECT 1 FROM drafts WHERE raw_sha256 = $1)
               AND NOT EXISTS (SELECT 1 FROM events WHERE raw_sha256 = $1)
               AND NOT EXISTS (SELECT 1 FROM follow_ups WHERE raw_sha256 = $1)",
        )
        .bind(&sha)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
