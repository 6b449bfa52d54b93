//! The verdict on the sender (pure): DMARC, DKIM and SPF from the
//! Authentication-Results header the receiving provider's server added, or
//! as computed by `sender_auth`; and the hop SPF is checked for.

use serde::{Deserialize, Serialize};

/// How a quarantine reason given for a failed DMARC check starts: `reparse`
/// keeps such a quarantine, which parsing alone would not reach again.
pub const QUARANTINE_PREFIX: &str = "sender authentication failed: ";

/// The verdict of the receiving provider, from the topmost
/// Authentication-Results header when its authserv-id is the configured one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthVerdict {
    /// Who judged: the provider's authserv-id, or `slushpile` when
    /// computed here.
    pub authserv_id: String,
    pub dmarc: Option<String>,
    pub dkim: Option<String>,
    pub spf: Option<String>,
    /// What each result was about and why (computed verdicts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuthVerdict {
    /// What failed: DMARC, else (without a DMARC pass) SPF.
    pub fn failed(&self) -> Option<String> {
        match self.dmarc.as_deref() {
            Some("fail") => Some("dmarc=fail".into()),
            Some("pass") => None,
            _ => (self.spf.as_deref() == Some("fail")).then(|| "spf=fail".into()),
        }
    }

    pub fn dmarc_failed(&self) -> bool {
        self.dmarc.as_deref() == Some("fail")
    }

    pub fn passed(&self) -> bool {
        let pass = |r: &Option<String>| r.as_deref() == Some("pass");
        match &self.dmarc {
            Some(_) => pass(&self.dmarc),
            None => pass(&self.spf) || pass(&self.dkim),
        }
    }
}

/// The trusted verdict in a raw header section.
pub fn trusted_in(headers: &[u8], authserv_id: &str) -> Option<AuthVerdict> {
    let parsed = mail_parser::MessageParser::default().parse_headers(headers)?;
    let list: Vec<(String, String)> = parsed
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("authentication-results"))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    trusted_verdict(&list, authserv_id)
}

/// Where our receiving server got the message from: the address SPF is
/// checked for, the HELO name it was given, and the envelope sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub ip: std::net::IpAddr,
    pub helo: String,
    /// Return-Path, empty for the null sender.
    pub mail_from: String,
}

/// The hop recorded by the topmost Received header that one of
/// `receiving_hosts` wrote (`by HOST`): headers below it could be forged by
/// the sender, headers above it were added after our server.
pub fn first_hop(headers: &[u8], receiving_hosts: &[String]) -> Option<Hop> {
    let parsed = mail_parser::MessageParser::default().parse_headers(headers)?;
    let mut mail_from = None;
    let mut hop = None;
    for (name, value) in parsed.headers_raw() {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.eq_ignore_ascii_case("return-path") && mail_from.is_none() {
            let address = value.trim().trim_start_matches('<').trim_end_matches('>');
            mail_from = Some(address.trim().to_lowercase());
        } else if name.eq_ignore_ascii_case("received") && hop.is_none() {
            hop = received_hop(&value, receiving_hosts);
        }
    }
    let (ip, helo) = hop?;
    Some(Hop {
        ip,
        helo,
        mail_from: mail_from.unwrap_or_default(),
    })
}

/// `from HELO (rdns [IP]) by HOST …` → (IP, HELO) when HOST is ours.
fn received_hop(value: &str, receiving_hosts: &[String]) -> Option<(std::net::IpAddr, String)> {
    let words: Vec<&str> = value.split(' ').collect();
    let by = words.iter().position(|w| w.eq_ignore_ascii_case("by"))?;
    let host = words.get(by + 1)?.trim_end_matches(';');
    if !receiving_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return None;
    }
    let from = words[..by]
        .iter()
        .position(|w| w.eq_ignore_ascii_case("from"))?;
    let helo = words.get(from + 1)?.to_string();
    let clause = words[from..by].join(" ");
    let open = clause.find('[')?;
    let close = clause[open..].find(']')? + open;
    let literal = &clause[open + 1..close];
    let ip = literal
        .strip_prefix("IPv6:")
        .unwrap_or(literal)
        .parse()
        .ok()?;
    Some((ip, helo))
}

