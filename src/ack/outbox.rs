//! The sender: claims due acknowledgements and letters, composes, sends,
//! records.
//!
//! Delivery guarantee: a message is recorded `sent` only after the server
//! accepted it, and sent at most once after it was handed over. Before the
//! message's bytes go out (the server has said "go ahead" to DATA) the
//! hand-over is committed. A failure before that is retried; a process
//! killed or a connection lost after it leaves the message `uncertain`: the
//! server may have it, so it is not sent again, and the draft's history
//! says so. A contributor never gets the same mail twice; in that rare
//! case one may not get it at all, which an editor sees. Every attempt
//! carries the same Message-ID (`<ack.REFERENCE.TAG@domain>`,
//! `<letter.REFERENCE.ID.TAG@domain>`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, watch};
use tracing::Instrument;

use super::compose::{self, Sender};
use super::letters::{Letter, LetterText, Office};
use super::template::Templates;
use lettre::Message;

use super::transport::{SendError, Transport};
use crate::config::Config;
use crate::health::Health;
use crate::store::Recipient;
use crate::store::{DraftKey, DueAck, DueLetter, Store, StoreError};

/// When idle, look for due retries this often.
const IDLE_POLL: Duration = Duration::from_secs(2);
const BATCH: i64 = 20;

pub struct Outbox {
    pub store: Store,
    pub transport: Transport,
    pub templates: Arc<Templates>,
    pub sender: Sender,
    /// The instance name: claims are taken in it.
    pub owner: String,
    pub retry_initial: Duration,
    /// How long a claim lasts; a sender that dies holds its rows this long.
    pub claim: Duration,
    pub health: Arc<Health>,
}

/// When to try again after `attempts` failures: exponential from `initial`
/// to one hour, with ±20 % jitter so a queue of retries does not move in step.
pub fn retry_delay(initial: Duration, attempts: u32) -> Duration {
    let base = initial
        .saturating_mul(1 << attempts.min(10))
        .min(Duration::from_secs(3600));
    base.mul_f64(0.8 + 0.4 * fastrand::f64())
}

impl Outbox {
    /// The configured outbox, or None when acknowledgements are off. Errors
    /// (a broken template, an unreadable CA file) stop the start-up.
    pub fn from_config(
        config: &Config,
        store: Store,
        owner: String,
        health: Arc<Health>,
    ) -> anyhow::Result<Option<Outbox>> {
        let (Some(ack), Some(smtp)) = (&config.ack, &config.smtp) else {
            return Ok(None);
        };
        if !ack.enabled {
            return Ok(None);
        }
        let templates = Templates::load(&ack.templates)?;
        let transport = Transport::from_config(smtp).map_err(anyhow::Error::msg)?;
        let sender = Sender::from_config(config, smtp, ack);
        Ok(Some(Outbox {
            store,
            transport,
            templates: Arc::new(templates),
            sender,
            owner,
            retry_initial: ack.retry_initial,
            claim: ack.claim,
            health,
        }))
    }

