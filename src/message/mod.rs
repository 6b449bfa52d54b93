//! Pure parsing: raw RFC 5322 bytes → [`Submission`]. No I/O lives here, so
//! everything in this module is unit- and golden-tested without servers.

mod attachments;
pub mod auth_results;
mod body;
mod charset;
mod classify;
mod encoded_word;
pub mod extract;
mod forwarded;
#[doc(hidden)]
pub mod fuzzing;
mod headers;
pub mod html;
mod hz;
mod limits;
mod params;
mod parse;
mod title;
mod transfer;
mod truncation;

pub use headers::header_section;
pub use parse::{attachment_content, parse};
pub use title::strip_title_prefixes;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Bounds that turn a pathological message into a quarantined record instead
/// of unbounded work.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// More MIME parts than this is treated as hostile.
    pub max_parts: usize,
    /// Deeper multipart / message/rfc822 nesting than this is treated as hostile.
    pub max_depth: usize,
    /// Addresses of the submissions mailbox itself (lower-case), so mail we
    /// sent is classified `own_address`.
    pub own_addresses: Vec<String>,
    /// Editors' addresses (lower-case): a message from one of them that
    /// forwards another is the original sender's submission.
    pub forwarders: Vec<String>,
    /// Bounds on reading the article out of attached documents; `None`
    /// turns that off.
    pub extract: Option<extract::ExtractLimits>,
    /// When document reading stops for this batch (the ingest pipeline
    /// sets it from `inline_timeout`): documents left get
    /// [`extract::DEFERRED_NOTE`] and the submission `extraction_pending`.
    /// `None` (reparse, one-off tools) reads every document now.
    pub defer_extraction_at: Option<std::time::Instant>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            max_parts: 256,
            max_depth: 12,
            own_addresses: Vec::new(),
            forwarders: Vec::new(),
            extract: Some(extract::ExtractLimits::default()),
            defer_extraction_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    /// Lower-cased as received; empty for the null sender `<>`.
    pub address: String,
}

/// How the message relates to a human contributor. Serialized in snake_case:
/// `normal | auto_reply | bounce | list | own_address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Normal,
    AutoReply,
    Bounce,
    List,
    OwnAddress,
}

impl Classification {
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Normal => "normal",
            Classification::AutoReply => "auto_reply",
            Classification::Bounce => "bounce",
            Classification::List => "list",
            Classification::OwnAddress => "own_address",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Inline,
    Attachment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Position in the message's attachment list (0-based, stable for the
    /// same raw bytes); `attachment_content(raw, index)` serves its bytes.
    pub index: u32,
    /// Position in the message tree: `1`, or `2.0` for the first attachment
    /// inside the forwarded message listed as `2`.
    pub path: String,
    pub filename: Option<String>,
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u64,
    /// Hex sha256 of the decoded content.
    pub sha256: String,
    pub disposition: Disposition,
    pub content_id: Option<String>,
    /// Its multipart never closed (a truncated message): what is there is
    /// kept, but the end may be missing.
    pub incomplete: bool,
    /// The article in a .docx, .odt, .doc, .pdf or .rtf attachment:
    /// paragraphs separated by an empty line, headings as `# …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_text: Option<String>,
    /// Why a document's text is missing or incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction_note: Option<String>,
}

/// A message/rfc822 part (a forwarded submission), summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarded {
    /// Its attachment path: the original as `.eml`.
    pub path: String,
    pub message_id: Option<String>,
    pub from: Option<Address>,
    pub subject: Option<String>,
    pub date: Option<DateTime<FixedOffset>>,
    pub body_text: String,
}

/// Everything derived from one raw message. Rebuildable at any time from the
/// bytes (see `reparse`), so nothing here is the record of truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub from: Option<Address>,
    pub reply_to: Option<Address>,
    pub to: Vec<Address>,
    pub date: Option<DateTime<FixedOffset>>,
    pub subject: Option<String>,
    /// Subject with reply/forward/submission prefixes removed; when that
    /// says nothing (`投稿`, `submission`, empty), the title of the first
    /// attached document.
    pub title: String,
    /// LF line endings; from text/plain, else text extracted from HTML.
    pub body_text: String,
    /// The HTML body made safe to show (`html::sanitize`), when there is one.
    pub body_html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Forwarded messages, forwards of forwards included, in listing order.
    pub forwarded: Vec<Forwarded>,
    /// The editor who forwarded the submission (`forwarders`); `from` is
    /// then the original sender.
    pub forwarded_by: Option<Address>,
    pub classification: Classification,
    /// Problems found while parsing that did not prevent it (e.g.
    /// `"undecodable charset in subject"`).
    pub defects: Vec<String>,
    /// Some document was left to be read after the commit
    /// ([`ParseOptions::defer_extraction_at`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extraction_pending: bool,
}

impl Submission {
    /// The article's length as editors count it (字數): characters of the
    /// body and of the attached documents' text, whitespace (full-width
    /// spaces included) not counted.
    pub fn length_chars(&self) -> u64 {
        std::iter::once(self.body_text.as_str())
            .chain(
                self.attachments
                    .iter()
                    .filter_map(|a| a.article_text.as_deref()),
            )
            .map(counted_chars)
            .sum()
    }
}

/// Characters that count toward 字數: all but spaces, tabs, line breaks and
/// the ideographic space. The migration that added the column counts the
/// same way in SQL.
pub fn counted_chars(text: &str) -> u64 {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{3000}'))
        .count() as u64
}

/// The outcome of parsing. A quarantined message still carries whatever could
/// be read from it (often just headers) so editors can see what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub submission: Submission,
    pub quarantine: Option<String>,
}