/// Only the topmost Authentication-Results header counts: the receiving
/// server adds it last (on top), and any below it could have been written by
/// the sender.
pub fn trusted_verdict(headers: &[(String, String)], authserv_id: &str) -> Option<AuthVerdict> {
    let (_, value) = headers
        .iter()
        .find(|(name, _)| name == "authentication-results")?;
    let mut parts = value.split(';');
    let id = parts.next()?.split_whitespace().next()?;
    if !id.eq_ignore_ascii_case(authserv_id) {
        return None;
    }
    let mut verdict = AuthVerdict {
        authserv_id: id.to_string(),
        ..AuthVerdict::default()
    };
    for part in parts {
        let Some((method, rest)) = part.trim().split_once('=') else {
            continue;
        };
        let result = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let slot = match method.trim().to_ascii_lowercase().as_str() {
            "dmarc" => &mut verdict.dmarc,
            "dkim" => &mut verdict.dkim,
            "spf" => &mut verdict.spf,
            _ => continue,
        };
        // With several DKIM signatures, one pass is enough.
        if slot.as_deref() != Some("pass") {
            *slot = Some(result);
        }
    }
    Some(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: &[u8] = b"Return-Path: <Li.Ming@example.org>\r\n\
        Received: from relay.example.net (relay.example.net [198.51.100.7])\r\n\
        \tby mail.example.com with SMTP; Tue, 01 Dec 2026 09:15:03 +0800\r\n\
        Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n\
        \tby mx.slushpile.test (Postfix) with ESMTPS id 4Zx1;\r\n\
        \tTue, 01 Dec 2026 09:15:02 +0800\r\n\
        Received: from forged.example (forged [203.0.113.9]) by mx.slushpile.test;\r\n\
        \tTue, 01 Dec 2026 09:15:01 +0800\r\n\
        From: li.ming@example.org\r\n\r\n";

    #[test]
    fn a_trusted_header_is_read_from_the_raw_section_and_dmarc_decides() {
        let raw =
            b"Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=example.org;\r\n\
            \tdkim=pass header.d=example.org; dmarc=pass header.from=example.org\r\n\
            From: a@example.org\r\n\r\n";
        let verdict = trusted_in(raw, "mx.example.org").unwrap();
        assert_eq!(verdict.spf.as_deref(), Some("fail"));
        // DKIM aligned and passed: DMARC passes, the SPF failure is moot.
        assert_eq!(verdict.failed(), None);
        assert!(verdict.passed() && !verdict.dmarc_failed());
        assert_eq!(trusted_in(raw, "mx.other.example"), None);
        let spf_only = AuthVerdict {
            spf: Some("fail".into()),
            ..AuthVerdict::default()
        };
        assert_eq!(spf_only.failed().as_deref(), Some("spf=fail"));
    }

    #[test]
    fn the_hop_is_the_topmost_one_our_server_recorded() {
        let hop = first_hop(HEADERS, &["MX.slushpile.test".into()]).unwrap();
        assert_eq!(hop.ip, "192.0.2.10".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(hop.helo, "mail.example.org");
        assert_eq!(hop.mail_from, "li.ming@example.org");
        assert_eq!(first_hop(HEADERS, &["mx.other.test".into()]), None);
        let v6 =
            b"Received: from a.example.org (a [IPv6:2001:db8::1]) by mx.slushpile.test;\r\n\r\n";
        let hop = first_hop(v6, &["mx.slushpile.test".into()]).unwrap();
        assert_eq!(hop.ip, "2001:db8::1".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(hop.mail_from, "");
    }
}
