//! The contributor's side of a draft: the thread key behind our
//! Message-IDs, follow-ups (checked claims, their rows, what they ask
//! for) and the thread as editors read it.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};

use super::events::{insert_event, location_json};
use super::later::Later;
use super::letters::{LetterRow, queue_letter};
use super::{Db, Engine};
use crate::draft::{AttachmentView, DraftStatus, FollowUpView, Intent, LetterKind};
use crate::message::{Address, Classification, Parsed};
use crate::store::{Decision, FollowUpClaim, Incoming, IngestOutcome, Result, StoreError};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

/// At most one status answer per draft within this long.
const STATUS_ANSWER_EVERY: Duration = Duration::hours(24);

/// The draft a claim names, as far as deciding on the claim needs it.
struct Target {
    id: i64,
    reference: String,
    status: DraftStatus,
    from_address: Option<String>,
}

impl Engine {
    /// The key of our Message-IDs' tags: made once per store, on first use,
    /// by whichever instance gets there first.
    pub async fn thread_key(&self) -> Result<Vec<u8>> {
        self.thread_key
            .get_or_try_init(|| async {
                let existing: Option<String> =
                    sqlx::query_scalar("SELECT value FROM store_secrets WHERE name = 'thread'")
                        .fetch_optional(&self.pool)
                        .await?;
                let key = match existing {
                    Some(key) => key,
                    None => {
                        let fresh = crate::auth::random_secret()
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        sqlx::query(
                            "INSERT INTO store_secrets (name, value) VALUES ('thread', $1)
                             ON CONFLICT (name) DO NOTHING",
                        )
                        .bind(&fresh)
                        .execute(&self.pool)
                        .await?;
                        sqlx::query_scalar("SELECT value FROM store_secrets WHERE name = 'thread'")
                            .fetch_one(&self.pool)
                            .await?
                    }
                };
                Ok(key.into_bytes())
            })
            .await
            .cloned()
    }

    /// The first of `item`'s claims that holds: a Message-ID with our tag
    /// for the draft, or a quoted reference from the draft's own sender (or
    /// forwarded by an editor). A purged draft takes no follow-ups.
    pub(super) async fn follow_up_target(
        &self,
        tx: &mut Transaction<'_>,
        item: &Incoming,
        key: &[u8],
    ) -> Result<Option<(i64, String, DraftStatus)>> {
        let submission = &item.parsed.submission;
        let sender = submission.from.as_ref().map(|a| a.address.to_lowercase());
        let forged = item
            .sender_auth
            .as_ref()
            .is_some_and(|verdict| verdict.failed().is_some());
        for claim in &item.follow_up_of {
            let reference = match claim {
                FollowUpClaim::Answered { reference, .. } | FollowUpClaim::Quoted(reference) => {
                    reference
                }
            };
            let Some(target) = target(tx, reference).await? else {
                continue;
            };
            let holds = match claim {
                FollowUpClaim::Answered { reference, tag } => {
                    crate::auth::is_thread_tag(key, reference, tag)
                }
                // A From address is easy to forge: one that failed sender
                // authentication speaks for nobody's draft.
                FollowUpClaim::Quoted(_) if forged => false,
                FollowUpClaim::Quoted(_) => {
                    submission.forwarded_by.is_some()
                        || (sender.is_some()
                            && target.from_address.as_deref().map(str::to_lowercase) == sender)
                }
            };
            if holds && target.status != DraftStatus::Purged {
                return Ok(Some((target.id, target.reference, target.status)));
            }
        }
        Ok(None)
    }

