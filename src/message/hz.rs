//! HZ-GB-2312 (RFC 1843). encoding_rs maps this label to its "replacement"
//! encoding (a security measure for the web) and chardetng never proposes
//! it, so mail in HZ would otherwise decode to a single U+FFFD.

/// Decodes HZ text. Returns the text and whether anything was malformed
/// (malformed pairs become U+FFFD, like encoding_rs does).
pub fn decode_hz(bytes: &[u8]) -> (String, bool) {
    let mut out = String::with_capacity(bytes.len());
    let mut malformed = false;
    let mut gb_mode = false;
    // ASCII runs are copied through; GB runs are collected and decoded in one
    // go so encoding_rs sees whole two-byte pairs.
    let mut gb_bytes: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'~' {
            match bytes.get(i + 1) {
                Some(b'{') if !gb_mode => {
                    gb_mode = true;
                    i += 2;
                    continue;
                }
                Some(b'}') if gb_mode => {
                    malformed |= flush_gb(&mut gb_bytes, &mut out);
                    gb_mode = false;
                    i += 2;
                    continue;
                }
                Some(b'~') if !gb_mode => {
                    out.push('~');
                    i += 2;
                    continue;
                }
                Some(b'\n') if !gb_mode => {
                    i += 2;
                    continue;
                }
                Some(b'\r') if !gb_mode && bytes.get(i + 2) == Some(&b'\n') => {
                    i += 3;
                    continue;
                }
                _ => {}
            }
        }
        if gb_mode {
            // RFC 1843: a line break inside GB mode is an error, and the
            // mode is reset at the end of each line.
            if b == b'\n' || b == b'\r' {
                flush_gb(&mut gb_bytes, &mut out);
                malformed = true;
                gb_mode = false;
                out.push(b as char);
            } else {
                gb_bytes.push(b);
            }
        } else if b.is_ascii() {
            out.push(b as char);
        } else {
            out.push('\u{FFFD}');
            malformed = true;
        }
        i += 1;
    }
    if gb_mode {
        malformed |= flush_gb(&mut gb_bytes, &mut out);
    }
    (out, malformed)
}

/// Decodes a collected GB run; returns true when it was malformed.
fn flush_gb(gb: &mut Vec<u8>, out: &mut String) -> bool {
    let mut malformed = false;
    let mut high = Vec::with_capacity(gb.len());
    for pair in gb.chunks(2) {
        match pair {
            [a, b] if (0x21..=0x7e).contains(a) && (0x21..=0x7e).contains(b) => {
                high.push(a | 0x80);
                high.push(b | 0x80);
            }
            _ => {
                decode_gb(&high, out);
                high.clear();
                out.push('\u{FFFD}');
                malformed = true;
            }
        }
    }
    malformed |= decode_gb(&high, out);
    gb.clear();
    malformed
}

fn decode_gb(high: &[u8], out: &mut String) -> bool {
    let (text, _, had_errors) = encoding_rs::GBK.decode(high);
    out.push_str(&text);
    had_errors
}

#[cfg(test)]
mod tests {
    use super::decode_hz;

    fn hz(s: &str) -> String {
        let (t, bad) = decode_hz(s.as_bytes());
        assert!(!bad, "unexpected malformed flag for {s:?}");
        t
    }

    #[test]
    fn rfc1843_examples() {
        assert_eq!(
            hz("This sentence is in ASCII."),
            "This sentence is in ASCII."
        );
        assert_eq!(
            hz("~{<:Ky2;S{#,NpJ)l6HK!#~}Bye."),
            "己所不欲，勿施於人。Bye."
        );
        assert_eq!(hz("A ~~ tilde"), "A ~ tilde");
        assert_eq!(hz("joined ~\nline"), "joined line");
    }

    #[test]
    fn roundtrip_against_gbk() {
        // Build HZ from GB2312 bytes the way RFC 1843 describes.
        let text = "新冠肺炎疫情发生以来";
        let (gb, _, _) = encoding_rs::GBK.encode(text);
        let seven: Vec<u8> = gb.iter().map(|b| b & 0x7f).collect();
        let mut src = b"~{".to_vec();
        src.extend_from_slice(&seven);
        src.extend_from_slice(b"~}");
        assert_eq!(decode_hz(&src), (text.to_string(), false));
    }

    #[test]
    fn malformed_input_is_flagged_not_panicking() {
        let (t, bad) = decode_hz(b"~{<");
        assert!(bad);
        assert!(t.contains('\u{FFFD}'));
        assert!(decode_hz(b"\xff~{\x01\x02~}").1);
        assert!(decode_hz(b"~{<:\nabc").1);
        assert_eq!(decode_hz(b"~").0, "~");
    }
}
