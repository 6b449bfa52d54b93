//! Recognising a contributor's reply to an acknowledgement (pure): it names
//! the ack's Message-ID in In-Reply-To / References, or quotes a reference
//! in its subject. Such mail belongs to the existing draft.

use mail_parser::MessageParser;

/// References (`SP-YYYYMMDD-NNNN`) a message points back to, most specific first.
pub fn referenced_drafts(headers: &[u8], subject: Option<&str>) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(message) = MessageParser::default().parse_headers(headers) {
        let ids = message.in_reply_to().as_text_list().into_iter().flatten();
        let ids = ids.chain(message.references().as_text_list().into_iter().flatten());
        for id in ids {
            // Our acknowledgements are <ack.REFERENCE@domain>.
            if let Some(reference) = id
                .strip_prefix("ack.")
                .and_then(|rest| rest.split('@').next())
            {
                push_unique(&mut found, reference);
            }
        }
    }
    if let Some(subject) = subject {
        for reference in references_in(subject) {
            push_unique(&mut found, reference);
        }
    }
    found
}

fn push_unique(found: &mut Vec<String>, reference: &str) {
    if is_reference(reference) && !found.iter().any(|r| r == reference) {
        found.push(reference.to_string());
    }
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

    #[test]
    fn finds_replies_to_acknowledgements() {
        let headers = b"In-Reply-To: <ack.SP-20261128-0007@example.org>\r\nReferences: <x@y> <ack.SP-20261128-0007@example.org>\r\n\r\n";
        assert_eq!(referenced_drafts(headers, None), ["SP-20261128-0007"]);
    }

    #[test]
    fn finds_a_reference_quoted_in_the_subject() {
        let subject = "回复：来稿已收到：诗（稿件编号 SP-20261128-0012）";
        assert_eq!(
            referenced_drafts(b"\r\n", Some(subject)),
            ["SP-20261128-0012"]
        );
        assert!(referenced_drafts(b"\r\n", Some("SP-2026-1 and SP-abc")).is_empty());
        assert!(
            referenced_drafts(b"In-Reply-To: <sub-1@example.org>\r\n\r\n", Some("poem")).is_empty()
        );
    }
}