    /// A contributor's mail joins its draft: its own row (the raw bytes
    /// were kept by `insert_raws`), the new-mail flag, an event; a status
    /// request queues an answer (one a day), a withdrawal request marks the
    /// draft for the editors, a reply to a revision request brings the
    /// draft back to the queue. Never a new draft or acknowledgement.
    pub(super) async fn follow_up(
        &self,
        tx: &mut Transaction<'_>,
        later: &mut Later<'_>,
        item: &Incoming,
        (draft_id, reference, status): (i64, String, DraftStatus),
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome> {
        let submission = &item.parsed.submission;
        // Robots answering our mail (vacation notices, bounces) join the
        // thread but ask for nothing and flag nothing.
        let person = submission.classification == Classification::Normal;
        let intent = if person { item.intent } else { Intent::Reply };
        let sha = item
            .raw_sha256
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt("a follow-up without its raw message".into()))?;
        let received_at = submission.date.map(super::engine::db_time).unwrap_or(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO follow_ups (draft_id, raw_sha256, intent, received_at, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(draft_id)
        .bind(sha)
        .bind(intent.as_str())
        .bind(received_at)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        rewrite_follow_up(tx, id, &item.parsed).await?;
        if person {
            sqlx::query("UPDATE drafts SET unseen_mail = 1 WHERE id = $1")
                .bind(draft_id)
                .execute(&mut **tx)
                .await?;
        }
        let detail = json!({
            "mailbox": item.mailbox,
            "location": location_json(&item.location),
            "from": submission.from.as_ref().map(|a| &a.address),
            "subject": submission.subject,
            "message_id": submission.message_id,
            "intent": intent.as_str(),
        });
        later.event(draft_id, "follow_up", detail, Some(sha));
        later.location(item, draft_id);
        // What it asks for is acted on only when it is mail we would answer
        // at all: not an archive being imported, not a stale backlog, not a
        // robot or a forgery (the acknowledgement policy's judgement).
        let acts = item
            .ack
            .as_ref()
            .is_none_or(|plan| plan.decision == Decision::Send);
        let answers = item.ack.is_some() && acts;
        match intent {
            Intent::Status if answers => {
                let since = now - STATUS_ANSWER_EVERY;
                let recent: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM letters WHERE draft_id = $1 AND kind = 'status'
                     AND created_at > $2 AND status IN ('pending', 'sent')",
                )
                .bind(draft_id)
                .bind(since)
                .fetch_one(&mut **tx)
                .await?;
                if recent == 0 {
                    let letter = LetterRow::from_template(LetterKind::Status, &self.actor);
                    queue_letter(tx, draft_id, letter, now).await?;
                }
            }
            Intent::Withdraw
                if acts
                    && matches!(
                        status,
                        DraftStatus::New
                            | DraftStatus::Claimed
                            | DraftStatus::SentForSignoff
                            | DraftStatus::RevisionRequested
                            | DraftStatus::SignedOff
                    ) =>
            {
                self.set_status(tx, draft_id, DraftStatus::WithdrawalRequested, now)
                    .await?;
                let detail = json!({ "from": status.as_str(), "to": "withdrawal_requested" });
                insert_event(
                    tx,
                    draft_id,
                    now,
                    "withdrawal_requested",
                    &self.actor,
                    &detail,
                    None,
                )
                .await?;
            }
            Intent::Reply if person && status == DraftStatus::RevisionRequested => {
                self.set_status(tx, draft_id, DraftStatus::New, now).await?;
                let detail = json!({ "from": status.as_str(), "to": "new" });
                insert_event(
                    tx,
                    draft_id,
                    now,
                    "revision_received",
                    &self.actor,
                    &detail,
                    None,
                )
                .await?;
            }
            _ => {}
        }
        Ok(IngestOutcome::FollowUp {
            draft_id,
            reference,
        })
    }

    /// A status set by the contributor's mail: whoever held the draft no
    /// longer does.
    async fn set_status(
        &self,
        tx: &mut Transaction<'_>,
        draft_id: i64,
        status: DraftStatus,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE drafts SET status = $2, claimed_by = NULL, lease_until = NULL,
                 status_changed_at = $3 WHERE id = $1",
        )
        .bind(draft_id)
        .bind(status.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// An editor opened the draft: its new mail is seen.
    pub async fn mark_mail_seen(&self, draft_id: i64) -> Result<()> {
        sqlx::query("UPDATE drafts SET unseen_mail = 0 WHERE id = $1 AND unseen_mail <> 0")
            .bind(draft_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The threads of many drafts, oldest mail first, with article versions
    /// numbered (the submission is version 1).
    pub(super) async fn threads_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<FollowUpView>>> {
        let mut by_draft: HashMap<i64, Vec<FollowUpView>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = super::query::sql_list(chunk);
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT id, draft_id, raw_sha256, intent, received_at, message_id, from_name,
                 from_address, subject, body_text, attachments FROM follow_ups
                 WHERE draft_id IN ({list}) ORDER BY draft_id, id"
            )))
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                let draft_id: i64 = row.try_get("draft_id")?;
                let thread = by_draft.entry(draft_id).or_default();
                let mut view = self.follow_up_from_row(row)?;
                view.number = thread.len() as u32 + 1;
                if view.attachments.iter().any(|a| a.article_text.is_some()) {
                    let earlier = thread
                        .iter()
                        .filter(|f| f.article_version.is_some())
                        .count();
                    view.article_version = Some(earlier as u32 + 2);
                }
                thread.push(view);
            }
        }
        Ok(by_draft)
    }

    fn follow_up_from_row(&self, row: &<Db as sqlx::Database>::Row) -> Result<FollowUpView> {
        let received_at: DateTime<Utc> = row.try_get("received_at")?;
        let intent: String = row.try_get("intent")?;
        let from_address: Option<String> = row.try_get("from_address")?;
        let attachments: String = row.try_get("attachments")?;
        Ok(FollowUpView {
            number: 0,
            from: from_address.map(|address| Address {
                name: row.try_get("from_name").ok().flatten(),
                address,
            }),
            subject: row.try_get("subject")?,
            message_id: row.try_get("message_id")?,
            received_at: received_at.with_timezone(&self.tz).fixed_offset(),
            intent: intent.parse().map_err(StoreError::Corrupt)?,
            body_text: row.try_get("body_text")?,
            attachments: serde_json::from_str(&attachments)
                .map_err(|e| StoreError::Corrupt(format!("follow-up attachments: {e}")))?,
            article_version: None,
            raw_sha256: row.try_get("raw_sha256")?,
        })
    }

    /// The raw bytes of a draft's follow-up `number` (1-based, as shown).
    pub async fn follow_up_raw(&self, draft_id: i64, number: u32) -> Result<Option<Vec<u8>>> {
        let offset = i64::from(number.max(1) - 1);
        let sha: Option<String> = sqlx::query_scalar(
            "SELECT raw_sha256 FROM follow_ups WHERE draft_id = $1 ORDER BY id LIMIT 1 OFFSET $2",
        )
        .bind(draft_id)
        .bind(offset)
        .fetch_optional(&self.pool)
        .await?;
        match sha {
            Some(sha) => self.stored_raw(&sha).await.map(Some),
            None => Ok(None),
        }
    }
}

