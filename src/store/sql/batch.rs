//! Committing a batch of fetched messages: one transaction for raw bytes,
//! drafts, events and mailbox progress, with idempotency decided inside it.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::engine::db_time;
use super::events::{insert_event, location_json};
use super::known::Known;
use super::later::{Later, NewAck, NewDraft};
use super::raw::insert_raws;
use super::{BEGIN_WRITE, Db, Engine};
use crate::draft::DraftStatus;
use crate::store::{
    AckPlan, Decision, Incoming, IngestOutcome, MailboxProgress, RawContent, Result, SeenAgain,
    SourceLocation,
};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

/// A batch being committed: what the store knows of it, and what it will
/// write at the end.
pub(super) struct Batch<'a> {
    pub(super) known: Known,
    pub(super) later: Later<'a>,
    /// The thread key, read when a message of the batch claims a draft.
    thread_key: Option<Vec<u8>>,
}

impl Engine {
    /// Commits every message of a batch, and the mailbox's new position, in
    /// one transaction: after it returns the server may be touched.
    pub async fn commit_batch(
        &self,
        items: &[Incoming],
        progress: Option<(&str, MailboxProgress)>,
    ) -> Result<Vec<IngestOutcome>> {
        let now = db_time(Utc::now());
        // Read before the write transaction: on SQLite it may write the key.
        let thread_key = if items.iter().any(|i| !i.follow_up_of.is_empty()) {
            Some(self.thread_key().await?)
        } else {
            None
        };
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let mut batch = Batch {
            known: Known::prefetch(&mut tx, items, now).await?,
            later: Later::default(),
            thread_key,
        };
        insert_raws(&mut tx, self.packs.as_ref(), &batch.known, items, now).await?;
        let mut outcomes = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let left = items.len() - i;
            outcomes.push(
                self.commit_one(&mut tx, &mut batch, item, left, now)
                    .await?,
            );
        }
        batch.later.write(&mut tx, &self.actor, now).await?;
        if let Some((mailbox, p)) = progress {
            sqlx::query(
                "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                     last_uid = excluded.last_uid, updated_at = excluded.updated_at",
            )
            .bind(mailbox)
            .bind(i64::from(p.uidvalidity))
            .bind(i64::from(p.last_uid))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Records that committed messages were seen again by UID (a crash came
    /// between commit and the server action, which is now being redone).
    pub async fn note_seen_uids(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<()> {
        let now = db_time(Utc::now());
        let mut tx = self.pool.begin().await?;
        for &uid in uids {
            let draft: Option<i64> = sqlx::query_scalar(
                "SELECT draft_id FROM message_locations WHERE mailbox = $1 AND uidvalidity = $2 AND uid = $3",
            )
            .bind(mailbox)
            .bind(i64::from(uidvalidity))
            .bind(i64::from(uid))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(draft_id) = draft {
                let location = SourceLocation::Imap { uidvalidity, uid };
                let detail = json!({
                    "reason": SeenAgain::SameUid.as_str(),
                    "mailbox": mailbox,
                    "location": location_json(&location),
                });
                insert_event(
                    &mut tx,
                    draft_id,
                    now,
                    "seen_again",
                    &self.actor,
                    &detail,
                    None,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// `left`: messages of the batch from this one on, each of which may
    /// need a draft id.
    async fn commit_one<'a>(
        &self,
        tx: &mut Transaction<'_>,
        batch: &mut Batch<'a>,
        item: &'a Incoming,
        left: usize,
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome> {
        let known = &mut batch.known;
        let later = &mut batch.later;
        let sha = item.raw_sha256.as_deref();
        if let SourceLocation::Imap { uidvalidity, uid } = item.location
            && let Some((draft_id, reference)) = known.by_uid(&item.mailbox, uidvalidity, uid)
        {
            return Ok(seen_again(
                later,
                item,
                draft_id,
                reference,
                SeenAgain::SameUid,
                None,
            ));
        }
        if let Some((draft_id, reference)) = sha.and_then(|sha| known.by_sha(sha)) {
            return Ok(seen_again(
                later,
                item,
                draft_id,
                reference,
                SeenAgain::SameBytes,
                None,
            ));
        }
        let submission = &item.parsed.submission;
        let from_address = submission.from.as_ref().map(|a| a.address.as_str());
        if let Some(message_id) = &submission.message_id
            && let Some(found) = known.by_message_id(message_id, from_address)
        {
            // Different bytes for a message we have: kept (`insert_raws`),
            // linked by the event.
            if let (Some(sha), RawContent::Full(_)) = (sha, &item.raw) {
                known.note_sha(sha, &found);
            }
            let (draft_id, reference) = found;
            return Ok(seen_again(
                later,
                item,
                draft_id,
                reference,
                SeenAgain::SameMessageId,
                sha,
            ));
        }
        // A quarantined reply (too big, hostile) needs its own record and
        // reason; a claim that does not hold makes a new submission.
        if item.parsed.quarantine.is_none()
            && let (Some(key), Some(sha)) = (batch.thread_key.clone(), sha)
            && let Some(target) = self.follow_up_target(tx, item, &key).await?
        {
            let found = (target.0, target.1.clone());
            batch.known.note_sha(sha, &found);
            if let Some(message_id) = &submission.message_id {
                batch
                    .known
                    .note_message_id(message_id, from_address, &found);
            }
            return self
                .follow_up(tx, &mut batch.later, item, target, now)
                .await;
        }
        let outcome = self.create_draft(tx, batch, item, left, now).await?;
        if let IngestOutcome::Created {
            draft_id,
            reference,
            ..
        } = &outcome
        {
            let found = (*draft_id, reference.clone());
            if let Some(sha) = sha {
                batch.known.note_sha(sha, &found);
            }
            if let Some(message_id) = &submission.message_id {
                batch
                    .known
                    .note_message_id(message_id, from_address, &found);
            }
        }
        Ok(outcome)
    }

    /// The outbox row, in the draft's own transaction: a draft is never
    /// stored without its acknowledgement decision, nor the reverse.
    fn queue_ack<'a>(batch: &mut Batch<'a>, draft_id: i64, plan: &'a AckPlan, now: DateTime<Utc>) {
        let to = plan.to.as_ref();
        let mut decision = plan.decision.clone();
        if let (Decision::Send, Some(to)) = (&decision, to)
            && let Err(recent) = batch.known.take_ack(&to.address, plan.limits.rate_limit)
        {
            decision = Decision::Suppress(format!(
                "rate limited: {recent} acknowledgements to this address within {}h",
                plan.limits.rate_window.as_secs() / 3600
            ));
        }
        let (status, reason, next_attempt_at) = match &decision {
            Decision::Send => ("pending", None, Some(now)),
            Decision::Suppress(reason) => ("suppressed", Some(reason.clone()), None),
        };
        let expires_at =
            now + chrono::Duration::from_std(plan.limits.expire_after).unwrap_or_default();
        batch.later.ack(NewAck {
            draft_id,
            status,
            reason,
            to: to.map(|t| (t.address.as_str(), t.name.as_deref())),
            next_attempt_at,
            expires_at,
        });
        let event = match &decision {
            Decision::Send => json!({ "ack": "pending", "to": to.map(|t| &t.address) }),
            Decision::Suppress(reason) => json!({ "ack": "suppressed", "reason": reason }),
        };
        batch.later.event(draft_id, "ack_queued", event, None);
    }

    async fn create_draft<'a>(
        &self,
        tx: &mut Transaction<'_>,
        batch: &mut Batch<'a>,
        item: &'a Incoming,
        left: usize,
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome> {
        let later = &mut batch.later;
        let day = now.with_timezone(&self.tz).format("%Y%m%d").to_string();
        let reference = later.next_reference(tx, &day).await?;
        let draft_id = later.draft_id(tx, left).await?;
        let quarantined = item.parsed.quarantine.is_some();
        let status = if quarantined {
            DraftStatus::Quarantined
        } else {
            DraftStatus::New
        };
        let received_at = item
            .parsed
            .submission
            .date
            .or(item.internal_date)
            .map(db_time)
            .unwrap_or(now);
        let sender_auth = item
            .sender_auth
            .as_ref()
            .map(|auth| serde_json::to_string(auth).unwrap_or_default());
        later.draft(NewDraft {
            id: draft_id,
            reference: reference.clone(),
            item,
            status,
            received_at,
            sender_auth,
        });
        let (kind, mut detail) = match &item.parsed.quarantine {
            Some(reason) => ("quarantined", json!({ "reason": reason })),
            None => ("ingested", json!({})),
        };
        detail["mailbox"] = json!(item.mailbox);
        detail["location"] = location_json(&item.location);
        later.event(draft_id, kind, detail, None);
        later.location(item, draft_id);
        if let Some(plan) = &item.ack {
            Self::queue_ack(batch, draft_id, plan, now);
        }
        Ok(IngestOutcome::Created {
            draft_id,
            reference,
            quarantined,
        })
    }
}

/// A message the store already holds: an event (and where it was seen), never a draft.
fn seen_again(
    later: &mut Later,
    item: &Incoming,
    draft_id: i64,
    reference: String,
    reason: SeenAgain,
    kept_raw: Option<&str>,
) -> IngestOutcome {
    let detail = json!({
        "reason": reason.as_str(),
        "mailbox": item.mailbox,
        "location": location_json(&item.location),
    });
    later.event(draft_id, "seen_again", detail, kept_raw);
    if reason != SeenAgain::SameUid {
        later.location(item, draft_id);
    }
    IngestOutcome::SeenAgain {
        draft_id,
        reference,
        reason,
    }
}
