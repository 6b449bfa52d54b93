//! Splits an mbox archive into messages as it reads, so memory holds one
//! message (only its headers when it is over the size limit) however big
//! the file. RFC 4155: a message starts with a `From ` line and ends with an
//! empty line; `>From ` lines are unescaped as in mboxrd, the variant
//! Thunderbird, mutt and Gmail's export write.

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::ingest::FetchedBody;
use crate::message::header_section;

/// One message of the archive.
#[derive(Debug)]
pub struct MboxMessage {
    /// The separator line, without its line end: it names the message in
    /// the resume fingerprint.
    pub from_line: Vec<u8>,
    /// The delivery time the `From ` line carries, when it has one.
    pub delivered: Option<DateTime<FixedOffset>>,
    pub body: FetchedBody,
}

#[derive(Debug, thiserror::Error)]
pub enum MboxError {
    #[error("not an mbox file: it does not start with a `From ` line")]
    NotMbox,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub struct MboxReader<R> {
    reader: R,
    /// The `From ` line that starts the next message, once read.
    next_from: Option<Vec<u8>>,
    started: bool,
    line: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> MboxReader<R> {
    pub fn new(reader: R) -> Self {
        MboxReader {
            reader,
            next_from: None,
            started: false,
            line: Vec::new(),
        }
    }

    /// The next message, or None at the end of the archive. A message over
    /// `max_bytes` comes back as headers and size only.
    pub async fn next(&mut self, max_bytes: u64) -> Result<Option<MboxMessage>, MboxError> {
        if !self.started {
            self.started = true;
            self.line.clear();
            if self.reader.read_until(b'\n', &mut self.line).await? == 0 {
                return Ok(None);
            }
            if !self.line.starts_with(b"From ") {
                return Err(MboxError::NotMbox);
            }
            self.next_from = Some(trim_line_end(&self.line).to_vec());
        }
        let Some(from_line) = self.next_from.take() else {
            return Ok(None);
        };
        let mut message = Vec::new();
        let mut size = 0u64;
        let mut over = false;
        let mut previous_blank = false;
        loop {
            self.line.clear();
            if self.reader.read_until(b'\n', &mut self.line).await? == 0 {
                break;
            }
            if is_separator(&self.line, previous_blank) {
                self.next_from = Some(trim_line_end(&self.line).to_vec());
                break;
            }
            previous_blank = trim_line_end(&self.line).is_empty();
            let line = unescape(&self.line);
            size += line.len() as u64;
            if !over {
                message.extend_from_slice(line);
                if size > max_bytes {
                    over = true;
                    let headers = header_section(&message).len();
                    message.truncate(headers);
                    message.shrink_to_fit();
                }
            }
        }
        // The empty line before the next `From ` belongs to the mbox format.
        let separator = if message.ends_with(b"\r\n\r\n") {
            2
        } else if message.ends_with(b"\n\n") {
            1
        } else {
            0
        };
        let body = if over {
            FetchedBody::TooBig {
                headers: message,
                size: size - separator as u64,
            }
        } else {
            message.truncate(message.len() - separator);
            FetchedBody::Full(message)
        };
        Ok(Some(MboxMessage {
            delivered: delivery_time(&from_line),
            from_line,
            body,
        }))
    }
}

/// Every message of an archive held in memory, for the fuzz target and its
/// replay: a byte slice never makes the reader wait, so one poll finishes
/// each message without a runtime. Returns how many there were.
#[doc(hidden)]
pub fn split_in_memory(archive: &[u8], max_bytes: u64) -> usize {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let mut reader = MboxReader::new(archive);
    let mut count = 0;
    loop {
        let next = std::pin::pin!(reader.next(max_bytes));
        match next.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(Some(_))) => count += 1,
            Poll::Ready(Ok(None) | Err(_)) => return count,
            Poll::Pending => unreachable!("a byte slice is always ready"),
        }
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A `From ` line after an empty line starts a message (RFC 4155); one
/// without the empty line only when it carries a real delivery date, as
/// some writers omit the blank line.
fn is_separator(line: &[u8], previous_blank: bool) -> bool {
    line.starts_with(b"From ") && (previous_blank || delivery_time(trim_line_end(line)).is_some())
}

/// mboxrd: `>From `, `>>From `… lost one `>` when written.
fn unescape(line: &[u8]) -> &[u8] {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes > 0 && line[quotes..].starts_with(b"From ") {
        &line[1..]
    } else {
        line
    }
}

/// `From sender Tue Nov 26 10:00:00 2024` (asctime, UTC) or with a zone
/// before the year, as Gmail writes: `… 10:00:00 +0000 2024`.
fn delivery_time(from_line: &[u8]) -> Option<DateTime<FixedOffset>> {
    let text = std::str::from_utf8(from_line).ok()?;
    let rest = text.strip_prefix("From ")?.trim_start();
    let (_sender, date) = rest.split_once(' ')?;
    let date = date.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Ok(naive) = NaiveDateTime::parse_from_str(&date, "%a %b %d %H:%M:%S %Y") {
        return Some(naive.and_utc().fixed_offset());
    }
    let (head, year) = date.rsplit_once(' ')?;
    let (time, zone) = head.rsplit_once(' ')?;
    DateTime::parse_from_str(&format!("{time} {year} {zone}"), "%a %b %d %H:%M:%S %Y %z").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn split(archive: &[u8], max: u64) -> Vec<MboxMessage> {
        let mut reader = MboxReader::new(archive);
        let mut all = Vec::new();
        while let Some(message) = reader.next(max).await.unwrap() {
            all.push(message);
        }
        all
    }

    fn full(message: &MboxMessage) -> &[u8] {
        match &message.body {
            FetchedBody::Full(bytes) => bytes,
            FetchedBody::TooBig { .. } => panic!("expected the whole message"),
        }
    }

    #[tokio::test]
    async fn splits_on_from_lines_unescapes_and_drops_the_separator_line() {
        let archive = b"From alice@example.org Tue Nov 26 10:00:00 2024\n\
Subject: one\n\n>From the archive\n>>From twice\n\n\
From bob@example.org Wed Nov 27 11:30:00 +0800 2024\n\
Subject: two\n\nHello\nFrom is only a word here\n";
        let all = split(archive, 1 << 20).await;
        assert_eq!(all.len(), 2);
        assert_eq!(
            full(&all[0]),
            b"Subject: one\n\nFrom the archive\n>From twice\n"
        );
        assert_eq!(
            full(&all[1]),
            b"Subject: two\n\nHello\nFrom is only a word here\n"
        );
        assert_eq!(
            all[0].delivered.unwrap().to_rfc3339(),
            "2024-11-26T10:00:00+00:00"
        );
        assert_eq!(
            all[1].delivered.unwrap().to_rfc3339(),
            "2024-11-27T11:30:00+08:00"
        );
        assert_eq!(
            all[1].from_line,
            b"From bob@example.org Wed Nov 27 11:30:00 +0800 2024"
        );
    }

    #[tokio::test]
    async fn crlf_archives_keep_their_line_ends() {
        let archive =
            b"From a@example.org Tue Nov 26 10:00:00 2024\r\nSubject: x\r\n\r\nbody\r\n\r\n\
From b@example.org Tue Nov 26 10:00:01 2024\r\nSubject: y\r\n\r\nbody\r\n";
        let all = split(archive, 1 << 20).await;
        assert_eq!(full(&all[0]), b"Subject: x\r\n\r\nbody\r\n");
        assert_eq!(full(&all[1]), b"Subject: y\r\n\r\nbody\r\n");
    }

    #[tokio::test]
    async fn a_from_line_without_blank_line_starts_a_message_only_with_a_date() {
        let archive = b"From a@example.org Tue Nov 26 10:00:00 2024\nSubject: x\n\nbody\n\
From here on, words\n\
From b@example.org Tue Nov 26 10:00:01 2024\nSubject: y\n\nbody\n";
        let all = split(archive, 1 << 20).await;
        assert_eq!(all.len(), 2);
        assert_eq!(full(&all[0]), b"Subject: x\n\nbody\nFrom here on, words\n");
    }

    #[tokio::test]
    async fn an_oversized_message_keeps_its_headers_and_true_size() {
        let body = "x".repeat(100);
        let archive = format!(
            "From a@example.org Tue Nov 26 10:00:00 2024\nSubject: big\n\n{body}\n\n\
From b@example.org Tue Nov 26 10:00:01 2024\nSubject: small\n\nok\n"
        );
        let all = split(archive.as_bytes(), 50).await;
        match &all[0].body {
            FetchedBody::TooBig { headers, size } => {
                assert_eq!(headers, b"Subject: big\n\n");
                assert_eq!(*size, 14 + 101);
            }
            FetchedBody::Full(_) => panic!("expected headers only"),
        }
        assert_eq!(full(&all[1]), b"Subject: small\n\nok\n");
    }

    #[tokio::test]
    async fn a_file_that_is_not_an_mbox_is_refused_and_an_empty_one_is_empty() {
        let mut reader = MboxReader::new(&b"Subject: not mbox\n\nx\n"[..]);
        assert!(matches!(reader.next(100).await, Err(MboxError::NotMbox)));
        assert!(split(b"", 100).await.is_empty());
    }
}
