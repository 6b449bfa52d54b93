//! Parts cut off before their closing MIME boundary (a truncated mailbox
//! file, an interrupted upload). mail-parser then runs the last part to the
//! end of the message, enclosing boundary lines included; we keep what is
//! there, end it before the first such line and say it may be incomplete.

use mail_parser::{Message, MimeHeaders, PartType};
use memchr::memmem;

/// The boundary of multipart part `id` of `m`.
pub fn boundary(m: &Message<'_>, id: u32) -> Option<String> {
    let part = m.parts.get(id as usize)?;
    let b = part.content_type()?.attribute("boundary")?.trim();
    (!b.is_empty()).then(|| b.to_string())
}

/// The multiparts holding part `id`, innermost first.
pub fn containers(m: &Message<'_>, id: u32) -> Vec<u32> {
    let mut chain = Vec::new();
    let mut child = id;
    // Children always follow their parent (limits::check relies on it too),
    // so each step goes to a lower id and the walk ends.
    while let Some(parent) =
        m.parts.iter().take(child as usize).position(
            |p| matches!(&p.body, PartType::Multipart(children) if children.contains(&child)),
        )
    {
        chain.push(parent as u32);
        child = parent as u32;
    }
    chain
}

/// For part `id` of `m`, when its multipart never closes: how many bytes of
/// its raw body are really its own. `outer` are the boundaries of the
/// messages enclosing `m` (for a forwarded message). None for a complete part.
pub fn cut(m: &Message<'_>, id: u32, outer: &[String]) -> Option<usize> {
    let part = m.parts.get(id as usize)?;
    let chain = containers(m, id);
    let parent = *chain.first()?;
    let PartType::Multipart(siblings) = &m.parts.get(parent as usize)?.body else {
        return None;
    };
    // A part before the last one ended at its sibling's boundary.
    if siblings.last() != Some(&id) {
        return None;
    }
    let close = format!("--{}--", boundary(m, parent)?);
    let rest = m
        .raw_message
        .get(part.offset_end as usize..)
        .unwrap_or_default();
    if memmem::find(rest, close.as_bytes()).is_some() {
        return None;
    }
    let body = m
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)
        .unwrap_or_default();
    let mut boundaries: Vec<String> = outer.to_vec();
    boundaries.extend(chain.iter().filter_map(|&c| boundary(m, c)));
    Some(first_delimiter(body, &boundaries).unwrap_or(body.len()))
}

/// Where the first line opening with `--BOUNDARY` (one of `boundaries`)
/// starts, with the line break before it, which belongs to the delimiter.
fn first_delimiter(body: &[u8], boundaries: &[String]) -> Option<usize> {
    let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', body).map(|i| i + 1));
    for start in starts {
        let Some(line) = body.get(start..).and_then(|l| l.strip_prefix(b"--")) else {
            continue;
        };
        let is_delimiter = boundaries.iter().any(|b| {
            line.strip_prefix(b.as_bytes()).is_some_and(|after| {
                after.is_empty() || after.starts_with(b"--") || after[0].is_ascii_whitespace()
            })
        });
        if is_delimiter {
            let mut end = start;
            if end > 0 && body[end - 1] == b'\n' {
                end -= 1;
            }
            if end > 0 && body[end - 1] == b'\r' {
                end -= 1;
            }
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;

    #[test]
    fn a_part_whose_multipart_never_closes_ends_before_enclosing_boundaries() {
        let raw = b"Content-Type: multipart/mixed; boundary=out\n\n--out\n\
            Content-Type: text/plain\n\ncover\n--out\n\
            Content-Type: multipart/mixed; boundary=in\n\n--in\n\
            Content-Type: text/plain\n\nhello inner\n--out--\n";
        let m = MessageParser::default().parse(&raw[..]).unwrap();
        let leaf = m.parts.len() as u32 - 1;
        assert_eq!(containers(&m, leaf), vec![2, 0]);
        let part = &m.parts[leaf as usize];
        let body = &m.raw_message[part.offset_body as usize..part.offset_end as usize];
        let end = cut(&m, leaf, &[]).expect("incomplete");
        assert_eq!(&body[..end], b"hello inner");
        // The cover note ended at its sibling's boundary.
        assert_eq!(cut(&m, 1, &[]), None);
    }

    #[test]
    fn a_closed_multipart_is_complete_and_look_alike_lines_are_content() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Type: text/plain\r\n\r\n--b1 is not a delimiter\r\n--b--\r\n";
        let m = MessageParser::default().parse(&raw[..]).unwrap();
        assert_eq!(cut(&m, 1, &[]), None);
        assert_eq!(first_delimiter(b"x\n--b1\n--b \n", &["b".into()]), Some(6));
        assert_eq!(first_delimiter(b"--b1", &["b".into()]), None);
    }

    #[test]
    fn a_part_cut_off_mid_message_keeps_all_it_has() {
        let raw = b"Content-Type: multipart/mixed; boundary=out\n\n--out\n\
            Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29y\n";
        let m = MessageParser::default().parse(&raw[..]).unwrap();
        let part = &m.parts[1];
        let len = (part.offset_end - part.offset_body) as usize;
        assert_eq!(cut(&m, 1, &[]), Some(len));
    }
}
