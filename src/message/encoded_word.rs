//! RFC 2047 encoded-words, decoded from the raw header bytes.
//!
//! mail-parser decodes each encoded-word on its own, so a multi-byte
//! character that a sender split across two adjacent words turns into two
//! U+FFFD, and it reads raw 8-bit header bytes as UTF-8. Here adjacent words
//! of one charset are joined as bytes before decoding, and 8-bit runs go
//! through charset detection.

use encoding_rs::Encoding;

use super::charset;
use super::transfer::hex;

#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Raw(&'a [u8]),
    Word { charset: String, bytes: Vec<u8> },
}

/// Decoded header text plus any charset problems met on the way.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HeaderText {
    pub text: String,
    pub defects: Vec<String>,
}

/// Decodes an unstructured header value (Subject and the like), unfolded and
/// trimmed.
pub fn decode_unstructured(raw: &[u8], hint: Option<&'static Encoding>) -> HeaderText {
    let unfolded = unfold(raw);
    let mut out = HeaderText::default();
    for piece in join_words(tokenize(&unfolded)) {
        let text = decode_piece(&piece, hint, &mut out.defects);
        out.text.push_str(&text);
    }
    out.text = out.text.trim().to_string();
    out
}

/// Rewrites a structured header value (addresses) as UTF-8 that a
/// structured parser can read: words decoded outside quotes become quoted
/// strings, so a decoded `,` or `<` cannot change the header's structure.
pub fn decode_structured(raw: &[u8], hint: Option<&'static Encoding>) -> HeaderText {
    let unfolded = unfold(raw);
    let mut out = HeaderText::default();
    let mut in_quote = false;
    let mut comment_depth = 0usize;
    for piece in join_words(tokenize(&unfolded)) {
        let text = decode_piece(&piece, hint, &mut out.defects);
        match piece {
            Piece::Raw(_) => {
                let mut escaped = false;
                for c in text.chars() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' if comment_depth == 0 => in_quote = !in_quote,
                        '(' if !in_quote => comment_depth += 1,
                        ')' if !in_quote => comment_depth = comment_depth.saturating_sub(1),
                        _ => {}
                    }
                }
                out.text.push_str(&text);
            }
            Piece::Word { .. } => {
                let escaped: String = text
                    .chars()
                    .flat_map(|c| match c {
                        '"' | '\\' => vec!['\\', c],
                        _ => vec![c],
                    })
                    .collect();
                if in_quote || comment_depth > 0 {
                    out.text.push_str(&escaped);
                } else {
                    out.text.push('"');
                    out.text.push_str(&escaped);
                    out.text.push('"');
                }
            }
        }
    }
    out.text = out.text.trim().to_string();
    out
}

/// Decodes one plain parameter value as sent inside Content-Type or
/// Content-Disposition: encoded-words (non-standard there, but what many
/// Chinese clients emit) and raw 8-bit bytes both end up as text.
pub fn decode_parameter(raw: &[u8], hint: Option<&'static Encoding>) -> HeaderText {
    decode_unstructured(raw, hint)
}

fn unfold(raw: &[u8]) -> Vec<u8> {
    raw.iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect()
}

fn decode_piece(
    piece: &Piece<'_>,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> String {
    let decoded = match piece {
        Piece::Raw(bytes) if bytes.is_ascii() => return bytes.iter().map(|&b| b as char).collect(),
        Piece::Raw(bytes) => charset::decode(bytes, None, hint),
        Piece::Word { charset, bytes } => charset::decode(bytes, Some(charset), hint),
    };
    if let Some(d) = decoded.defect {
        defects.push(d);
    }
    decoded.text
}

fn tokenize(input: &[u8]) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut raw_start = 0;
    let mut i = 0;
    while i + 1 < input.len() {
        if input[i] == b'='
            && input[i + 1] == b'?'
            && let Some((end, word)) = parse_word(input, i)
        {
            if raw_start < i {
                pieces.push(Piece::Raw(&input[raw_start..i]));
            }
            pieces.push(word);
            i = end;
            raw_start = end;
            continue;
        }
        i += 1;
    }
    if raw_start < input.len() {
        pieces.push(Piece::Raw(&input[raw_start..]));
    }
    pieces
}

