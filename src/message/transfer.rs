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
/// stray spaces) and stops at padding, as mail clients expect. Both the
/// standard and the URL-safe alphabet are accepted.
pub fn decode_base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut rest = input;
    loop {
        if bits == 0 {
            // The bulk of a body: whole groups of four alphabet characters.
            while let [a, b, c, d, tail @ ..] = rest {
                let v = [a, b, c, d].map(|&ch| BASE64_VALUES[usize::from(ch)]);
                if (v[0] | v[1] | v[2] | v[3]) >= 64 {
                    break;
                }
                let group = v.iter().fold(0u32, |n, &v| (n << 6) | u32::from(v));
                out.extend_from_slice(&group.to_be_bytes()[1..]);
                rest = tail;
            }
        }
        let Some((&ch, tail)) = rest.split_first() else {
            break;
        };
        rest = tail;
        match BASE64_VALUES[usize::from(ch)] {
            PAD => break,
            SKIP => continue,
            value => {
                acc = (acc << 6) | u32::from(value);
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    out.push((acc >> bits) as u8);
                    acc &= (1 << bits) - 1;
                }
            }
        }
    }
    out
}

const SKIP: u8 = 0xff;
const PAD: u8 = 0xfe;

/// Each byte's 6-bit value, or SKIP / PAD.
static BASE64_VALUES: [u8; 256] = {
    let mut table = [SKIP; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = 52 + i as u8;
        i += 1;
    }
    table[b'+' as usize] = 62;
    table[b'-' as usize] = 62;
    table[b'/' as usize] = 63;
    table[b'_' as usize] = 63;
    table[b'=' as usize] = PAD;
    table
};

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

    /// The byte-at-a-time reading the fast path must agree with.
    fn reference(input: &[u8]) -> Vec<u8> {
        let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
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

    #[test]
    fn the_group_fast_path_agrees_with_reading_byte_by_byte() {
        const CHARS: &[u8] = b"ABCXYZabcxyz0189+/-_=\r\n \t.*";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..400 {
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Mostly alphabet, like a real body, with the odd break.
                    let pick = (seed % 100) as usize;
                    if pick < 90 {
                        CHARS[pick % 16]
                    } else {
                        CHARS[16 + pick % (CHARS.len() - 16)]
                    }
                })
                .collect();
            assert_eq!(
                decode_base64(&input),
                reference(&input),
                "{:?}",
                String::from_utf8_lossy(&input)
            );
        }
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
