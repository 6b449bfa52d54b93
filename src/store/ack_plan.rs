//! An acknowledgement to queue with a draft: the store writes it in the
//! draft's transaction (applying the per-sender rate limit), the outbox sends
//! it later. Decided by `ack::policy`; kept here because the store is the
//! lower of the two.

/// The contributor to write to: From, or a Reply-To in From's own domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub address: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send,
    Suppress(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckPlan {
    pub to: Option<Recipient>,
    pub decision: Decision,
    pub limits: OutboxLimits,
}

/// The parts of the decision that need the store, applied when the
/// acknowledgement is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxLimits {
    pub rate_limit: u32,
    pub rate_window: std::time::Duration,
    pub expire_after: std::time::Duration,
}

/// Why a letter was not sent: the first words of its `reason`, which
/// pages translate (details may follow after a colon).
pub mod letter_reasons {
    pub const CANCELLED_REPLACED: &str = "replaced";
    pub const CANCELLED_OTHER_DECISION: &str = "other decision";
    pub const CANCELLED_NO_LETTER: &str = "decided without a letter";
    pub const SUPPRESSED_AUTOMATED: &str = "automated mail";
    pub const SUPPRESSED_QUARANTINED: &str = "quarantined";
    pub const SUPPRESSED_FORWARDED: &str = "forwarded by an editor";
    pub const SUPPRESSED_NOT_ACKNOWLEDGED: &str = "not acknowledged";
    pub const SUPPRESSED_NO_ADDRESS: &str = "no sender address";
}
