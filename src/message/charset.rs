//! Charset labels → text, with the supersets Chinese mail needs and a
//! detection fallback for mislabelled or unlabelled 8-bit bytes.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{BIG5, Encoding, GB18030, UTF_8};

use super::hz::decode_hz;

/// What a charset label resolves to.
#[derive(Debug, Clone, Copy)]
pub enum Charset {
    Encoding(&'static Encoding),
    Hz,
    /// Labels encoding_rs lacks but mail-parser knows (UTF-7, …).
    MailParser(fn(&[u8]) -> String),
    /// `us-ascii`: any 8-bit byte means the label is wrong.
    Ascii,
}

pub fn lookup(label: &str) -> Option<Charset> {
    let label = label.trim().trim_matches('"').trim().to_ascii_lowercase();
    let enc = match label.as_str() {
        // Senders label GBK and GB18030 bytes as gb2312; GB18030 decodes all
        // three and is what encoding_rs's GBK decoder is anyway.
        "gb2312" | "gb_2312" | "gb_2312-80" | "gb-2312" | "csgb2312" | "euc-cn" | "x-euc-cn"
        | "gbk" | "x-gbk" | "cp936" | "ms936" | "windows-936" | "gb18030" | "chinese"
        | "csiso58gb231280" | "iso-ir-58" => GB18030,
        // WHATWG Big5 already includes the HKSCS extensions.
        "big5" | "big-5" | "big5-hkscs" | "big5hkscs" | "x-big5" | "cn-big5" | "csbig5"
        | "cp950" | "x-x-big5" => BIG5,
        "hz-gb-2312" | "hz" | "hz-gb2312" => return Some(Charset::Hz),
        "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "csascii" => {
            return Some(Charset::Ascii);
        }
        "unknown-8bit" | "x-unknown" | "unknown" | "" => return None,
        other => match Encoding::for_label(other.as_bytes()) {
            // The replacement encoding (iso-2022-cn, …) would turn the whole
            // text into one U+FFFD; detection does better.
            Some(enc) if enc != encoding_rs::REPLACEMENT => enc,
            _ => {
                return mail_parser::decoders::charsets::map::charset_decoder(other.as_bytes())
                    .map(Charset::MailParser);
            }
        },
    };
    Some(Charset::Encoding(enc))
}

/// A decoded string and, when the bytes did not match their label, a short
/// description for `Submission::defects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub defect: Option<String>,
}

/// Decodes `bytes` labelled `label`. `hint` is the message's most likely
/// legacy charset, used before per-string detection because chardetng is
/// unreliable on a few bytes of header.
pub fn decode(bytes: &[u8], label: Option<&str>, hint: Option<&'static Encoding>) -> Decoded {
    let charset = label.and_then(lookup);
    let clean = |text: String| Decoded { text, defect: None };
    match charset {
        Some(Charset::Hz) => {
            let (text, malformed) = decode_hz(bytes);
            if !malformed {
                return clean(text);
            }
            detect_with_defect(bytes, hint, "malformed hz-gb-2312")
        }
        Some(Charset::MailParser(f)) if bytes.is_ascii() || !label_is_7bit(label) => {
            let text = f(bytes);
            if text.contains('\u{FFFD}') {
                return detect_with_defect(bytes, hint, label.unwrap_or(""));
            }
            clean(text)
        }
        Some(Charset::Encoding(enc)) => decode_labelled(bytes, enc, hint),
        _ if bytes.is_ascii() => clean(ascii(bytes)),
        Some(_) => {
            let label = label.unwrap_or("").trim().to_ascii_lowercase();
            detect_with_defect(bytes, hint, &format!("8-bit bytes labelled {label}"))
        }
        None => match label {
            Some(l) if !l.trim().is_empty() => {
                detect_with_defect(bytes, hint, &format!("unknown charset {}", l.trim()))
            }
            _ => detect_with_defect(bytes, hint, "unlabelled 8-bit"),
        },
    }
}

fn label_is_7bit(label: Option<&str>) -> bool {
    label.is_some_and(|l| l.trim().eq_ignore_ascii_case("utf-7"))
}

