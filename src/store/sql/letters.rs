//! Letters to contributors: queued in the transaction of the change that
//! causes them (a decision, a status request, a confirmed withdrawal),
//! claimed and recorded by the outbox like acknowledgements. A letter goes
//! only to a sender the submission's acknowledgement decision found
//! writable: never to robots, quarantined or forged senders.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};

use super::engine::db_time;
use super::events::insert_event;
use super::{Db, Engine, SKIP_LOCKED};
use crate::draft::{DraftStatus, LetterKind, LetterView};
use crate::store::letter_reasons::*;
use crate::store::{DueLetter, LetterPlan, Result, StoreError};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

/// Retrying a letter stops, and it is marked failed, this long after it
/// was queued.
const EXPIRE_AFTER: chrono::Duration = chrono::Duration::days(3);

/// A letter about to be queued.
pub(super) struct LetterRow {
    kind: LetterKind,
    held: bool,
    subject: Option<String>,
    body: Option<String>,
    note: Option<String>,
    author: String,
}

impl LetterRow {
    /// The template's letter, rendered when sent.
    pub(super) fn from_template(kind: LetterKind, author: &str) -> LetterRow {
        LetterRow {
            kind,
            held: false,
            subject: None,
            body: None,
            note: None,
            author: author.to_string(),
        }
    }
}

/// Suppression reasons of an acknowledgement that do not make the sender
/// unfit for letters: they say when or how often, not who.
const NOT_ABOUT_THE_SENDER: [&str; 2] = ["rate limited", "older than"];

