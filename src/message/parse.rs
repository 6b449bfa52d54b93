//! Entry points: raw bytes → `Parsed`, and attachment content.

use std::panic::{AssertUnwindSafe, catch_unwind};

use encoding_rs::Encoding;
use mail_parser::{Message, MessageParser, PartType};

use super::classify::{Signals, classify};
use super::{
    Attachment, Classification, ParseOptions, Parsed, Submission, attachments, body, charset,
    extract, forwarded, headers, limits, title,
};

pub fn parse(raw: &[u8], opts: &ParseOptions) -> Parsed {
    catch_unwind(AssertUnwindSafe(|| parse_unguarded(raw, opts)))
        .unwrap_or_else(|_| quarantined(empty_submission(), "parser panicked"))
}

pub fn attachment_content(raw: &[u8], index: u32) -> Option<(Attachment, Vec<u8>)> {
    catch_unwind(AssertUnwindSafe(|| {
        let opts = ParseOptions::default();
        let msg = parse_tree(raw, &opts).ok()?;
        if limits::check(&msg, &opts).is_some() {
            return None;
        }
        let hint = hint(&msg);
        let entries = attachments::entries(&msg);
        let entry = entries.get(index as usize)?;
        let (attachment, bytes) = attachments::describe(entry, index, hint, &mut Vec::new());
        Some((attachment, bytes.into_owned()))
    }))
    .ok()
    .flatten()
}

/// The mail-parser tree, or a quarantine reason (with headers-only
/// submission) for input we refuse before or during parsing.
fn parse_tree<'x>(raw: &'x [u8], opts: &ParseOptions) -> Result<Message<'x>, Box<Parsed>> {
    let refuse = |sub: Submission, reason: &str| Err(Box::new(quarantined(sub, reason)));
    if raw.iter().all(u8::is_ascii_whitespace) {
        return refuse(empty_submission(), "unparseable: empty message");
    }
    if limits::header_section_len(raw) > limits::MAX_HEADER_SECTION {
        let head = &raw[..limits::MAX_HEADER_SECTION];
        return refuse(
            headers_only(head, opts),
            "hostile: header section over 1 MiB",
        );
    }
    let ct_lines = limits::content_type_lines(raw);
    if ct_lines > limits::prescan_ceiling(opts) {
        let reason = format!("hostile: too many parts ({ct_lines} > {})", opts.max_parts);
        return refuse(headers_only(raw, opts), &reason);
    }
    match MessageParser::default().parse(raw) {
        Some(msg) if msg.parts.first().is_some_and(|p| !p.headers.is_empty()) => Ok(msg),
        _ => refuse(empty_submission(), "unparseable: no header section"),
    }
}

pub(super) fn parse_unguarded(raw: &[u8], opts: &ParseOptions) -> Parsed {
    let msg = match parse_tree(raw, opts) {
        Ok(msg) => msg,
        Err(parsed) => return *parsed,
    };
    let hint = hint(&msg);
    let mut sub = header_fields(&msg, hint, opts);
    if let Some(reason) = limits::check(&msg, opts) {
        return quarantined(sub, &reason);
    }
    let mut defects = std::mem::take(&mut sub.defects);
    sub.body_text = body::body_text(&msg, hint, &mut defects);
    sub.body_html = body::body_html(&msg, hint, &mut defects);
    let entries = attachments::entries(&msg);
    let mut document_titles = Vec::new();
    let budget = opts
        .extract
        .as_ref()
        .map(|limits| extract::MessageBudget::start(limits, opts.defer_extraction_at));
    sub.attachments = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let (mut attachment, bytes) =
                attachments::describe(entry, i as u32, hint, &mut defects);
            if let (Some(limits), Some(budget)) = (&opts.extract, &budget) {
                document_titles.extend(read_article(
                    &mut attachment,
                    &bytes,
                    limits,
                    budget,
                    &mut defects,
                    &mut sub.extraction_pending,
                ));
            }
            attachment
        })
        .collect();
    if title::says_nothing(&sub.title)
        && let Some(document_title) = document_titles.into_iter().next()
    {
        sub.title = document_title;
    }
    sub.forwarded = forwarded::forwarded(&entries, hint, &mut defects);
    credit_original_sender(&mut sub, opts);
    let mut seen = std::collections::HashSet::new();
    defects.retain(|d| seen.insert(d.clone()));
    sub.defects = defects;
    Parsed {
        submission: sub,
        quarantine: None,
    }
}

/// Fills in the article text of a document attachment, or marks it (and
/// the message) as pending; returns the document's title.
fn read_article(
    attachment: &mut Attachment,
    bytes: &[u8],
    limits: &extract::ExtractLimits,
    budget: &extract::MessageBudget,
    defects: &mut Vec<String>,
    pending: &mut bool,
) -> Option<String> {
    let found = extract::extract_within(
        &attachment.content_type,
        attachment.filename.as_deref(),
        bytes,
        limits,
        budget,
    )?;
    *pending |= found.deferred;
    if let Some(note) = found.note.as_ref().filter(|_| !found.deferred) {
        defects.push(format!("attachment {}: {note}", attachment.path));
    }
    attachment.article_text = found.text;
    attachment.extraction_note = found.note;
    found.title
}

