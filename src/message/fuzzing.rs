//! Entry points of the fuzz targets under `fuzz/`, also called by
//! `tests/fuzz_replay.rs`, which replays every committed input on stable.
//! Each runs a reader over arbitrary bytes *without* the `catch_unwind`
//! that guards parsing in production, so a panic is a finding instead of a
//! quietly quarantined message.

use std::time::Duration;

use super::{ParseOptions, charset, encoded_word, extract, html, hz, parse};

/// The whole parse of one message, document extraction included.
pub fn message(bytes: &[u8]) {
    let _ = parse::parse_unguarded(bytes, &options());
}

/// One document reader (`docx`, `odt`, `doc`, `pdf`, `rtf`) over any bytes.
pub fn document(kind: &str, bytes: &[u8]) {
    let _ = extract::read_as(kind, bytes, &limits());
}

/// Sanitizing and reading text out of an HTML body.
pub fn html(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let _ = html::sanitize(&text);
    let _ = html::html_to_text(&text);
}

/// Header decoding: RFC 2047 encoded words in every kind of header, RFC
/// 2231 parameters, unlabelled 8-bit bytes with and without a hint.
pub fn header_words(bytes: &[u8]) {
    for hint in [None, Some(encoding_rs::GB18030), Some(encoding_rs::BIG5)] {
        let _ = encoded_word::decode_unstructured(bytes, hint);
        let _ = encoded_word::decode_structured(bytes, hint);
        let _ = encoded_word::decode_parameter(bytes, hint);
    }
}

/// Body decoding: the first byte picks a declared charset (HZ among them),
/// the rest is the body; detection and HZ run on it too.
pub fn charsets(bytes: &[u8]) {
    const LABELS: &[&str] = &[
        "gb2312",
        "gbk",
        "gb18030",
        "big5",
        "big5-hkscs",
        "hz-gb-2312",
        "utf-8",
        "utf-7",
        "iso-2022-jp",
        "euc-kr",
        "iso-8859-1",
        "x-unknown",
    ];
    let Some((&pick, body)) = bytes.split_first() else {
        return;
    };
    let label = LABELS[pick as usize % LABELS.len()];
    let _ = charset::decode(body, Some(label), None);
    let _ = charset::decode(body, None, Some(charset::guess(body)));
    let _ = charset::message_hint(&[label.to_string()], body);
    let _ = hz::decode_hz(body);
}

/// Production bounds, but a shorter clock: a fuzzer's input that takes a
/// second is a finding already.
fn limits() -> extract::ExtractLimits {
    extract::ExtractLimits {
        timeout: Duration::from_secs(1),
        message_timeout: Duration::from_secs(2),
        ..extract::ExtractLimits::default()
    }
}

fn options() -> ParseOptions {
    ParseOptions {
        extract: Some(limits()),
        ..ParseOptions::default()
    }
}