/// Who a letter about `draft_id` goes to, or why none does.
async fn recipient(
    tx: &mut Transaction<'_>,
    draft_id: i64,
) -> Result<std::result::Result<(String, Option<String>), String>> {
    let row: Option<(
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    )> = sqlx::query_as(
        "SELECT d.classification, d.quarantine_reason, d.forwarded_by, d.from_address, d.from_name
             FROM drafts d WHERE d.id = $1",
    )
    .bind(draft_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((classification, quarantine, forwarded_by, from_address, from_name)) = row else {
        return Err(StoreError::Corrupt(format!("no draft {draft_id}")));
    };
    let ack: Option<(String, Option<String>, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT status, reason, to_address, to_name FROM acks WHERE draft_id = $1")
            .bind(draft_id)
            .fetch_optional(&mut **tx)
            .await?;
    if classification != "normal" {
        return Ok(Err(format!("{SUPPRESSED_AUTOMATED}: {classification}")));
    }
    if let Some(reason) = quarantine {
        return Ok(Err(format!("{SUPPRESSED_QUARANTINED}: {reason}")));
    }
    if forwarded_by.is_some() {
        return Ok(Err(SUPPRESSED_FORWARDED.into()));
    }
    match ack {
        Some((status, Some(reason), _, _))
            if status == "suppressed"
                && !NOT_ABOUT_THE_SENDER.iter().any(|r| reason.starts_with(r)) =>
        {
            Ok(Err(format!("{SUPPRESSED_NOT_ACKNOWLEDGED}: {reason}")))
        }
        Some((_, _, Some(to), name)) => Ok(Ok((to, name))),
        _ => match from_address.filter(|a| a.contains('@')) {
            Some(to) => Ok(Ok((to.to_lowercase(), from_name))),
            None => Ok(Err(SUPPRESSED_NO_ADDRESS.into())),
        },
    }
}

/// Queues `letter` (or holds it, for the signer to send), to the draft's
/// contributor or suppressed with the reason none can be written to.
pub(super) async fn queue_letter(
    tx: &mut Transaction<'_>,
    draft_id: i64,
    letter: LetterRow,
    now: DateTime<Utc>,
) -> Result<()> {
    let (status, reason, to) = match recipient(tx, draft_id).await? {
        Ok(to) if letter.held => ("held", None, Some(to)),
        Ok(to) => ("pending", None, Some(to)),
        Err(reason) => ("suppressed", Some(reason), None),
    };
    sqlx::query(
        "INSERT INTO letters (draft_id, kind, status, reason, subject, body, note, author,
             to_address, to_name, next_attempt_at, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(draft_id)
    .bind(letter.kind.as_str())
    .bind(status)
    .bind(reason)
    .bind(letter.subject)
    .bind(letter.body)
    .bind(letter.note)
    .bind(&letter.author)
    .bind(to.as_ref().map(|(address, _)| address.clone()))
    .bind(to.and_then(|(_, name)| name))
    .bind((status == "pending").then_some(now))
    .bind(now)
    .bind(now + EXPIRE_AFTER)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a transition to `to` writes to the contributor, inside the
/// transition's transaction; returns what the event records of it.
pub(super) async fn letter_for_transition(
    tx: &mut Transaction<'_>,
    draft_id: i64,
    from: DraftStatus,
    to: DraftStatus,
    plan: &LetterPlan,
    author: &str,
    now: DateTime<Utc>,
) -> Result<Option<serde_json::Value>> {
    if !plan.enabled {
        return Ok(None);
    }
    let text_given = plan.subject.is_some() || plan.body.is_some() || plan.note.is_some();
    if to == DraftStatus::SentForSignoff {
        // The editor's proposed acceptance letter, held for the signer.
        if !text_given {
            return Ok(None);
        }
        cancel_held(tx, draft_id, CANCELLED_REPLACED).await?;
        let letter = LetterRow {
            kind: LetterKind::Accept,
            held: true,
            subject: plan.subject.clone(),
            body: plan.body.clone(),
            note: plan.note.clone(),
            author: author.to_string(),
        };
        queue_letter(tx, draft_id, letter, now).await?;
        return Ok(Some(json!("accept_proposed")));
    }
    // A quarantined record is rejected as mail, not as a submission.
    let Some(kind) = LetterKind::for_decision(to).filter(|_| from != DraftStatus::Quarantined)
    else {
        return Ok(None);
    };
    if plan.no_letter {
        cancel_held(tx, draft_id, CANCELLED_NO_LETTER).await?;
        return Ok(Some(json!("none")));
    }
    let held: Option<(i64, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, subject, body, note FROM letters
         WHERE draft_id = $1 AND status = 'held' AND kind = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(draft_id)
    .bind(kind.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    match held {
        // The letter proposed with 送簽 is the one that goes, as the
        // signer left it; whoever changed it last is its author.
        Some((id, subject, body, note)) => {
            let changed =
                text_given && (&plan.subject, &plan.body, &plan.note) != (&subject, &body, &note);
            let (status, reason, to) = match recipient(tx, draft_id).await? {
                Ok(to) => ("pending", None, Some(to)),
                Err(reason) => ("suppressed", Some(reason), None),
            };
            sqlx::query(
                "UPDATE letters SET status = $2, reason = $3, to_address = $4, to_name = $5,
                     next_attempt_at = $6, created_at = $7, expires_at = $8,
                     subject = CASE WHEN $9 THEN $10 ELSE subject END,
                     body = CASE WHEN $9 THEN $11 ELSE body END,
                     note = CASE WHEN $9 THEN $12 ELSE note END,
                     author = CASE WHEN $9 THEN $13 ELSE author END
                 WHERE id = $1",
            )
            .bind(id)
            .bind(status)
            .bind(reason)
            .bind(to.as_ref().map(|(address, _)| address.clone()))
            .bind(to.and_then(|(_, name)| name))
            .bind((status == "pending").then_some(now))
            .bind(now)
            .bind(now + EXPIRE_AFTER)
            .bind(changed)
            .bind(&plan.subject)
            .bind(&plan.body)
            .bind(&plan.note)
            .bind(author)
            .execute(&mut **tx)
            .await?;
            cancel_held(tx, draft_id, CANCELLED_OTHER_DECISION).await?;
        }
        None => {
            cancel_held(tx, draft_id, CANCELLED_OTHER_DECISION).await?;
            let letter = LetterRow {
                kind,
                held: false,
                subject: plan.subject.clone(),
                body: plan.body.clone(),
                note: plan.note.clone(),
                author: author.to_string(),
            };
            queue_letter(tx, draft_id, letter, now).await?;
        }
    }
    Ok(Some(json!(kind.as_str())))
}

async fn cancel_held(tx: &mut Transaction<'_>, draft_id: i64, why: &str) -> Result<()> {
    sqlx::query(
        "UPDATE letters SET status = 'cancelled', reason = $2 WHERE draft_id = $1 AND status = 'held'",
    )
    .bind(draft_id)
    .bind(why)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Engine {
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
                   AND (lease_until IS NULL OR lease_until < $3)
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
             WHERE id = $1 AND status = 'pending'",
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
                 lease_until = NULL
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
                 lease_until = NULL
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

    /// The letters of many drafts, oldest first.
    pub(super) async fn letters_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<LetterView>>> {
        let mut by_draft: HashMap<i64, Vec<LetterView>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = super::query::sql_list(chunk);
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT id, draft_id, kind, status, reason, last_error, subject, body, note, author,
                 to_address, attempts, created_at, sent_at FROM letters
                 WHERE draft_id IN ({list}) ORDER BY draft_id, id"
            )))
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                let kind: String = row.try_get("kind")?;
                let attempts: i64 = row.try_get("attempts")?;
                let created_at: DateTime<Utc> = row.try_get("created_at")?;
                let sent_at: Option<DateTime<Utc>> = row.try_get("sent_at")?;
                let reason: Option<String> = row.try_get("reason")?;
                let error: Option<String> = row.try_get("last_error")?;
                by_draft
                    .entry(row.try_get("draft_id")?)
                    .or_default()
                    .push(LetterView {
                        id: row.try_get("id")?,
                        kind: kind.parse().map_err(StoreError::Corrupt)?,
                        state: row.try_get("status")?,
                        reason: reason.or(error),
                        subject: row.try_get("subject")?,
                        body: row.try_get("body")?,
                        note: row.try_get("note")?,
                        author: row.try_get("author")?,
                        to: row.try_get("to_address")?,
                        attempts: attempts as u32,
                        created_at: created_at.with_timezone(&self.tz).fixed_offset(),
                        sent_at: sent_at.map(|t| t.with_timezone(&self.tz).fixed_offset()),
                    });
            }
        }
        Ok(by_draft)
    }

    /// Drafts received before `before` and still awaiting a decision.
    pub async fn count_overdue(&self, before: DateTime<Utc>) -> Result<i64> {
        Ok(sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM drafts WHERE status IN ({}) AND received_at < $1",
            super::query::AWAITING_DECISION
        )))
        .bind(db_time(before))
        .fetch_one(&self.pool)
        .await?)
    }
}
