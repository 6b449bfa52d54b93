//! Part bodies as bytes and as text.

use std::borrow::Cow;

use encoding_rs::Encoding;
use mail_parser::{Message, MessagePart, PartType};

use super::headers::raw_header;
use super::{charset, html, params, transfer};

/// The decoded (transfer-encoding removed) bytes of a leaf part.
pub fn part_bytes<'a>(msg: &'a Message<'_>, part: &'a MessagePart<'_>) -> Cow<'a, [u8]> {
    match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => Cow::Borrowed(b.as_ref()),
        // mail-parser has already charset-decoded text parts; go back to
        // the raw bytes so our own charset handling sees the original.
        _ => {
            let raw = msg
                .raw_message
                .get(part.offset_body as usize..part.offset_end as usize)
                .unwrap_or_default();
            transfer::decode(raw, part.encoding)
        }
    }
}

/// The declared charset of a part, if any.
pub fn charset_label(msg: &Message<'_>, part: &MessagePart<'_>) -> Option<String> {
    let raw = raw_header(msg, part, "Content-Type")?;
    params::param(raw, "charset", None).map(|(v, _)| v)
}

/// Text of a text/* part, charset-decoded, LF line endings.
pub fn part_text(
    msg: &Message<'_>,
    part: &MessagePart<'_>,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
    what: &str,
) -> String {
    let bytes = part_bytes(msg, part);
    let label = charset_label(msg, part);
    let decoded = charset::decode(&bytes, label.as_deref(), hint);
    if let Some(d) = decoded.defect {
        defects.push(format!("{what}: {d}"));
    }
    let text = decoded
        .text
        .strip_prefix('\u{feff}')
        .unwrap_or(&decoded.text)
        .to_string();
    normalize_newlines(&text)
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Body text: the text/plain parts, else text read out of the HTML parts.
pub fn body_text(
    msg: &Message<'_>,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> String {
    let mut chunks = Vec::new();
    for &id in &msg.text_body {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(_) => chunks.push(part_text(msg, part, hint, defects, "body")),
            PartType::Html(_) => chunks.push(html::html_to_text(&part_text(
                msg, part, hint, defects, "body",
            ))),
            _ => {}
        }
    }
    let joined = chunks.join("\n");
    joined.trim_end().to_string()
}

/// Sanitized HTML body, when the message has an HTML part.
pub fn body_html(
    msg: &Message<'_>,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> Option<String> {
    let mut chunks = Vec::new();
    let text_ids = &msg.text_body;
    for &id in &msg.html_body {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        if let PartType::Html(_) = &part.body {
            // An HTML-only message lists the part under text_body as well;
            // its defects were recorded there already.
            let mut scratch = Vec::new();
            let sink = if text_ids.contains(&id) {
                &mut scratch
            } else {
                &mut *defects
            };
            chunks.push(html::sanitize(&part_text(
                msg,
                part,
                hint,
                sink,
                "html body",
            )));
        }
    }
    (!chunks.is_empty()).then(|| chunks.join("\n"))
}
