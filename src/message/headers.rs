//! Header fields of one (possibly nested) message, decoded from raw bytes.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use encoding_rs::Encoding;
use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders};

use super::Address;
use super::encoded_word::{decode_structured, decode_unstructured};

/// The bytes up to and including the blank line that ends the header section.
pub fn header_section(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap_or(raw.len());
    &raw[..end.min(raw.len())]
}

/// Raw bytes of the first header called `name` in `part`. Offsets are
/// relative to the raw bytes of the message that owns the part.
pub fn raw_header<'a>(
    msg: &'a Message<'_>,
    part: &MessagePart<'_>,
    name: &str,
) -> Option<&'a [u8]> {
    let h = part
        .headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))?;
    msg.raw_message
        .get(h.offset_start as usize..h.offset_end as usize)
}

fn root_header<'a>(msg: &'a Message<'_>, name: &str) -> Option<&'a [u8]> {
    raw_header(msg, msg.parts.first()?, name)
}

/// Header text for classification: decoded, but without recording defects.
pub fn root_headers(msg: &Message<'_>, hint: Option<&'static Encoding>) -> Vec<(String, String)> {
    let Some(root) = msg.parts.first() else {
        return Vec::new();
    };
    root.headers
        .iter()
        .map(|h| {
            let raw = msg
                .raw_message
                .get(h.offset_start as usize..h.offset_end as usize)
                .unwrap_or_default();
            (h.name().to_string(), decode_unstructured(raw, hint).text)
        })
        .collect()
}

pub fn subject(
    msg: &Message<'_>,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> Option<String> {
    let raw = root_header(msg, "Subject")?;
    let decoded = decode_unstructured(raw, hint);
    defects.extend(decoded.defects.into_iter().map(|d| format!("subject: {d}")));
    Some(decoded.text)
}

/// Addresses of header `name`. The raw value is first rewritten as UTF-8
/// (see `decode_structured`) and then handed to mail-parser's address
/// parser, which copes with groups, comments and obsolete syntax.
pub fn addresses(
    msg: &Message<'_>,
    name: &str,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> Vec<Address> {
    let Some(raw) = root_header(msg, name) else {
        return Vec::new();
    };
    let decoded = decode_structured(raw, hint);
    let field = name.to_ascii_lowercase();
    defects.extend(decoded.defects.into_iter().map(|d| format!("{field}: {d}")));
    let mini = format!("To: {}\r\n\r\n", decoded.text);
    let Some(parsed) = MessageParser::new().parse_headers(mini.as_bytes()) else {
        return Vec::new();
    };
    let Some(list) = parsed.to() else {
        return Vec::new();
    };
    list.iter()
        .map(|a| Address {
            name: a
                .name()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            address: a.address().unwrap_or("").trim().to_lowercase(),
        })
        .collect()
}

/// The null sender `<>` parses to an address-less entry; keep it so the
/// caller can see it, as `address: ""`.
pub fn first_address(
    msg: &Message<'_>,
    name: &str,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> Option<Address> {
    let present = root_header(msg, name).is_some();
    let first = addresses(msg, name, hint, defects).into_iter().next();
    match first {
        Some(a) => Some(a),
        None if present && is_null_path(root_header(msg, name)) => Some(Address {
            name: None,
            address: String::new(),
        }),
        None => None,
    }
}

pub fn is_null_path(raw: Option<&[u8]>) -> bool {
    raw.is_some_and(|r| {
        let compact: Vec<u8> = r
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        compact == b"<>"
    })
}

pub fn return_path_is_null(msg: &Message<'_>) -> bool {
    is_null_path(root_header(msg, "Return-Path"))
}

pub fn message_id(msg: &Message<'_>) -> Option<String> {
    let raw = root_header(msg, "Message-ID")?;
    let text = String::from_utf8_lossy(raw);
    let id = text.trim().trim_start_matches('<');
    let id = id.split('>').next().unwrap_or("").trim();
    (!id.is_empty()).then(|| id.to_string())
}

pub fn date(msg: &Message<'_>) -> Option<DateTime<FixedOffset>> {
    let d = msg.date()?;
    let offset_secs = (i32::from(d.tz_hour) * 3600 + i32::from(d.tz_minute) * 60)
        * if d.tz_before_gmt { -1 } else { 1 };
    let offset = FixedOffset::east_opt(offset_secs)?;
    let naive = NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))?
        .and_hms_opt(u32::from(d.hour), u32::from(d.minute), u32::from(d.second))?;
    offset.from_local_datetime(&naive).single()
}

/// Lower-case `type/subtype` of a part, with RFC 2045's default.
pub fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream"))
            .to_ascii_lowercase(),
        None => "text/plain".to_string(),
    }
}
