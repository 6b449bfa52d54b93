//! Is this a contributor writing to us, or machinery?

use super::{Address, Classification};

/// What classification looks at, gathered from the parsed message.
#[derive(Debug, Default)]
pub struct Signals<'a> {
    pub from: Option<&'a Address>,
    /// `Return-Path: <>`, the envelope null sender.
    pub null_return_path: bool,
    /// Top-level header names (any case) and their decoded values.
    pub headers: Vec<(String, String)>,
    pub subject: &'a str,
    /// Lower-case `type/subtype` of every part, the root first.
    pub content_types: Vec<String>,
}

impl Signals<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn has(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

pub fn classify(s: &Signals<'_>, own_addresses: &[String]) -> Classification {
    let from = s.from.map(|a| a.address.as_str());
    if let Some(addr) = from
        && !addr.is_empty()
        && own_addresses
            .iter()
            .any(|own| own.trim().eq_ignore_ascii_case(addr))
    {
        return Classification::OwnAddress;
    }
    if is_bounce(s, from) {
        return Classification::Bounce;
    }
    if is_auto_reply(s) {
        return Classification::AutoReply;
    }
    // Vacation responders also send from the null sender (RFC 3834), so a
    // bare `Return-Path: <>` only means bounce once auto-replies are ruled out.
    if s.null_return_path {
        return Classification::Bounce;
    }
    if s.has("List-Id") || s.has("List-Unsubscribe") {
        return Classification::List;
    }
    if let Some(p) = s.header("Precedence")
        && ["bulk", "list", "junk"]
            .iter()
            .any(|v| p.eq_ignore_ascii_case(v))
    {
        return Classification::List;
    }
    Classification::Normal
}

fn is_bounce(s: &Signals<'_>, from: Option<&str>) -> bool {
    let machine_sender = match from {
        // A From header that parsed to no address at all is the null sender.
        Some(addr) => {
            let local = addr.split('@').next().unwrap_or("");
            addr.is_empty()
                || local.eq_ignore_ascii_case("mailer-daemon")
                || local.eq_ignore_ascii_case("postmaster")
        }
        None => false,
    };
    machine_sender
        || s.content_types
            .first()
            .is_some_and(|ct| ct == "multipart/report")
        || s.content_types
            .iter()
            .any(|ct| ct == "message/delivery-status" || ct == "message/global-delivery-status")
}

/// Outlook adds X-Auto-Response-Suppress to ordinary mail, so that header
/// is deliberately not a signal.
fn is_auto_reply(s: &Signals<'_>) -> bool {
    if let Some(v) = s.header("Auto-Submitted")
        && !v
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("no")
    {
        return true;
    }
    if s.has("X-Autoreply") || s.has("X-Autorespond") {
        return true;
    }
    if s.header("Precedence")
        .is_some_and(|p| p.eq_ignore_ascii_case("auto_reply"))
    {
        return true;
    }
    let subject = s
        .subject
        .trim_start()
        .trim_start_matches(['【', '[', '［'])
        .trim_start();
    let lower = subject.to_lowercase();
    [
        "auto:",
        "automatic reply",
        "auto reply",
        "autoreply",
        "auto-reply",
        "out of office",
        "自动回复",
        "自動回覆",
        "自动答复",
        "自動回復",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(a: &str) -> Address {
        Address {
            name: None,
            address: a.to_string(),
        }
    }

    fn with_headers(h: &[(&str, &str)]) -> Signals<'static> {
        Signals {
            headers: h
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn normal_mail_with_outlook_suppress_header() {
        let s = with_headers(&[("X-Auto-Response-Suppress", "All")]);
        assert_eq!(classify(&s, &[]), Classification::Normal);
    }

    #[test]
    fn auto_reply_signals() {
        for h in [
            ("Auto-Submitted", "auto-replied"),
            ("X-Autoreply", "yes"),
            ("X-Autorespond", "1"),
            ("Precedence", "auto_reply"),
        ] {
            assert_eq!(
                classify(&with_headers(&[h]), &[]),
                Classification::AutoReply,
                "{h:?}"
            );
        }
        assert_eq!(
            classify(&with_headers(&[("Auto-Submitted", "no")]), &[]),
            Classification::Normal
        );
        let s = Signals {
            subject: "自动回复：您的来信已收到",
            ..Default::default()
        };
        assert_eq!(classify(&s, &[]), Classification::AutoReply);
        let s = Signals {
            subject: "Auto: Out of office",
            ..Default::default()
        };
        assert_eq!(classify(&s, &[]), Classification::AutoReply);
    }

    #[test]
    fn bounces() {
        let a = addr("mailer-daemon@example.com");
        let s = Signals {
            from: Some(&a),
            ..Default::default()
        };
        assert_eq!(classify(&s, &[]), Classification::Bounce);
        let s = Signals {
            content_types: vec!["multipart/report".into()],
            ..Default::default()
        };
        assert_eq!(classify(&s, &[]), Classification::Bounce);
        let s = Signals {
            null_return_path: true,
            ..Default::default()
        };
        assert_eq!(classify(&s, &[]), Classification::Bounce);
        let mut s = with_headers(&[("Auto-Submitted", "auto-replied")]);
        s.null_return_path = true;
        assert_eq!(classify(&s, &[]), Classification::AutoReply);
    }

    #[test]
    fn lists_and_precedence_order() {
        assert_eq!(
            classify(&with_headers(&[("List-Id", "<x.example.org>")]), &[]),
            Classification::List
        );
        assert_eq!(
            classify(&with_headers(&[("Precedence", "bulk")]), &[]),
            Classification::List
        );
        let a = addr("submissions@example.org");
        let mut s = with_headers(&[("List-Id", "<x>"), ("Auto-Submitted", "auto-generated")]);
        s.from = Some(&a);
        assert_eq!(
            classify(&s, &["submissions@example.org".into()]),
            Classification::OwnAddress
        );
        s.from = None;
        assert_eq!(classify(&s, &[]), Classification::AutoReply);
    }
}
