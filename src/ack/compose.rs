//! Composing what is written to contributors (pure): headers that mark an
//! automatic reply, Message-IDs derived from the draft (the same on every
//! attempt, and tagged so that only we can make them), the language of the
//! submission and the localized text from the templates.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};

use super::language::language_of;
use super::template::{TemplateKind, Templates};
use crate::config::ack::Language;
use crate::draft::DraftView;
use crate::export::printable::is_bidi_control;
use crate::store::Recipient;

/// Who writes to contributors and how.
#[derive(Debug, Clone)]
pub struct Sender {
    pub address: String,
    pub name: Option<String>,
    /// Right-hand side of our Message-IDs.
    pub domain: String,
    pub default_language: Language,
    /// IANA name, e.g. "Asia/Shanghai".
    pub time_zone: String,
    /// The processing period promised (`general.response_within`).
    pub response_within: Duration,
}

impl Sender {
    pub fn from_config(
        config: &crate::config::Config,
        smtp: &crate::config::ack::SmtpConfig,
        ack: &crate::config::ack::AckConfig,
    ) -> Sender {
        Sender {
            address: smtp.from.clone(),
            name: smtp.from_name.clone(),
            domain: smtp.domain().to_string(),
            default_language: ack.default_language,
            time_zone: config.general.time_zone.clone(),
            response_within: config.general.response_within,
        }
    }
}

