//! The draft as editors, the CLI and (later) the HTTP API see it: one serde
//! type, so every interface prints the same JSON.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::ack::policy::AuthVerdict;
use crate::message::{Address, Classification};

/// Editorial state. Ingestion creates `new` or `quarantined`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    New,
    Quarantined,
}

impl DraftStatus {
    pub const ALL: [DraftStatus; 2] = [DraftStatus::New, DraftStatus::Quarantined];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::New => "new",
            DraftStatus::Quarantined => "quarantined",
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
    pub index: u32,
    pub filename: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
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
    pub title: String,
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
}

/// `state`: `pending | sent | suppressed | failed`; `reason` says why a
/// suppressed one was not sent, `error` why a failed one could not be.
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
    /// `ingested | quarantined | seen_again | reparsed | released`
    pub kind: String,
    pub actor: String,
    pub detail: serde_json::Value,
}