/// A submission an editor forwarded (from one of `forwarders`) is the
/// original sender's: the draft's contributor is who wrote it first.
fn credit_original_sender(sub: &mut Submission, opts: &ParseOptions) {
    let by_editor = sub.from.as_ref().is_some_and(|f| {
        opts.forwarders
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&f.address))
    });
    let original = sub.forwarded.first().and_then(|f| f.from.clone());
    if by_editor && let Some(original) = original {
        sub.forwarded_by = sub.from.replace(original);
    }
}

/// Everything that comes from the top-level header section, classification
/// included (it needs the part types, which the tree already has).
fn header_fields(
    msg: &Message<'_>,
    hint: Option<&'static Encoding>,
    opts: &ParseOptions,
) -> Submission {
    let mut defects = Vec::new();
    let subject = headers::subject(msg, hint, &mut defects);
    let from = headers::first_address(msg, "From", hint, &mut defects);
    let reply_to = headers::first_address(msg, "Reply-To", hint, &mut defects);
    let to = headers::addresses(msg, "To", hint, &mut defects);
    let signals = Signals {
        from: from.as_ref(),
        null_return_path: headers::return_path_is_null(msg),
        headers: headers::root_headers(msg, hint),
        subject: subject.as_deref().unwrap_or(""),
        content_types: msg.parts.iter().map(headers::content_type).collect(),
    };
    let classification = classify(&signals, &opts.own_addresses);
    Submission {
        message_id: headers::message_id(msg),
        title: title::strip_title_prefixes(subject.as_deref().unwrap_or("")),
        date: headers::date(msg),
        from,
        reply_to,
        to,
        subject,
        classification,
        defects,
        ..empty_submission()
    }
}

/// Best guess at the message's legacy charset, for unlabelled 8-bit bytes.
fn hint(msg: &Message<'_>) -> Option<&'static Encoding> {
    let mut declared = Vec::new();
    let mut stack = vec![msg];
    while let Some(m) = stack.pop() {
        for part in &m.parts {
            match &part.body {
                PartType::Message(inner) => stack.push(inner),
                PartType::Text(_) | PartType::Html(_) => {
                    declared.extend(body::charset_label(m, part))
                }
                _ => {}
            }
        }
    }
    charset::message_hint(&declared, &msg.raw_message)
}

fn headers_only(raw: &[u8], opts: &ParseOptions) -> Submission {
    match MessageParser::default().parse_headers(raw) {
        Some(msg) if !msg.parts.is_empty() => header_fields(&msg, hint(&msg), opts),
        _ => empty_submission(),
    }
}

fn quarantined(submission: Submission, reason: &str) -> Parsed {
    Parsed {
        submission,
        quarantine: Some(reason.to_string()),
    }
}

fn empty_submission() -> Submission {
    Submission {
        message_id: None,
        from: None,
        reply_to: None,
        to: Vec::new(),
        date: None,
        subject: None,
        title: String::new(),
        body_text: String::new(),
        body_html: None,
        attachments: Vec::new(),
        forwarded: Vec::new(),
        forwarded_by: None,
        classification: Classification::Normal,
        defects: Vec::new(),
        extraction_pending: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_messages(levels: usize) -> Vec<u8> {
        let mut raw = b"From: a@example.org\nSubject: deep\n".to_vec();
        for _ in 0..levels {
            raw.extend_from_slice(b"Content-Type: message/rfc822\n\nFrom: b@example.org\n");
        }
        raw.extend_from_slice(b"\nbottom\n");
        raw
    }

    #[test]
    fn deep_message_nesting_is_refused_without_overflowing() {
        let opts = ParseOptions::default();
        let p = parse(&nested_messages(200), &opts);
        assert_eq!(p.quarantine.as_deref(), Some("hostile: nesting too deep"));
        assert_eq!(p.submission.subject.as_deref(), Some("deep"));
        let p = parse(&nested_messages(50_000), &opts);
        assert_eq!(
            p.quarantine.as_deref(),
            Some("hostile: too many parts (50000 > 256)")
        );
        assert_eq!(attachment_content(&nested_messages(200), 0), None);
    }

    #[test]
    fn header_section_limit() {
        let mut raw = b"Subject: big\n".to_vec();
        while raw.len() <= limits::MAX_HEADER_SECTION {
            raw.extend_from_slice(
                b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
            );
        }
        raw.extend_from_slice(b"\nbody\n");
        let p = parse(&raw, &ParseOptions::default());
        assert_eq!(
            p.quarantine.as_deref(),
            Some("hostile: header section over 1 MiB")
        );
        assert_eq!(p.submission.subject.as_deref(), Some("big"));
    }
}