/// Parses `=?charset?E?text?=` starting at `start`; returns the end offset.
fn parse_word(input: &[u8], start: usize) -> Option<(usize, Piece<'static>)> {
    let rest = input.get(start + 2..)?;
    let charset_len = rest.iter().position(|&b| b == b'?')?;
    let charset = &rest[..charset_len];
    if charset.is_empty()
        || charset
            .iter()
            .any(|b| b.is_ascii_whitespace() || !b.is_ascii())
    {
        return None;
    }
    let rest = &rest[charset_len + 1..];
    let (&enc, rest) = rest.split_first()?;
    if rest.first() != Some(&b'?') {
        return None;
    }
    let rest = &rest[1..];
    let text_len = rest.iter().position(|&b| b == b'?')?;
    if rest.get(text_len + 1) != Some(&b'=') {
        return None;
    }
    let text = &rest[..text_len];
    if text.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let bytes = match enc {
        b'B' | b'b' => super::transfer::decode_base64(text),
        b'Q' | b'q' => decode_q(text),
        _ => return None,
    };
    // RFC 2231 §5 allows `charset*language`.
    let charset = String::from_utf8_lossy(charset);
    let charset = charset.split('*').next().unwrap_or("").to_ascii_lowercase();
    let end = start + 2 + charset_len + 1 + 2 + text_len + 2;
    Some((end, Piece::Word { charset, bytes }))
}

fn decode_q(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < text.len() => match (hex(text[i + 1]), hex(text[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'='),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Drops whitespace between adjacent words (RFC 2047 §6.2) and merges runs
/// of words in the same charset into one byte string.
fn join_words(pieces: Vec<Piece<'_>>) -> Vec<Piece<'_>> {
    let mut out: Vec<Piece<'_>> = Vec::with_capacity(pieces.len());
    let mut iter = pieces.into_iter().peekable();
    while let Some(piece) = iter.next() {
        if let Piece::Raw(bytes) = &piece
            && bytes.iter().all(|b| *b == b' ' || *b == b'\t')
            && matches!(out.last(), Some(Piece::Word { .. }))
            && matches!(iter.peek(), Some(Piece::Word { .. }))
        {
            continue;
        }
        if let Piece::Word { charset, bytes } = &piece
            && let Some(Piece::Word {
                charset: prev_cs,
                bytes: prev,
            }) = out.last_mut()
            && prev_cs == charset
        {
            prev.extend_from_slice(bytes);
            continue;
        }
        out.push(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(raw: &str) -> String {
        decode_unstructured(raw.as_bytes(), None).text
    }

    #[test]
    fn plain_and_single_words() {
        assert_eq!(subject(" Hello  world\r\n"), "Hello  world");
        assert_eq!(subject("=?utf-8?B?5pWZ6IKy6YOo?="), "教育部");
        assert_eq!(
            subject("=?ISO-8859-1?Q?Olle_J=E4rnefors?="),
            "Olle Järnefors"
        );
        assert_eq!(subject("a =?utf-8?q?b?= c"), "a b c");
    }

    #[test]
    fn split_character_across_b_words_is_joined() {
        // "教育" = e6 95 99 e8 82 b2, split after the first byte of 育.
        let raw = "=?UTF-8?B?5pWZ6A==?=\r\n =?UTF-8?B?grI=?=";
        assert_eq!(subject(raw), "教育");
    }

    #[test]
    fn split_character_across_q_words_is_joined() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("战疫");
        let hexes: Vec<String> = gbk.iter().map(|b| format!("={b:02X}")).collect();
        let raw = format!(
            "=?gb2312?Q?{}{}{}?= =?gb2312?Q?{}?=",
            hexes[0], hexes[1], hexes[2], hexes[3]
        );
        assert_eq!(subject(&raw), "战疫");
    }

    #[test]
    fn different_charsets_are_not_joined_but_whitespace_goes() {
        assert_eq!(subject("=?utf-8?q?a?= =?iso-8859-1?q?=E4?="), "aä");
    }

    #[test]
    fn raw_8bit_is_detected() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("投稿：教育部教师司上好战疫这堂课");
        let d = decode_unstructured(&gbk, None);
        assert_eq!(d.text, "投稿：教育部教师司上好战疫这堂课");
        assert_eq!(d.defects.len(), 1);
    }

    #[test]
    fn hz_encoded_word() {
        assert_eq!(subject("=?HZ-GB-2312?B?fns8Okt5fn0=?="), "己所");
    }

    #[test]
    fn not_a_word_stays_literal() {
        assert_eq!(subject("=?broken a=?x"), "=?broken a=?x");
        assert_eq!(subject("=?utf-8?x?abc?="), "=?utf-8?x?abc?=");
    }

    #[test]
    fn structured_words_become_quoted_strings() {
        let d = decode_structured(b"=?utf-8?q?Li=2C_Ming?= <li@example.org>", None);
        assert_eq!(d.text, "\"Li, Ming\" <li@example.org>");
        let d = decode_structured(b"\"=?utf-8?B?5pWZ6IKy6YOo?=\" <a@example.org>", None);
        assert_eq!(d.text, "\"教育部\" <a@example.org>");
    }
}
