//! Content-Type / Content-Disposition parameters read from raw header bytes.
//!
//! mail-parser decodes each RFC 2231 section separately and drops the
//! charset after the first, so a GBK filename split into `filename*0*=` /
//! `filename*1*=` comes out broken; it also reads raw 8-bit values as
//! UTF-8. Here sections are joined as bytes and decoded once.

use encoding_rs::Encoding;

use super::{charset, encoded_word, transfer};

/// A parameter section as written: `name*N*=value` → (name, N, encoded?, value).
struct Section {
    name: String,
    index: Option<u32>,
    extended: bool,
    value: Vec<u8>,
}

/// Returns the decoded value of `wanted` (lower-case) and any defects.
pub fn param(
    raw: &[u8],
    wanted: &str,
    hint: Option<&'static Encoding>,
) -> Option<(String, Vec<String>)> {
    let sections: Vec<Section> = sections(raw)
        .into_iter()
        .filter(|s| s.name == wanted)
        .collect();
    // RFC 2231 form wins over the plain one when a client sends both.
    let mut extended: Vec<&Section> = sections
        .iter()
        .filter(|s| s.index.is_some() || s.extended)
        .collect();
    if !extended.is_empty() {
        extended.sort_by_key(|s| s.index.unwrap_or(0));
        return Some(decode_rfc2231(&extended, hint));
    }
    let plain = sections.first()?;
    let decoded = encoded_word::decode_parameter(&plain.value, hint);
    Some((decoded.text, decoded.defects))
}

fn decode_rfc2231(sections: &[&Section], hint: Option<&'static Encoding>) -> (String, Vec<String>) {
    let mut label: Option<String> = None;
    let mut bytes = Vec::new();
    // Encoded sections are percent-decoded as one run, which also forgives
    // clients that split a `%XX` escape across two sections.
    let mut pending: Vec<u8> = Vec::new();
    for (i, s) in sections.iter().enumerate() {
        let mut value: &[u8] = &s.value;
        if s.extended {
            if i == 0 {
                // charset'language'value; both prefixes may be empty.
                let mut parts = value.splitn(3, |&b| b == b'\'');
                if let (Some(cs), Some(_lang), Some(v)) = (parts.next(), parts.next(), parts.next())
                {
                    label = Some(String::from_utf8_lossy(cs).into_owned());
                    value = v;
                }
            }
            pending.extend_from_slice(value);
        } else {
            bytes.extend(percent_decode(&pending));
            pending.clear();
            bytes.extend_from_slice(value);
        }
    }
    bytes.extend(percent_decode(&pending));
    let label = label.filter(|l| !l.trim().is_empty());
    let decoded = charset::decode(&bytes, label.as_deref(), hint);
    (decoded.text, decoded.defect.into_iter().collect())
}

fn percent_decode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%'
            && let (Some(h), Some(l)) = (
                v.get(i + 1).and_then(|&c| transfer::hex(c)),
                v.get(i + 2).and_then(|&c| transfer::hex(c)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

fn sections(raw: &[u8]) -> Vec<Section> {
    let raw: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    let mut out = Vec::new();
    // Skip the type/subtype or disposition token.
    let mut i = match raw.iter().position(|&b| b == b';') {
        Some(p) => p + 1,
        None => return out,
    };
    while i < raw.len() {
        while i < raw.len() && (raw[i] == b';' || raw[i].is_ascii_whitespace()) {
            i += 1;
        }
        let name_start = i;
        while i < raw.len() && raw[i] != b'=' && raw[i] != b';' {
            i += 1;
        }
        if i >= raw.len() || raw[i] == b';' {
            continue;
        }
        let name = String::from_utf8_lossy(&raw[name_start..i])
            .trim()
            .to_ascii_lowercase();
        i += 1;
        while i < raw.len() && (raw[i] == b' ' || raw[i] == b'\t') {
            i += 1;
        }
        let mut value = Vec::new();
        if raw.get(i) == Some(&b'"') {
            i += 1;
            while i < raw.len() && raw[i] != b'"' {
                if raw[i] == b'\\' && i + 1 < raw.len() {
                    i += 1;
                }
                value.push(raw[i]);
                i += 1;
            }
            i += 1;
            // Junk between the closing quote and the next ';' is ignored.
            while i < raw.len() && raw[i] != b';' {
                i += 1;
            }
        } else {
            let start = i;
            while i < raw.len() && raw[i] != b';' {
                i += 1;
            }
            value.extend_from_slice(raw[start..i].trim_ascii());
        }
        out.push(split_name(&name, value));
    }
    out
}

fn split_name(name: &str, value: Vec<u8>) -> Section {
    let (name, extended) = match name.strip_suffix('*') {
        Some(n) => (n, true),
        None => (name, false),
    };
    if let Some((base, idx)) = name.rsplit_once('*')
        && let Ok(index) = idx.parse::<u32>()
    {
        return Section {
            name: base.to_string(),
            index: Some(index),
            extended,
            value,
        };
    }
    Section {
        name: name.to_string(),
        index: None,
        extended,
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::param;

    fn p(raw: &[u8], name: &str) -> Option<String> {
        param(raw, name, None).map(|(v, _)| v)
    }

    #[test]
    fn plain_and_quoted() {
        let raw = b"text/plain; charset=GB2312; format=\"flowed\"";
        assert_eq!(p(raw, "charset").as_deref(), Some("GB2312"));
        assert_eq!(p(raw, "format").as_deref(), Some("flowed"));
        assert_eq!(p(raw, "name"), None);
        assert_eq!(
            p(b"attachment; filename=\"a \\\"b\\\".txt\"", "filename").as_deref(),
            Some("a \"b\".txt")
        );
    }

    #[test]
    fn rfc2231_continuations_join_bytes_before_decoding() {
        // 稿件 in GBK = b8 e5 bc fe; split inside 件.
        let raw = b"attachment;\r\n filename*0*=gbk''%B8%E5%BC;\r\n filename*1*=%FE.doc";
        assert_eq!(p(raw, "filename").as_deref(), Some("稿件.doc"));
        let raw = b"attachment; filename*=UTF-8''%E7%A8%BF%E4%BB%B6.docx; filename=\"x.docx\"";
        assert_eq!(p(raw, "filename").as_deref(), Some("稿件.docx"));
        let raw = b"attachment; filename*0*=utf-8''%E7%A8%BF%E4%BB%; filename*1*=B6";
        assert_eq!(p(raw, "filename").as_deref(), Some("稿件"));
        let raw = b"attachment; filename*1=\"b.txt\"; filename*0=\"a\"";
        assert_eq!(p(raw, "filename").as_deref(), Some("ab.txt"));
    }

    #[test]
    fn encoded_word_and_raw_8bit_in_quoted_value() {
        let raw = b"application/msword; name=\"=?gb2312?B?uOW8/i5kb2M=?=\"";
        assert_eq!(p(raw, "name").as_deref(), Some("稿件.doc"));
        let raw = b"attachment; filename=\"\xb8\xe5\xbc\xfe.doc\"";
        let (v, defects) = param(raw, "filename", Some(encoding_rs::GB18030)).unwrap();
        assert_eq!(v, "稿件.doc");
        assert_eq!(defects.len(), 1);
    }

    #[test]
    fn garbage_does_not_panic() {
        for raw in [
            &b"x; ="[..],
            b";;;",
            b"x; a=\"",
            b"x; a*=''",
            b"x; a*99999999999*=%",
        ] {
            let _ = p(raw, "a");
        }
    }
}
