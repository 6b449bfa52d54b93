//! IMAP UID sets: many UIDs in one command instead of one round trip each.

use std::ops::Range;

/// A message's UID and RFC822.SIZE.
pub type UidSize = (u32, u64);

/// Compresses UIDs into an IMAP sequence set such as `1:5,7,9:12`.
pub fn format(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
    }
    out
}

/// Splits messages (uid, size), in UID order, into consecutive batches
/// bounded by count and bytes; a message larger than `max_bytes` gets a
/// batch of its own. Returns index ranges into `messages`.
pub fn batches(messages: &[UidSize], max_count: usize, max_bytes: u64) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, &(_, size)) in messages.iter().enumerate() {
        if i > start && (i - start >= max_count || bytes + size > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(start..messages.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_ranges() {
        assert_eq!(format(&[9, 1, 2, 3, 5, 10, 11, 3]), "1:3,5,9:11");
        assert_eq!(format(&[42]), "42");
        assert_eq!(format(&[]), "");
    }

    #[test]
    fn batches_respect_count_and_bytes() {
        let msgs = [(1, 10), (2, 10), (3, 10), (4, 100), (5, 1)];
        assert_eq!(batches(&msgs, 2, 1000), vec![0..2, 2..4, 4..5]);
        assert_eq!(batches(&msgs, 10, 25), vec![0..2, 2..3, 3..4, 4..5]);
    }
}
