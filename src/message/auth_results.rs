//! The receiving provider's verdict on the sender (pure): DMARC, DKIM and SPF
//! from the Authentication-Results header its server added.

use serde::{Deserialize, Serialize};

/// The verdict of the receiving provider, from the topmost
/// Authentication-Results header when its authserv-id is the configured one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthVerdict {
    pub authserv_id: String,
    pub dmarc: Option<String>,
    pub dkim: Option<String>,
    pub spf: Option<String>,
}

impl AuthVerdict {
    pub fn failed(&self) -> Option<String> {
        [("dmarc", &self.dmarc), ("spf", &self.spf)]
            .iter()
            .find(|(_, result)| result.as_deref() == Some("fail"))
            .map(|(method, _)| format!("{method}=fail"))
    }

    pub fn passed(&self) -> bool {
        let pass = |r: &Option<String>| r.as_deref() == Some("pass");
        match &self.dmarc {
            Some(_) => pass(&self.dmarc),
            None => pass(&self.spf) || pass(&self.dkim),
        }
    }
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