async fn target(tx: &mut Transaction<'_>, reference: &str) -> Result<Option<Target>> {
    let row: Option<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, reference, status, from_address FROM drafts WHERE reference = $1",
    )
    .bind(reference)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|(id, reference, status, from_address)| {
        Ok(Target {
            id,
            reference,
            status: status.parse().map_err(StoreError::Corrupt)?,
            from_address,
        })
    })
    .transpose()
}

/// The derived columns of a follow-up, from its parse.
pub(super) async fn rewrite_follow_up(
    tx: &mut Transaction<'_>,
    id: i64,
    parsed: &Parsed,
) -> Result<()> {
    let s = &parsed.submission;
    let attachments: Vec<AttachmentView> = s
        .attachments
        .iter()
        .map(|a| AttachmentView {
            index: a.index,
            path: a.path.clone(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            incomplete: a.incomplete,
            article_text: a.article_text.clone(),
            extraction_note: a.extraction_note.clone(),
        })
        .collect();
    sqlx::query(
        "UPDATE follow_ups SET message_id = $2, from_name = $3, from_address = $4, subject = $5,
             body_text = $6, attachments = $7, search_text = $8, extraction_pending = $9
         WHERE id = $1",
    )
    .bind(id)
    .bind(&s.message_id)
    .bind(s.from.as_ref().and_then(|a| a.name.clone()))
    .bind(s.from.as_ref().map(|a| a.address.clone()))
    .bind(&s.subject)
    .bind(&s.body_text)
    .bind(serde_json::to_string(&attachments).unwrap_or_else(|_| "[]".into()))
    .bind(super::rows::search_text(parsed))
    .bind(i64::from(s.extraction_pending))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