#[cfg(test)]
impl Sender {
    /// 《旗幟》編輯部 in Shanghai, as tests of pure code need one.
    pub(crate) fn sample() -> Sender {
        Sender {
            address: "submissions@example.org".into(),
            name: Some("《旗幟》編輯部".into()),
            domain: "example.org".into(),
            default_language: Language::ZhHant,
            time_zone: "Asia/Shanghai".into(),
            response_within: Duration::from_secs(30 * 86_400),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid address `{0}`")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// The Message-ID of a draft's acknowledgement: the same on every attempt.
/// `tag` is `auth::thread_tag` of the reference: a reply naming this id
/// answers our mail about that draft.
pub fn ack_message_id(reference: &str, tag: &str, domain: &str) -> String {
    format!("<ack.{reference}.{tag}@{domain}>")
}

/// The Message-ID of letter `id` about a draft, the same on every attempt.
pub fn letter_message_id(reference: &str, id: i64, tag: &str, domain: &str) -> String {
    format!("<letter.{reference}.{id}.{tag}@{domain}>")
}

/// The language a draft's contributor is written to in.
pub fn language_for(draft: &DraftView, default: Language) -> Language {
    let mut text = format!("{}\n{}", draft.title, draft.body_text);
    // A cover note of one line says little: the article says more.
    for article in draft
        .attachments
        .iter()
        .filter_map(|a| a.article_text.as_deref())
    {
        text.push('\n');
        text.push_str(article);
    }
    language_of(&text, default)
}

/// Header and one-line values must not smuggle line breaks, controls or
/// bidi overrides.
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `text` cut to `max` characters, with an ellipsis when it was longer: a
/// title or name of any length keeps every header line far below RFC
/// 5322's 998 characters.
fn at_most(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// A title in subjects and letters: enough to recognise the piece.
const TITLE_CHARS: usize = 80;
/// A display name (ours or the contributor's).
const NAME_CHARS: usize = 64;
/// The whole subject line.
const SUBJECT_CHARS: usize = 160;

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// A day as the language writes it.
pub(super) fn date(lang: Language, at: DateTime<FixedOffset>) -> String {
    if lang.is_chinese() {
        at.format("%Y年%-m月%-d日").to_string()
    } else {
        at.format("%-d %B %Y").to_string()
    }
}

/// A moment as the language writes it, with the zone named in words where
/// we know them.
fn moment(lang: Language, at: DateTime<FixedOffset>, zone: &str) -> String {
    let zone_name = match (zone, lang) {
        ("Asia/Shanghai" | "Asia/Chongqing" | "Asia/Harbin", Language::ZhHant) => "北京時間",
        ("Asia/Shanghai" | "Asia/Chongqing" | "Asia/Harbin", Language::ZhHans) => "北京时间",
        ("Asia/Taipei", Language::ZhHant) => "臺北時間",
        ("Asia/Taipei", Language::ZhHans) => "台北时间",
        ("Asia/Hong_Kong", Language::ZhHant) => "香港時間",
        ("Asia/Hong_Kong", Language::ZhHans) => "香港时间",
        (other, _) => other,
    };
    if lang.is_chinese() {
        format!("{} {}（{zone_name}）", date(lang, at), at.format("%H:%M"))
    } else {
        format!("{}, {} ({zone_name})", date(lang, at), at.format("%H:%M"))
    }
}

fn period(lang: Language, within: Duration) -> String {
    let days = within.as_secs().div_ceil(86_400).max(1);
    match lang {
        Language::ZhHant => format!("{days}日"),
        Language::ZhHans => format!("{days}天"),
        Language::En if days == 1 => "one day".into(),
        Language::En => format!("{days} days"),
    }
}

/// The values every template can use, for `draft` written to `to`.
pub(super) fn values(
    draft: &DraftView,
    to: &Recipient,
    sender: &Sender,
    lang: Language,
) -> HashMap<&'static str, String> {
    let zh = lang.is_chinese();
    let title = match at_most(one_line(&draft.title), TITLE_CHARS) {
        t if t.is_empty() && lang == Language::ZhHant => "無題".to_string(),
        t if t.is_empty() && zh => "无题".to_string(),
        t if t.is_empty() => "(no subject)".to_string(),
        t => t,
    };
    let name = to
        .name
        .as_deref()
        .map(|n| at_most(one_line(n), NAME_CHARS))
        .filter(|n| !n.is_empty());
    let name = name.unwrap_or_else(|| {
        if zh {
            String::new()
        } else {
            "contributor".into()
        }
    });
    let attachments = if draft.attachments.is_empty() {
        match lang {
            Language::ZhHant => "（無）",
            Language::ZhHans => "（无）",
            Language::En => "(none)",
        }
        .to_string()
    } else {
        draft
            .attachments
            .iter()
            .map(|a| {
                let file = a
                    .filename
                    .as_deref()
                    .map(one_line)
                    .unwrap_or_else(|| a.content_type.clone());
                if zh {
                    format!("・{file}（{}）", human_size(a.size))
                } else {
                    format!("- {file} ({})", human_size(a.size))
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let publication = sender
        .name
        .clone()
        .unwrap_or_else(|| sender.address.clone());
    let respond_by =
        draft.received_at + chrono::Duration::from_std(sender.response_within).unwrap_or_default();
    HashMap::from([
        ("reference", draft.reference.clone()),
        ("title", title),
        (
            "received_at",
            moment(lang, draft.received_at, &sender.time_zone),
        ),
        ("attachments", attachments),
        ("name", name),
        ("publication", publication),
        ("respond_by", date(lang, respond_by)),
        ("response_within", period(lang, sender.response_within)),
        ("note", String::new()),
        ("decided_at", String::new()),
        ("status", String::new()),
    ])
}

/// A message to a contributor, threaded to their submission, marked as
/// sent by a robot that other robots must not answer (RFC 3834).
pub(super) fn message(
    draft: &DraftView,
    to: &Recipient,
    sender: &Sender,
    (subject, body): (String, String),
    message_id: String,
    also_references: Option<String>,
) -> Result<Message, ComposeError> {
    let mailbox = |name: Option<&str>, address: &str| -> Result<Mailbox, ComposeError> {
        let address = address
            .parse()
            .map_err(|_| ComposeError::Address(address.to_string()))?;
        Ok(Mailbox::new(
            name.map(|n| at_most(one_line(n), NAME_CHARS)),
            address,
        ))
    };
    let mut builder = Message::builder()
        .from(mailbox(sender.name.as_deref(), &sender.address)?)
        .to(mailbox(to.name.as_deref(), &to.address)?)
        .subject(at_most(one_line(&subject), SUBJECT_CHARS))
        .message_id(Some(message_id))
        .raw_header(raw("Auto-Submitted", "auto-replied"))
        .raw_header(raw("X-Auto-Response-Suppress", "All"));
    // A Message-ID too long for one header line threads nothing.
    let original = draft
        .message_id
        .as_ref()
        .map(|id| format!("<{}>", one_line(id)))
        .filter(|id| id.len() <= 900);
    if let Some(id) = &original {
        builder = builder.in_reply_to(id.clone());
    }
    let references: Vec<String> = original.into_iter().chain(also_references).collect();
    if !references.is_empty() {
        builder = builder.references(references.join(" "));
    }
    builder
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))
}

/// The acknowledgement of `draft`; `tag` is its thread tag.
pub fn compose(
    draft: &DraftView,
    to: &Recipient,
    sender: &Sender,
    templates: &Templates,
    tag: &str,
) -> Result<Message, ComposeError> {
    let lang = language_for(draft, sender.default_language);
    let values = values(draft, to, sender, lang);
    let text = templates.get(TemplateKind::Ack, lang).render(&values);
    let id = ack_message_id(&draft.reference, tag, &sender.domain);
    message(draft, to, sender, text, id, None)
}

fn raw(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

#[cfg(test)]
mod tests;
