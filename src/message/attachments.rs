//! Attachment listing and content, with one indexing shared by both.

use std::borrow::Cow;

use encoding_rs::Encoding;
use mail_parser::{Message, MessagePart, PartType};
use sha2::{Digest, Sha256};

use super::headers::{content_type, raw_header};
use super::{Attachment, Disposition, body, params};

/// Part ids of the attachments, in document order. Nested messages are
/// left out: they are summarised in `Submission::forwarded` instead.
pub fn attachment_ids(msg: &Message<'_>) -> Vec<u32> {
    msg.attachments
        .iter()
        .copied()
        .filter(|&id| {
            msg.parts
                .get(id as usize)
                .is_some_and(|p| !matches!(p.body, PartType::Message(_)))
        })
        .collect()
}

pub fn describe<'a>(
    msg: &'a Message<'_>,
    part: &'a MessagePart<'_>,
    index: u32,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> (Attachment, Cow<'a, [u8]>) {
    let bytes = body::part_bytes(msg, part);
    let mut name_defects = Vec::new();
    let filename = filename(msg, part, hint, &mut name_defects);
    defects.extend(
        name_defects
            .into_iter()
            .map(|d| format!("attachment {index} filename: {d}")),
    );
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
        filename,
        content_type: content_type(part),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
        disposition: disposition(msg, part, content_id.is_some()),
        content_id,
    };
    (attachment, bytes)
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
