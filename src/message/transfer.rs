//! Content-Transfer-Encoding decoding of raw part bodies. Done here rather
//! than taken from mail-parser because mail-parser hands text parts back
//! already charset-decoded, and fidelity needs the bytes.

use std::borrow::Cow;

use mail_parser::Encoding as Cte;

/// A raw part body with its Content-Transfer-Encoding removed.
pub fn decode(raw: &[u8], encoding: Cte) -> Cow<'_, [u8]> {
    match encoding {
        Cte::Base64 => Cow::Owned(decode_base64(raw)),
        Cte::QuotedPrintable => Cow::Owned(decode_quoted_printable(raw)),
        Cte::None => Cow::Borrowed(raw),
    }
}

/// The value of one hexadecimal digit (quoted-printable, RFC 2047/2231).
pub fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Lenient base64: skips anything outside the alphabet (line breaks,
/// stray spaces) and stops at padding, as mail clients expect.
pub fn decode_base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in input {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Quoted-printable (RFC 2045 §6.7), keeping the body's own line endings.
pub fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        // Soft line break: '=' then optional trailing whitespace then EOL.
        let mut j = i + 1;
        while j < input.len() && (input[j] == b' ' || input[j] == b'\t') {
            j += 1;
        }
        match input.get(j) {
            Some(b'\n') => {
                i = j + 1;
                continue;
            }
            Some(b'\r') if input.get(j + 1) == Some(&b'\n') => {
                i = j + 2;
                continue;
            }
            None => break,
            _ => {}
        }
        match (
            input.get(i + 1).and_then(|&c| hex(c)),
            input.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            _ => {
                out.push(b'=');
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_ignores_line_breaks() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8"), b"hello");
        assert_eq!(decode_base64(b""), b"");
    }

    #[test]
    fn quoted_printable() {
        assert_eq!(
            decode_quoted_printable(b"a=3Db=\r\nc=\nd\r\n"),
            b"a=bcd\r\n"
        );
        assert_eq!(
            decode_quoted_printable(b"=E6=95=99 =zz="),
            "教 =zz".as_bytes()
        );
    }
}
