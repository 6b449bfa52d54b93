//! Composing an acknowledgement (pure): headers that mark it as an
//! automatic reply, a Message-ID derived from the draft so a resend is
//! recognisable, and the localized text from the templates.

use std::collections::HashMap;

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};

use super::template::Templates;
use crate::config::ack::Language;
use crate::draft::DraftView;
use crate::store::Recipient;

/// Who the acknowledgement comes from and how it is written.
#[derive(Debug, Clone)]
pub struct Sender {
    pub address: String,
    pub name: Option<String>,
    /// Right-hand side of our Message-IDs.
    pub domain: String,
    pub default_language: Language,
    /// Shown after the received time, e.g. "Asia/Shanghai".
    pub time_zone: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid address `{0}`")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// The Message-ID of a draft's acknowledgement: the same on every attempt.
pub fn ack_message_id(reference: &str, domain: &str) -> String {
    format!("<ack.{reference}@{domain}>")
}

/// Mostly CJK text → Chinese, mostly Latin letters → English, else the default.
pub fn language_of(text: &str, default: Language) -> Language {
    let (mut cjk, mut latin) = (0usize, 0usize);
    for c in text.chars().take(4000) {
        if matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FFFF}')
        {
            cjk += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    // A CJK character carries about as much as a short Latin word.
    if cjk == 0 && latin == 0 {
        default
    } else if cjk * 4 >= latin {
        Language::Zh
    } else {
        Language::En
    }
}

/// Header and one-line values must not smuggle line breaks or controls.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

pub fn compose(
    draft: &DraftView,
    to: &Recipient,
    sender: &Sender,
    templates: &Templates,
) -> Result<Message, ComposeError> {
    let language = language_of(
        &format!("{}\n{}", draft.title, draft.body_text),
        sender.default_language,
    );
    let zh = language == Language::Zh;
    let title = match one_line(&draft.title) {
        t if t.is_empty() && zh => "（无标题）".to_string(),
        t if t.is_empty() => "(no subject)".to_string(),
        t => t,
    };
    let name = to.name.as_deref().map(one_line).filter(|n| !n.is_empty());
    let name = name.unwrap_or_else(|| {
        if zh {
            String::new()
        } else {
            "contributor".into()
        }
    });
    let received_at = if zh {
        draft.received_at.format("%Y年%-m月%-d日 %H:%M").to_string()
    } else {
        draft.received_at.format("%-d %B %Y, %H:%M").to_string()
    };
    let attachments = if draft.attachments.is_empty() {
        (if zh { "（无）" } else { "(none)" }).to_string()
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
                    format!("- {file}（{}）", human_size(a.size))
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
    let values = HashMap::from([
        ("reference", draft.reference.clone()),
        ("title", title),
        (
            "received_at",
            format!("{received_at} ({})", sender.time_zone),
        ),
        ("attachments", attachments),
        ("name", name),
        ("publication", publication),
    ]);
    let (subject, body) = templates.get(language).render(&values);

    let mailbox = |name: Option<&str>, address: &str| -> Result<Mailbox, ComposeError> {
        let address = address
            .parse()
            .map_err(|_| ComposeError::Address(address.to_string()))?;
        Ok(Mailbox::new(name.map(one_line), address))
    };
    let mut builder = Message::builder()
        .from(mailbox(sender.name.as_deref(), &sender.address)?)
        .to(mailbox(to.name.as_deref(), &to.address)?)
        .subject(one_line(&subject))
        .message_id(Some(ack_message_id(&draft.reference, &sender.domain)))
        // RFC 3834: an automatic reply, which other robots must not answer.
        .raw_header(raw("Auto-Submitted", "auto-replied"))
        .raw_header(raw("X-Auto-Response-Suppress", "All"));
    if let Some(id) = &draft.message_id {
        let id = format!("<{}>", one_line(id));
        builder = builder.in_reply_to(id.clone()).references(id);
    }
    builder
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))
}

fn raw(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

#[cfg(test)]
mod tests;