    /// Sends until shutdown; `wakeup` is notified when new acks are queued.
    pub async fn run(self, wakeup: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let released = match self.store.release_ack_leases(&self.owner).await {
            Ok(acks) => self
                .store
                .release_letter_leases(&self.owner)
                .await
                .map(|letters| acks + letters),
            Err(e) => Err(e),
        };
        match released {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "re-queued mail claimed before a restart"),
            Err(error) => tracing::error!(%error, "cannot release old claims"),
        }
        while !*shutdown.borrow() {
            let sent_any = match self.send_due().await {
                Ok(n) => n > 0,
                Err(error) => {
                    tracing::error!(%error, "outbox failed");
                    false
                }
            };
            if sent_any {
                continue;
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One round: claim due acknowledgements and letters and try each
    /// once. Returns how many were tried.
    pub async fn send_due(&self) -> Result<usize, StoreError> {
        let settled = self.store.settle_interrupted(Utc::now()).await?;
        if settled > 0 {
            tracing::warn!(
                count = settled,
                "mail interrupted after it was handed over to the server: recorded as uncertain, not sent again"
            );
        }
        let lease_until = Utc::now() + chrono::Duration::from_std(self.claim).unwrap_or_default();
        let due = self
            .store
            .claim_due_acks(&self.owner, lease_until, BATCH)
            .await?;
        for ack in &due {
            self.send_one(ack).await?;
        }
        let letters = self
            .store
            .claim_due_letters(&self.owner, lease_until, BATCH)
            .await?;
        for letter in &letters {
            let span = tracing::info_span!(
                "letter",
                draft_id = letter.draft_id,
                letter = letter.id,
                kind = letter.kind.as_str()
            );
            self.attempt_letter(letter).instrument(span).await?;
        }
        Ok(due.len() + letters.len())
    }

    async fn attempt_letter(&self, letter: &DueLetter) -> Result<(), StoreError> {
        let Some(draft) = self.store.draft(&DraftKey::Id(letter.draft_id)).await? else {
            return self
                .store
                .letter_failed(letter, "draft no longer exists")
                .await;
        };
        let to = Recipient {
            address: letter.to_address.clone(),
            name: letter.to_name.clone(),
        };
        let tag = crate::auth::thread_tag(&self.store.thread_key().await?, &draft.reference);
        let text = LetterText {
            subject: letter.subject.clone(),
            body: letter.body.clone(),
            note: letter.note.clone(),
        };
        let decided_at = letter
            .created_at
            .with_timezone(&self.store.time_zone())
            .fixed_offset();
        let office = Office {
            sender: &self.sender,
            templates: &self.templates,
        };
        let written = Letter {
            draft: &draft,
            kind: letter.kind,
            to: &to,
            text: &text,
            decided_at,
        };
        let result = match office.compose(&written, letter.id, &tag) {
            Ok(message) => {
                let name = format!("{}-letter-{}", draft.reference, letter.id);
                let mark = self.store.letter_handed_over(letter.id);
                self.deliver(message, &name, mark).await?
            }
            Err(e) => Err(SendError::permanent(e.to_string())),
        };
        match result {
            Ok(()) => {
                let id = compose::letter_message_id(
                    &draft.reference,
                    letter.id,
                    &tag,
                    &self.sender.domain,
                );
                tracing::info!(reference = %draft.reference, message_id = %id, "letter sent");
                self.store.letter_sent(letter, &id).await
            }
            Err(e) if e.is_unanswered() => {
                tracing::warn!(error = %e, "letter handed over without an answer: not sent again");
                self.store.letter_uncertain(letter.id, &e.to_string()).await
            }
            Err(e) if e.is_transient() && Utc::now() < letter.expires_at => {
                let delay = retry_delay(self.retry_initial, letter.attempts);
                tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "letter deferred");
                let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.store
                    .letter_retry(letter.id, next, &e.to_string())
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "letter failed");
                self.store.letter_failed(letter, &e.to_string()).await
            }
        }
    }

    async fn send_one(&self, ack: &DueAck) -> Result<(), StoreError> {
        let span = tracing::info_span!("ack", draft_id = ack.draft_id, to = %ack.to_address);
        self.attempt(ack).instrument(span).await
    }

    async fn attempt(&self, ack: &DueAck) -> Result<(), StoreError> {
        let Some(draft) = self.store.draft(&DraftKey::Id(ack.draft_id)).await? else {
            return self
                .store
                .ack_failed(ack.draft_id, "draft no longer exists")
                .await;
        };
        let to = Recipient {
            address: ack.to_address.clone(),
            name: ack.to_name.clone(),
        };
        let tag = crate::auth::thread_tag(&self.store.thread_key().await?, &draft.reference);
        let result = match compose::compose(&draft, &to, &self.sender, &self.templates, &tag) {
            Ok(message) => {
                let mark = self.store.ack_handed_over(ack.draft_id);
                self.deliver(message, &draft.reference, mark).await?
            }
            Err(e) => Err(SendError::permanent(e.to_string())),
        };
        match result {
            Ok(()) => {
                let id = compose::ack_message_id(&draft.reference, &tag, &self.sender.domain);
                tracing::info!(reference = %draft.reference, message_id = %id, "acknowledgement sent");
                self.health.ack_sent();
                self.store.ack_sent(ack.draft_id, &id).await
            }
            Err(e) if e.is_unanswered() => {
                tracing::warn!(error = %e, "acknowledgement handed over without an answer: not sent again");
                self.store.ack_uncertain(ack.draft_id, &e.to_string()).await
            }
            Err(e) if e.is_transient() && Utc::now() < ack.expires_at => {
                let delay = retry_delay(self.retry_initial, ack.attempts);
                tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "acknowledgement deferred");
                let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.store
                    .ack_retry(ack.draft_id, next, &e.to_string())
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "acknowledgement failed");
                self.health.ack_failed();
                self.store.ack_failed(ack.draft_id, &e.to_string()).await
            }
        }
    }
}

impl Outbox {
    /// Hands the message over, commits `mark`, then lets its bytes go. The
    /// outer error is the store's: the message was then not sent.
    async fn deliver(
        &self,
        message: Message,
        name: &str,
        mark: impl Future<Output = Result<(), StoreError>>,
    ) -> Result<Result<(), SendError>, StoreError> {
        let handover = match self.transport.hand_over(message, name).await {
            Ok(handover) => handover,
            Err(e) => return Ok(Err(e)),
        };
        mark.await?;
        Ok(handover.finish().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let initial = Duration::from_secs(30);
        let first = retry_delay(initial, 0);
        assert!(first >= Duration::from_secs(24) && first <= Duration::from_secs(36));
        assert!(retry_delay(initial, 3) >= Duration::from_secs(190));
        assert!(retry_delay(initial, 30) <= Duration::from_secs(4320));
    }
}
