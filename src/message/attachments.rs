//! Attachment listing and content, with one indexing shared by both. A
//! forwarded message (message/rfc822) is an attachment itself, served as
//! `.eml`, and so is each attachment inside it, to any depth.

use std::borrow::Cow;

use encoding_rs::Encoding;
use mail_parser::{Message, MessagePart, PartType};
use sha2::{Digest, Sha256};

use super::headers::{content_type, raw_header};
use super::{Attachment, Disposition, body, headers, params, transfer, truncation};

/// One attachment of a message tree, with where it is.
pub struct Entry<'m, 'x> {
    /// The message whose part this is: part offsets are relative to its bytes.
    pub owner: &'m Message<'x>,
    pub part: &'m MessagePart<'x>,
    /// Position in the tree: `2`, or `2.0` for the first attachment inside
    /// the forwarded message listed as `2`.
    pub path: String,
    /// Bytes of the raw body that are its own, when it was cut off.
    pub cut: Option<usize>,
}

impl<'m, 'x> Entry<'m, 'x> {
    /// The forwarded message this entry is, if it is one.
    pub fn forwarded(&self) -> Option<&'m Message<'x>> {
        match &self.part.body {
            PartType::Message(inner) => Some(inner),
            _ => None,
        }
    }
}

/// Every attachment in listing order, which is also the order of
/// `Attachment::index`. At each level the message's own files come first
/// (so a message without forwards keeps the indexes it always had), then
/// each forwarded message followed by what it holds.
pub fn entries<'m, 'x>(msg: &'m Message<'x>) -> Vec<Entry<'m, 'x>> {
    let mut out = Vec::new();
    walk(msg, "", &[], &mut out);
    out
}

fn walk<'m, 'x>(m: &'m Message<'x>, prefix: &str, outer: &[String], out: &mut Vec<Entry<'m, 'x>>) {
    let files = m.attachments.iter().copied().filter(|&id| {
        m.parts
            .get(id as usize)
            .is_some_and(|p| !matches!(p.body, PartType::Message(_)))
    });
    let forwards = (0..m.parts.len() as u32)
        .filter(|&id| matches!(m.parts[id as usize].body, PartType::Message(_)));
    for (n, id) in files.chain(forwards).enumerate() {
        let Some(part) = m.parts.get(id as usize) else {
            continue;
        };
        let path = if prefix.is_empty() {
            n.to_string()
        } else {
            format!("{prefix}.{n}")
        };
        out.push(Entry {
            owner: m,
            part,
            path: path.clone(),
            cut: truncation::cut(m, id, outer),
        });
        if let PartType::Message(inner) = &part.body {
            let mut enclosing = outer.to_vec();
            let chain = truncation::containers(m, id);
            enclosing.extend(chain.iter().filter_map(|&c| truncation::boundary(m, c)));
            walk(inner, &path, &enclosing, out);
        }
    }
}

/// The entry's bytes: transfer-decoded content, or for a forwarded message
/// its raw bytes, up to where the part was cut off.
fn content<'a>(entry: &Entry<'a, '_>) -> Cow<'a, [u8]> {
    let (owner, part) = (entry.owner, entry.part);
    if entry.cut.is_none() && entry.forwarded().is_none() {
        return body::part_bytes(owner, part);
    }
    let raw = owner
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)
        .unwrap_or_default();
    let raw = &raw[..entry.cut.unwrap_or(raw.len()).min(raw.len())];
    // The header, not mail-parser's `encoding`: for a part that never ends
    // mail-parser keeps the body as it is and says so.
    let encoding = raw_header(owner, part, "Content-Transfer-Encoding")
        .map(|v| String::from_utf8_lossy(v).trim().to_ascii_lowercase());
    let encoding = match encoding.as_deref() {
        Some("base64") => mail_parser::Encoding::Base64,
        Some("quoted-printable") => mail_parser::Encoding::QuotedPrintable,
        _ => mail_parser::Encoding::None,
    };
    transfer::decode(raw, encoding)
}

pub fn describe<'a>(
    entry: &Entry<'a, '_>,
    index: u32,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> (Attachment, Cow<'a, [u8]>) {
    let (msg, part, path) = (entry.owner, entry.part, &entry.path);
    let bytes = content(entry);
    let mut name_defects = Vec::new();
    let filename = filename(msg, part, hint, &mut name_defects).or_else(|| {
        entry
            .forwarded()
            .map(|inner| eml_name(headers::subject(inner, hint, &mut name_defects)))
    });
    defects.extend(
        name_defects
            .into_iter()
            .map(|d| format!("attachment {path} filename: {d}")),
    );
    if entry.cut.is_some() {
        defects.push(format!(
            "attachment {path} may be incomplete: its closing MIME boundary is missing"
        ));
    }
    let content_id = raw_header(msg, part, "Content-ID").map(|raw| {
        let text = String::from_utf8_lossy(raw);
        text.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim()
            .to_string()
    });
    let content_id = content_id.filter(|c| !c.is_empty());
    let attachment = Attachment {
        index,
        path: path.clone(),
        filename,
        content_type: content_type(part),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
        disposition: disposition(msg, part, content_id.is_some()),
        content_id,
        incomplete: entry.cut.is_some(),
        article_text: None,
        extraction_note: None,
    };
    (attachment, bytes)
}

/// A forwarded message's file name, as mail clients save it: its subject.
fn eml_name(subject: Option<String>) -> String {
    let subject: String = subject
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_control() || c == '/' || c == '\\' {
                '_'
            } else {
                c
            }
        })
        .take(120)
        .collect();
    let subject = subject.trim();
    format!(
        "{}.eml",
        if subject.is_empty() {
            "message"
        } else {
            subject
        }
    )
}

fn filename(
    msg: &Message<'_>,
    part: &MessagePart<'_>,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> Option<String> {
    let from_disposition = raw_header(msg, part, "Content-Disposition")
        .and_then(|raw| params::param(raw, "filename", hint));
    let found = from_disposition.or_else(|| {
        raw_header(msg, part, "Content-Type").and_then(|raw| params::param(raw, "name", hint))
    });
    let (name, found_defects) = found?;
    defects.extend(found_defects);
    // A filename is shown and saved; path separators and controls are not
    // part of any sensible one.
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    let name = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    (!name.is_empty()).then_some(name)
}

fn disposition(msg: &Message<'_>, part: &MessagePart<'_>, has_cid: bool) -> Disposition {
    if let Some(raw) = raw_header(msg, part, "Content-Disposition") {
        let text = String::from_utf8_lossy(raw);
        let kind = text.split(';').next().unwrap_or("").trim();
        if kind.eq_ignore_ascii_case("inline") {
            return Disposition::Inline;
        }
        if kind.eq_ignore_ascii_case("attachment") {
            return Disposition::Attachment;
        }
    }
    if has_cid || matches!(part.body, PartType::InlineBinary(_)) {
        Disposition::Inline
    } else {
        Disposition::Attachment
    }
}
