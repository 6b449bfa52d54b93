//! The store's vocabulary: what callers hand in and get back, the same for
//! every backend.

use chrono::{DateTime, FixedOffset};

use super::AckPlan;
use crate::message::Parsed;
use crate::message::auth_results::AuthVerdict;

/// Where one copy of a message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceLocation {
    Imap {
        uidvalidity: u32,
        uid: u32,
    },
    /// A Maildir file, an .eml path or `-` for stdin.
    File(String),
}

impl SourceLocation {
    /// How a report names the message: its file, or its UID.
    pub fn name(&self) -> String {
        match self {
            SourceLocation::File(name) => name.clone(),
            SourceLocation::Imap { uid, .. } => uid.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum RawContent {
    Full(Vec<u8>),
    /// Too big to download: only the header section and the server's size.
    HeadersOnly {
        headers: Vec<u8>,
        size: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Incoming {
    pub mailbox: String,
    pub location: SourceLocation,
    pub raw: RawContent,
    /// Hex sha256 of the full raw bytes (None for headers only), computed
    /// with the parse, off the committing thread.
    pub raw_sha256: Option<String>,
    pub internal_date: Option<DateTime<FixedOffset>>,
    pub parsed: Parsed,
    /// Whether and to whom to acknowledge; None when acknowledgements are off.
    pub ack: Option<AckPlan>,
    /// DMARC / DKIM / SPF: computed here, or a trusted provider's header.
    pub sender_auth: Option<AuthVerdict>,
    /// Drafts this message says it is about (see `ack::followup`); the
    /// store checks each claim before treating it as a follow-up.
    pub follow_up_of: Vec<FollowUpClaim>,
    /// What it asks for, should it be a follow-up.
    pub intent: crate::draft::Intent,
}

/// A message's claim to be about an existing draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUpClaim {
    /// It answers mail we sent about the draft: one of our Message-IDs,
    /// with the tag only the store's thread key makes.
    Answered { reference: String, tag: String },
    /// Its subject quotes the reference: a follow-up only when it comes
    /// from the draft's own sender (or an editor forwarded it).
    Quoted(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeenAgain {
    SameUid,
    SameBytes,
    SameMessageId,
}

impl SeenAgain {
    pub fn as_str(self) -> &'static str {
        match self {
            SeenAgain::SameUid => "same_uid",
            SeenAgain::SameBytes => "same_bytes",
            SeenAgain::SameMessageId => "same_message_id",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    Created {
        draft_id: i64,
        reference: String,
        quarantined: bool,
    },
    SeenAgain {
        draft_id: i64,
        reference: String,
        reason: SeenAgain,
    },
    /// A reply to an acknowledgement (or quoting a reference): kept with
    /// the existing draft as an event, never a new draft or acknowledgement.
    FollowUp { draft_id: i64, reference: String },
}

/// The position a mailbox has durably reached, committed with its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxProgress {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// A draft named by its numeric id or its reference (`SP-20261128-0007`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftKey {
    Id(i64),
    Reference(String),
}

impl std::str::FromStr for DraftKey {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.parse::<i64>() {
            Ok(id) => DraftKey::Id(id),
            Err(_) => DraftKey::Reference(text.to_string()),
        })
    }
}

impl<'de> serde::Deserialize<'de> for DraftKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        Ok(match text.parse::<i64>() {
            Ok(id) => DraftKey::Id(id),
            Err(_) => DraftKey::Reference(text),
        })
    }
}

impl std::fmt::Display for DraftKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DraftKey::Id(id) => write!(f, "{id}"),
            DraftKey::Reference(r) => f.write_str(r),
        }
    }
}

/// Why a change to a draft did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no draft {0}")]
    NotFound(String),
    #[error(transparent)]
    Refused(#[from] crate::workflow::WorkflowError),
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        ChangeError::Store(e.into())
    }
}

/// An editor as `editors list` shows one: never the token or its hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EditorView {
    pub name: String,
    pub role: crate::workflow::Role,
    pub created_at: DateTime<FixedOffset>,
    pub revoked_at: Option<DateTime<FixedOffset>>,
    pub last_seen_at: Option<DateTime<FixedOffset>>,
}

/// A web session: who, and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub actor: crate::workflow::Actor,
    pub csrf: String,
}

/// A message stored before all its documents were read
/// (`extraction_pending`), with its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingExtraction {
    pub of: ExtractionOf,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractionOf {
    Draft(i64),
    FollowUp(i64),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReparseReport {
    pub reparsed: u64,
    /// Quarantined records that now parse and became `new`.
    pub released: u64,
    /// Records without raw bytes (too big to download) left as they were.
    pub skipped: u64,
    /// Contributors' follow-ups re-parsed.
    pub follow_ups: u64,
}

/// The letter a decision sends, as the editors left it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LetterPlan {
    /// Letters are configured (`[ack]` and `[smtp]`): without them nothing
    /// is queued.
    pub enabled: bool,
    /// The editor chose to decide without a letter (recorded in the history).
    pub no_letter: bool,
    /// The editors' text; None: the held letter of the same kind, else the
    /// template's, rendered when sent.
    pub subject: Option<String>,
    pub body: Option<String>,
    /// The editors' note to the author (the template's `{note}`).
    pub note: Option<String>,
}

/// A queued letter claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueLetter {
    pub id: i64,
    pub draft_id: i64,
    pub kind: crate::draft::LetterKind,
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub note: Option<String>,
    pub attempts: u32,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// When the decision was made (the letter queued).
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A queued acknowledgement claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAck {
    pub draft_id: i64,
    pub to_address: String,
    pub to_name: Option<String>,
    pub attempts: u32,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// What adding an editor can run into besides the store failing.
#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    #[error("editor {0} already exists: revoke it first to issue a new token")]
    Exists(String),
    #[error("editor names are 1 to 64 letters, digits, '.', '-' or '_'; `{0}` is not")]
    BadName(String),
    #[error(transparent)]
    Random(#[from] crate::auth::RandomUnavailable),
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

impl From<sqlx::Error> for EditorError {
    fn from(e: sqlx::Error) -> Self {
        EditorError::Store(e.into())
    }
}