fn decode_labelled(
    bytes: &[u8],
    enc: &'static Encoding,
    hint: Option<&'static Encoding>,
) -> Decoded {
    if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes) {
        let text = text.into_owned();
        if enc != UTF_8 && is_convincing_utf8(bytes) {
            // Clients that default to UTF-8 still stamp a legacy label on
            // the part; legacy text is practically never valid UTF-8 at length.
            return Decoded {
                text: ascii_or_utf8(bytes),
                defect: Some(format!(
                    "charset {} mislabelled, decoded as utf-8",
                    enc.name()
                )),
            };
        }
        return Decoded { text, defect: None };
    }
    detect_with_defect(
        bytes,
        hint,
        &format!("bytes invalid for {}", enc.name().to_ascii_lowercase()),
    )
}

/// Valid UTF-8 with enough multi-byte sequences that a legacy reading is
/// implausible.
fn is_convincing_utf8(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.chars().filter(|c| !c.is_ascii()).count() >= 4,
        Err(_) => false,
    }
}

fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn ascii_or_utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn detect_with_defect(bytes: &[u8], hint: Option<&'static Encoding>, why: &str) -> Decoded {
    let (enc, text) = detect(bytes, hint);
    Decoded {
        text,
        defect: Some(format!(
            "{why}; decoded as {}",
            enc.name().to_ascii_lowercase()
        )),
    }
}

/// Best-effort decoding of bytes whose label is missing or wrong.
pub fn detect(bytes: &[u8], hint: Option<&'static Encoding>) -> (&'static Encoding, String) {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (UTF_8, s.to_string());
    }
    if let Some(enc) = hint
        && let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes)
    {
        return (enc, text.into_owned());
    }
    let enc = guess(bytes);
    let (text, _) = enc.decode_without_bom_handling(bytes);
    (enc, text.into_owned())
}

/// chardetng's guess for the bytes, with GB18030 standing in for its GBK
/// answer (same decoder, but the name matches what we report elsewhere).
pub fn guess(bytes: &[u8]) -> &'static Encoding {
    let mut det = EncodingDetector::new(Iso2022JpDetection::Deny);
    det.feed(bytes, true);
    let enc = det.guess(None, Utf8Detection::Allow);
    if enc == encoding_rs::GBK {
        GB18030
    } else {
        enc
    }
}

/// The message-wide hint: a CJK charset some part declares, else what the
/// 8-bit bytes of the whole raw message look like.
pub fn message_hint(declared: &[String], raw: &[u8]) -> Option<&'static Encoding> {
    for label in declared {
        if let Some(Charset::Encoding(enc)) = lookup(label)
            && enc != UTF_8
            && !enc.is_single_byte()
        {
            return Some(enc);
        }
    }
    const SAMPLE: usize = 256 * 1024;
    let sample = &raw[..raw.len().min(SAMPLE)];
    if sample.is_ascii() || std::str::from_utf8(sample).is_ok() {
        return None;
    }
    Some(guess(sample))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb2312_label_accepts_gbk_and_gb18030_chars() {
        let (gbk, _, _) = GB18030.encode("朱镕基 祎 𠀀");
        let d = decode(&gbk, Some("GB2312"), None);
        assert_eq!(d.text, "朱镕基 祎 𠀀");
        assert_eq!(d.defect, None);
    }

    #[test]
    fn big5_label_accepts_hkscs() {
        let (b, _, _) = BIG5.encode("香港 嘅");
        assert_eq!(decode(&b, Some("big5"), None).text, "香港 嘅");
    }

    #[test]
    fn invalid_bytes_fall_back_to_detection() {
        let (gbk, _, _) = GB18030.encode("新冠肺炎疫情发生以来，教育部教师司党支部认真学习");
        let d = decode(&gbk, Some("utf-8"), None);
        assert_eq!(d.text, "新冠肺炎疫情发生以来，教育部教师司党支部认真学习");
        assert!(d.defect.is_some());
        let d = decode(&gbk, None, Some(GB18030));
        assert_eq!(d.text, "新冠肺炎疫情发生以来，教育部教师司党支部认真学习");
        assert_eq!(
            d.defect.as_deref(),
            Some("unlabelled 8-bit; decoded as gb18030")
        );
    }

    #[test]
    fn mislabelled_utf8_is_recognised() {
        let d = decode("教育部教师司".as_bytes(), Some("gb2312"), None);
        assert_eq!(d.text, "教育部教师司");
        assert!(d.defect.is_some());
    }

    #[test]
    fn hz_label() {
        assert_eq!(
            decode(b"~{<:Ky2;S{~}", Some("HZ-GB-2312"), None).text,
            "己所不欲"
        );
    }
}
