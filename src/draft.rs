//! The draft as editors, the CLI and (later) the HTTP API see it: one serde
//! type, so every interface prints the same JSON.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::message::auth_results::AuthVerdict;
use crate::message::{Address, Classification, Forwarded};

/// Editorial state. Ingestion creates `new` or `quarantined`; the editors'
/// workflow (`crate::workflow`) moves drafts on from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    New,
    Claimed,
    SentForSignoff,
    SignedOff,
    Rejected,
    Archived,
    Quarantined,
    /// Purged: the submission and everything derived from it are deleted;
    /// the reference and one event remain.
    Purged,
    /// The contributor was asked to revise (請修改); their reply with the
    /// revision brings the draft back to `new`.
    RevisionRequested,
    /// The contributor asked by mail to withdraw; editors confirm it.
    WithdrawalRequested,
    /// Withdrawn at the contributor's request (purging stays a separate
    /// signer's decision).
    Withdrawn,
}

impl DraftStatus {
    pub const ALL: [DraftStatus; 11] = [
        DraftStatus::New,
        DraftStatus::Claimed,
        DraftStatus::SentForSignoff,
        DraftStatus::RevisionRequested,
        DraftStatus::WithdrawalRequested,
        DraftStatus::SignedOff,
        DraftStatus::Rejected,
        DraftStatus::Withdrawn,
        DraftStatus::Archived,
        DraftStatus::Quarantined,
        DraftStatus::Purged,
    ];

    /// Waiting for the editors' decision: what the processing period runs on.
    pub fn awaits_decision(self) -> bool {
        matches!(
            self,
            DraftStatus::New
                | DraftStatus::Claimed
                | DraftStatus::SentForSignoff
                | DraftStatus::WithdrawalRequested
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::New => "new",
            DraftStatus::Claimed => "claimed",
            DraftStatus::SentForSignoff => "sent_for_signoff",
            DraftStatus::SignedOff => "signed_off",
            DraftStatus::Rejected => "rejected",
            DraftStatus::Archived => "archived",
            DraftStatus::Quarantined => "quarantined",
            DraftStatus::Purged => "purged",
            DraftStatus::RevisionRequested => "revision_requested",
            DraftStatus::WithdrawalRequested => "withdrawal_requested",
            DraftStatus::Withdrawn => "withdrawn",
        }
    }
}

impl std::str::FromStr for DraftStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown status `{text}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    /// Download key: `drafts attachment ID N`, `/attachments/N`.
    pub index: u32,
    /// Position in the message tree (`2.0`: inside forwarded message `2`);
    /// downloads take it too.
    pub path: String,
    pub filename: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    /// Cut off before its closing MIME boundary: the end may be missing.
    pub incomplete: bool,
    /// The article in an attached document (.docx, .odt, .doc, .pdf, .rtf):
    /// paragraphs separated by an empty line, headings as `# …`.
    pub article_text: Option<String>,
    /// Why a document's text is missing or incomplete.
    pub extraction_note: Option<String>,
}

impl AttachmentView {
    /// Whether `key` (an index or a path) names this attachment.
    pub fn is(&self, key: &str) -> bool {
        self.path == key || self.index.to_string() == key
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftView {
    pub id: i64,
    /// Human reference such as `SP-20261128-0007` (date in the configured zone).
    pub reference: String,
    pub status: DraftStatus,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub from: Option<Address>,
    pub subject: Option<String>,
    /// The editors' title when one was set, else `submitted_title`.
    pub title: String,
    /// The title derived from the submission, never edited.
    pub submitted_title: String,
    /// Editors' notes.
    pub notes: String,
    /// Who holds the draft (claimed), or sent it for sign-off.
    pub claimed_by: Option<String>,
    /// When a claim runs out and the draft goes back to `new`.
    pub lease_until: Option<DateTime<FixedOffset>>,
    pub status_changed_at: DateTime<FixedOffset>,
    /// From the Date header, else the server's INTERNALDATE, else ingestion
    /// time; shown in the configured time zone.
    pub received_at: DateTime<FixedOffset>,
    pub body_text: String,
    pub attachments: Vec<AttachmentView>,
    pub classification: Classification,
    pub quarantine_reason: Option<String>,
    /// The acknowledgement, when acknowledgements are configured.
    pub ack: Option<AckView>,
    /// The receiving provider's DMARC / DKIM / SPF verdict, when trusted.
    pub sender_auth: Option<AuthVerdict>,
    /// Messages forwarded as attachments (nested forwards included): their
    /// sender, date, subject and text; each is attachment `path` as `.eml`.
    pub forwarded: Vec<Forwarded>,
    /// The editor who forwarded the submission (`general.forwarders`);
    /// `from` is then the original sender.
    pub forwarded_by: Option<Address>,
    /// The contributor's later mail about this draft, oldest first.
    pub thread: Vec<FollowUpView>,
    /// Contributor mail no editor has opened the draft since (有新來信).
    pub unseen_mail: bool,
    /// The article's length in characters, whitespace not counted (字數).
    pub length_chars: u64,
    /// Some attached document is still being read (正文提取中): the
    /// message was stored before its slowest documents were read.
    pub extraction_pending: bool,
    /// Letters to the contributor (decisions, status answers), oldest first.
    pub letters: Vec<LetterView>,
}

impl DraftView {
    /// The article's versions: 1 is the submission's documents, each
    /// follow-up carrying a document adds one.
    pub fn article_versions(&self) -> u32 {
        1 + self
            .thread
            .iter()
            .filter(|f| f.article_version.is_some())
            .count() as u32
    }
}

/// What a contributor's mail about an existing draft asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Anything else: more material, a revision, a question for the editors.
    Reply,
    /// 查詢 / 進度 / status: answered automatically.
    Status,
    /// 撤稿 / 撤回 / withdraw: marks the draft for the editors to confirm.
    Withdraw,
}

impl Intent {
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Reply => "reply",
            Intent::Status => "status",
            Intent::Withdraw => "withdraw",
        }
    }
}

