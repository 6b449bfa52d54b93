//! Bounds that turn pathological input into a quarantine reason.

use mail_parser::{Message, PartType};

use super::ParseOptions;

pub const MAX_HEADER_SECTION: usize = 1024 * 1024;

/// Length of the top-level header section (up to the first empty line).
pub fn header_section_len(raw: &[u8]) -> usize {
    let mut line_start = 0;
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' {
            let line = &raw[line_start..i];
            if line.is_empty() || line == b"\r" {
                return line_start;
            }
            line_start = i + 1;
        }
    }
    raw.len()
}

/// Counts lines starting with `Content-Type:` before handing the bytes to
/// mail-parser: its tree is dropped recursively, so a message built to nest
/// tens of thousands of parts must be refused before it is built.
pub fn content_type_lines(raw: &[u8]) -> usize {
    const NEEDLE: &[u8] = b"content-type:";
    let starts_line = |line: &[u8]| {
        line.get(..NEEDLE.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(NEEDLE))
    };
    // Most lines are base64 of attachments: memchr finds their ends fast, and
    // one byte rules nearly all of them out.
    let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', raw).map(|i| i + 1));
    line_starts
        .filter(|&start| {
            raw.get(start)
                .is_some_and(|b| b.eq_ignore_ascii_case(&b'c'))
        })
        .filter(|&start| starts_line(&raw[start..]))
        .count()
}

/// A generous pre-parse ceiling; the exact check happens on the tree.
pub fn prescan_ceiling(opts: &ParseOptions) -> usize {
    opts.max_parts.saturating_mul(4).saturating_add(64)
}

/// Walks the parsed tree; returns a quarantine reason when a bound is
/// exceeded.
pub fn check(msg: &Message<'_>, opts: &ParseOptions) -> Option<String> {
    let mut parts = 0usize;
    let mut stack: Vec<(&Message<'_>, u32, usize)> = vec![(msg, 0, 0)];
    while let Some((m, id, depth)) = stack.pop() {
        if depth > opts.max_depth {
            return Some("hostile: nesting too deep".to_string());
        }
        let Some(part) = m.parts.get(id as usize) else {
            continue;
        };
        parts += 1;
        match &part.body {
            PartType::Multipart(children) => {
                // Children always follow their parent; anything else would
                // be a cycle.
                for &child in children.iter().rev().filter(|&&c| c > id) {
                    stack.push((m, child, depth + 1));
                }
            }
            PartType::Message(inner) => stack.push((inner, 0, depth + 1)),
            _ => {}
        }
    }
    (parts > opts.max_parts)
        .then(|| format!("hostile: too many parts ({parts} > {})", opts.max_parts))
}

#[cfg(test)]
mod tests {
    use super::content_type_lines;

    #[test]
    fn content_type_lines_are_counted_in_any_case_at_line_starts_only() {
        let raw = b"Content-Type: multipart/mixed\r\n\r\n--b\r\ncONTENT-tYPE: text/plain\n\
            X-Content-Type: no\r\n not Content-Type: no\r\nContent-Type:x\r\ncontent-type";
        assert_eq!(content_type_lines(raw), 3);
        assert_eq!(content_type_lines(b""), 0);
        assert_eq!(content_type_lines(b"\n\n"), 0);
    }
}
