//! Letters to contributors: queued in the transaction of the change that
//! causes them (a decision, a status request, a confirmed withdrawal),
//! claimed and recorded by the outbox like acknowledgements. A letter goes
//! only to a sender the submission's acknowledgement decision found
//! writable: never to robots, quarantined or forged senders.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};

use super::{Db, Engine};
use crate::draft::{DraftStatus, LetterKind, LetterView};
use crate::store::letter_reasons::*;
use crate::store::{LetterPlan, Result, StoreError};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

/// Retrying a letter stops, and it is marked failed, this long after it
/// was queued.
const EXPIRE_AFTER: chrono::Duration = chrono::Duration::days(3);

/// id, subject, body and note of the letter proposed with 送簽.
type HeldLetter = (i64, Option<String>, Option<String>, Option<String>);

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

/// What decides whether a draft's contributor may be written to.
#[derive(sqlx::FromRow)]
struct Sender {
    classification: String,
    quarantine_reason: Option<String>,
    forwarded_by: Option<String>,
    from_address: Option<String>,
    from_name: Option<String>,
    ack_status: Option<String>,
    ack_reason: Option<String>,
    ack_to: Option<String>,
    ack_name: Option<String>,
}

impl Sender {
    /// The address to write to (the acknowledgement's, else From), or why
    /// none: robots, quarantined and forwarded mail, and senders the
    /// acknowledgement decision found unfit are never written to.
    fn recipient(self) -> std::result::Result<(String, Option<String>), String> {
        if self.classification != "normal" {
            return Err(format!("{SUPPRESSED_AUTOMATED}: {}", self.classification));
        }
        if let Some(reason) = self.quarantine_reason {
            return Err(format!("{SUPPRESSED_QUARANTINED}: {reason}"));
        }
        if self.forwarded_by.is_some() {
            return Err(SUPPRESSED_FORWARDED.into());
        }
        if let (Some("suppressed"), Some(reason)) = (self.ack_status.as_deref(), &self.ack_reason)
            && !NOT_ABOUT_THE_SENDER.iter().any(|r| reason.starts_with(r))
        {
            return Err(format!("{SUPPRESSED_NOT_ACKNOWLEDGED}: {reason}"));
        }
        match (self.ack_to, self.from_address.filter(|a| a.contains('@'))) {
            (Some(to), _) => Ok((to, self.ack_name)),
            (None, Some(from)) => Ok((from.to_lowercase(), self.from_name)),
            (None, None) => Err(SUPPRESSED_NO_ADDRESS.into()),
        }
    }
}

/// Who a letter about `draft_id` goes to, or why none does.
async fn recipient(
    tx: &mut Transaction<'_>,
    draft_id: i64,
) -> Result<std::result::Result<(String, Option<String>), String>> {
    let sender: Option<Sender> = sqlx::query_as(
        "SELECT d.classification, d.quarantine_reason, d.forwarded_by, d.from_address,
             d.from_name, a.status AS ack_status, a.reason AS ack_reason,
             a.to_address AS ack_to, a.to_name AS ack_name
         FROM drafts d LEFT JOIN acks a ON a.draft_id = d.id WHERE d.id = $1",
    )
    .bind(draft_id)
    .fetch_optional(&mut **tx)
    .await?;
    let sender = sender.ok_or_else(|| StoreError::Corrupt(format!("no draft {draft_id}")))?;
    Ok(sender.recipient())
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
    let held: Option<HeldLetter> = sqlx::query_as(
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
}