impl std::str::FromStr for Intent {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [Intent::Reply, Intent::Status, Intent::Withdraw]
            .into_iter()
            .find(|i| i.as_str() == text)
            .ok_or_else(|| format!("unknown intent `{text}`"))
    }
}

/// A contributor's follow-up: its own raw message, shown in the draft's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpView {
    /// Download key: `drafts attachment ID r{number}.{path}`.
    pub number: u32,
    pub from: Option<Address>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub received_at: DateTime<FixedOffset>,
    pub intent: Intent,
    pub body_text: String,
    pub attachments: Vec<AttachmentView>,
    /// The article version its first document made (2, 3, …).
    pub article_version: Option<u32>,
    pub raw_sha256: String,
}

/// Which letter: the three decisions, a status answer, a withdrawal confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterKind {
    /// 錄用
    Accept,
    /// 請修改
    Revise,
    /// 退稿
    Decline,
    Status,
    Withdrawn,
}

impl LetterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::Accept => "accept",
            LetterKind::Revise => "revise",
            LetterKind::Decline => "decline",
            LetterKind::Status => "status",
            LetterKind::Withdrawn => "withdrawn",
        }
    }

    /// The decision letter a move to `to` sends, if any.
    pub fn for_decision(to: DraftStatus) -> Option<LetterKind> {
        match to {
            DraftStatus::SignedOff => Some(LetterKind::Accept),
            DraftStatus::RevisionRequested => Some(LetterKind::Revise),
            DraftStatus::Rejected => Some(LetterKind::Decline),
            DraftStatus::Withdrawn => Some(LetterKind::Withdrawn),
            _ => None,
        }
    }
}

impl std::str::FromStr for LetterKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            LetterKind::Accept,
            LetterKind::Revise,
            LetterKind::Decline,
            LetterKind::Status,
            LetterKind::Withdrawn,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
        .ok_or_else(|| format!("unknown letter kind `{text}`"))
    }
}

/// A letter to the contributor. `state`: `held` (proposed with 送簽, sent
/// if the signer accepts) | `pending` | `sent` | `failed` | `suppressed` |
/// `cancelled` | `uncertain` (interrupted after it was handed over to the
/// server: perhaps delivered, never sent again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterView {
    pub id: i64,
    pub kind: LetterKind,
    pub state: String,
    /// Why it was suppressed or cancelled, or why sending failed.
    pub reason: Option<String>,
    /// The editors' text; None: the template's, rendered when sent.
    pub subject: Option<String>,
    pub body: Option<String>,
    /// The editors' note to the author, the template's `{note}`.
    pub note: Option<String>,
    pub author: String,
    pub to: Option<String>,
    pub attempts: u32,
    pub created_at: DateTime<FixedOffset>,
    pub sent_at: Option<DateTime<FixedOffset>>,
}

/// `state`: `pending | sent | suppressed | failed | uncertain` (interrupted
/// after it was handed over to the server: perhaps delivered, never sent
/// again); `reason` says why a suppressed one was not sent, `error` why a
/// failed one could not be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckView {
    pub state: String,
    pub reason: Option<String>,
    pub error: Option<String>,
    pub to: Option<String>,
    pub attempts: u32,
    /// Our Message-ID, the same on every attempt.
    pub message_id: Option<String>,
    pub sent_at: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub at: DateTime<FixedOffset>,
    /// `ingested | quarantined | seen_again | follow_up | reparsed`, the
    /// workflow's (`claimed | released | sent_for_signoff | signed_off |
    /// returned | rejected | archived | reopened | lease_expired | edited`)
    /// and `purged`.
    pub kind: String,
    pub actor: String,
    pub detail: serde_json::Value,
}

#[cfg(test)]
impl DraftView {
    /// A submission as tests of pure code need one.
    pub(crate) fn sample(title: &str, body: &str) -> DraftView {
        use chrono::TimeZone;
        let received_at = FixedOffset::east_opt(8 * 3600)
            .and_then(|zone| zone.with_ymd_and_hms(2026, 11, 28, 9, 15, 0).single())
            .unwrap_or_default();
        DraftView {
            id: 7,
            reference: "SP-20261128-0007".into(),
            status: DraftStatus::New,
            mailbox: "submissions".into(),
            message_id: Some("sub-1@mail.example.org".into()),
            from: Some(Address {
                name: Some("李明".into()),
                address: "li.ming@example.org".into(),
            }),
            subject: Some(title.into()),
            title: title.into(),
            submitted_title: title.into(),
            notes: String::new(),
            claimed_by: None,
            lease_until: None,
            status_changed_at: received_at,
            received_at,
            body_text: body.into(),
            attachments: vec![AttachmentView {
                index: 0,
                path: "0".into(),
                filename: Some("上好戰疫這堂課.docx".into()),
                content_type: "application/msword".into(),
                size: 12_800,
                sha256: "00".into(),
                incomplete: false,
                article_text: Some(format!("# {title}\n\n{body}")),
                extraction_note: None,
            }],
            classification: Classification::Normal,
            quarantine_reason: None,
            ack: None,
            sender_auth: None,
            forwarded: Vec::new(),
            forwarded_by: None,
            thread: Vec::new(),
            unseen_mail: false,
            extraction_pending: false,
            length_chars: 0,
            letters: Vec::new(),
        }
    }
}
