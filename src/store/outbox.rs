//! What the outbox asks of the store: due acknowledgements and letters
//! claimed as leases, the moment each is handed over, and how each attempt
//! ended.

use super::{Backend, DueAck, DueLetter, Result, Store};

impl Store {
    /// Claims up to `limit` due acknowledgements for `owner` until `lease_until`.
    pub async fn claim_due_acks(
        &self,
        owner: &str,
        lease_until: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> Result<Vec<DueAck>> {
        dispatch!(self, e => e.claim_due_acks(owner, lease_until, limit).await)
    }

    pub async fn release_ack_leases(&self, owner: &str) -> Result<u64> {
        dispatch!(self, e => e.release_ack_leases(owner).await)
    }

    pub async fn ack_sent(&self, draft_id: i64, message_id: &str) -> Result<()> {
        dispatch!(self, e => e.ack_sent(draft_id, message_id).await)
    }

    pub async fn ack_retry(
        &self,
        draft_id: i64,
        next: chrono::DateTime<chrono::Utc>,
        error: &str,
    ) -> Result<()> {
        dispatch!(self, e => e.ack_retry(draft_id, next, error).await)
    }

    pub async fn ack_failed(&self, draft_id: i64, error: &str) -> Result<()> {
        dispatch!(self, e => e.ack_failed(draft_id, error).await)
    }

    pub async fn ack_backlog(&self) -> Result<i64> {
        dispatch!(self, e => e.ack_backlog().await)
    }

    /// Claims up to `limit` due letters for `owner` until `lease_until`.
    pub async fn claim_due_letters(
        &self,
        owner: &str,
        lease_until: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> Result<Vec<DueLetter>> {
        dispatch!(self, e => e.claim_due_letters(owner, lease_until, limit).await)
    }

    pub async fn release_letter_leases(&self, owner: &str) -> Result<u64> {
        dispatch!(self, e => e.release_letter_leases(owner).await)
    }

    pub async fn letter_sent(&self, letter: &DueLetter, message_id: &str) -> Result<()> {
        dispatch!(self, e => e.letter_sent(letter, message_id).await)
    }

    pub async fn letter_retry(
        &self,
        id: i64,
        next: chrono::DateTime<chrono::Utc>,
        error: &str,
    ) -> Result<()> {
        dispatch!(self, e => e.letter_retry(id, next, error).await)
    }

    pub async fn letter_failed(&self, letter: &DueLetter, error: &str) -> Result<()> {
        dispatch!(self, e => e.letter_failed(letter, error).await)
    }

    /// Durably notes, before the acknowledgement's bytes go out, that it
    /// must never be sent twice from here on.
    pub async fn ack_handed_over(&self, draft_id: i64) -> Result<()> {
        dispatch!(self, e => e.ack_handed_over(draft_id).await)
    }

    pub async fn letter_handed_over(&self, id: i64) -> Result<()> {
        dispatch!(self, e => e.letter_handed_over(id).await)
    }

    /// Handed over, then no answer from the server: perhaps delivered.
    pub async fn ack_uncertain(&self, draft_id: i64, error: &str) -> Result<()> {
        dispatch!(self, e => e.ack_uncertain(draft_id, error).await)
    }

    pub async fn letter_uncertain(&self, id: i64, error: &str) -> Result<()> {
        dispatch!(self, e => e.letter_uncertain(id, error).await)
    }

    /// Mail handed over by a sender that is gone becomes `uncertain`.
    pub async fn settle_interrupted(&self, now: chrono::DateTime<chrono::Utc>) -> Result<u64> {
        dispatch!(self, e => e.settle_interrupted(now).await)
    }
}
