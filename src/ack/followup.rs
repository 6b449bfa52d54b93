//! Recognising a contributor's mail about an existing draft (pure). Two
//! kinds of claim are read here and checked by the store, which holds the
//! thread key and the drafts: a reply names one of our Message-IDs for the
//! draft, whose tag only we can make (`auth::thread_tag`), or the subject
//! quotes a reference, which counts only from the draft's own sender.
//! What the mail asks for (a status answer, a withdrawal) is read here too.

use mail_parser::MessageParser;

use crate::draft::Intent;
use crate::store::FollowUpClaim;

/// The claims a message makes on existing drafts, most specific first.
pub fn claims(headers: &[u8], subject: Option<&str>) -> Vec<FollowUpClaim> {
    let mut found = Vec::new();
    if let Some(message) = MessageParser::default().parse_headers(headers) {
        let ids = message.in_reply_to().as_text_list().into_iter().flatten();
        let ids = ids.chain(message.references().as_text_list().into_iter().flatten());
        for id in ids {
            if let Some(claim) = our_message_id(id)
                && !found.contains(&claim)
            {
                found.push(claim);
            }
        }
    }
    if let Some(subject) = subject {
        for reference in references_in(subject) {
            let claim = FollowUpClaim::Quoted(reference.to_string());
            if !found.contains(&claim) {
                found.push(claim);
            }
        }
    }
    found
}

/// Our Message-IDs are `KIND.REFERENCE[.N].TAG@domain`
/// (`ack.SP-20261204-0001.3f…@example.org`); see `ack::compose`.
fn our_message_id(id: &str) -> Option<FollowUpClaim> {
    let local = id
        .trim_matches(|c| c == '<' || c == '>')
        .split('@')
        .next()?;
    let mut parts = local.split('.');
    let kind = parts.next()?;
    if !matches!(kind, "ack" | "letter") {
        return None;
    }
    let reference = parts.next().filter(|r| is_reference(r))?;
    let tag = parts.next_back()?;
    (tag.len() == 32 && tag.bytes().all(|b| b.is_ascii_hexdigit())).then(|| {
        FollowUpClaim::Answered {
            reference: reference.to_string(),
            tag: tag.to_string(),
        }
    })
}

/// What a follow-up asks for: its subject or the first line of its text
/// says so. Anything else is a plain reply.
pub fn intent(subject: Option<&str>, body: &str) -> Intent {
    let first_line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('>'))
        .unwrap_or("");
    // Our own subjects are quoted back in replies ("Re: 來稿已收到：…"):
    // only what the contributor added counts, so the subject is read
    // without the part after our reference's subject line prefixes.
    let texts = [subject.map(strip_our_subject).unwrap_or(""), first_line];
    let says = |words: &[&str]| {
        texts.iter().any(|text| {
            let lower = text.to_lowercase();
            words.iter().any(|w| lower.contains(w))
        })
    };
    if says(&["撤稿", "撤回", "withdraw"]) {
        Intent::Withdraw
    } else if says(&["查詢", "查询", "進度", "进度", "status"]) {
        Intent::Status
    } else {
        Intent::Reply
    }
}

/// A subject with our own letters' subject lines left out: a reply to
/// "稿件進度：…" must not read as a status request by itself.
fn strip_our_subject(subject: &str) -> &str {
    for ours in [
        "來稿已收到",
        "来稿已收到",
        "Submission received",
        "稿件處理進度",
        "稿件处理进度",
        "Status of your submission",
        "撤稿確認",
        "撤稿确认",
        "Withdrawal confirmed",
    ] {
        if let Some(at) = subject.find(ours) {
            return &subject[..at];
        }
    }
    subject
}

fn is_reference(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("SP-") else {
        return false;
    };
    let Some((day, n)) = rest.split_once('-') else {
        return false;
    };
    day.len() == 8
        && day.bytes().all(|b| b.is_ascii_digit())
        && n.len() >= 4
        && n.bytes().all(|b| b.is_ascii_digit())
}

fn references_in(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("SP-").filter_map(|(start, _)| {
        let tail = &text[start..];
        let end = tail
            .char_indices()
            .skip(3)
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '-'))
            .map_or(tail.len(), |(i, _)| i);
        let candidate = tail[..end].trim_end_matches('-');
        is_reference(candidate).then_some(candidate)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_reply_names_our_message_id_with_its_tag() {
        let headers = format!(
            "In-Reply-To: <ack.SP-20261128-0007.{TAG}@example.org>\r\nReferences: <x@y> <letter.SP-20261128-0007.3.{TAG}@example.org>\r\n\r\n"
        );
        assert_eq!(
            claims(headers.as_bytes(), None),
            [FollowUpClaim::Answered {
                reference: "SP-20261128-0007".into(),
                tag: TAG.into()
            }]
        );
    }

    #[test]
    fn ids_without_a_tag_claim_nothing() {
        let headers = b"In-Reply-To: <ack.SP-20261128-0007@example.org>\r\n\r\n";
        assert!(claims(headers, None).is_empty());
        let headers = b"In-Reply-To: <sub-1@example.org>\r\n\r\n";
        assert!(claims(headers, Some("poem")).is_empty());
    }

    #[test]
    fn a_reference_in_the_subject_is_only_quoted() {
        let subject = "回复：来稿已收到：诗（稿件编号 SP-20261128-0012）";
        assert_eq!(
            claims(b"\r\n", Some(subject)),
            [FollowUpClaim::Quoted("SP-20261128-0012".into())]
        );
        assert!(claims(b"\r\n", Some("SP-2026-1 and SP-abc")).is_empty());
    }

    #[test]
    fn status_and_withdrawal_requests_are_read_from_subject_or_first_line() {
        assert_eq!(intent(Some("查詢稿件進度"), ""), Intent::Status);
        assert_eq!(intent(Some("Re: x"), "\n请问进度如何？\n"), Intent::Status);
        assert_eq!(intent(Some("Status?"), ""), Intent::Status);
        assert_eq!(intent(Some("撤稿申請"), ""), Intent::Withdraw);
        assert_eq!(
            intent(None, "I would like to withdraw it."),
            Intent::Withdraw
        );
        assert_eq!(intent(Some("Re: 修改稿"), "附上修改稿。"), Intent::Reply);
        // Our own subject quoted back asks for nothing.
        assert_eq!(
            intent(
                Some("Re: 稿件處理進度：秋（稿件編號 SP-20261128-0012）"),
                "謝謝"
            ),
            Intent::Reply
        );
        // A quoted line is not the contributor's first line.
        assert_eq!(intent(None, "> 查詢\n好的"), Intent::Reply);
    }
}
