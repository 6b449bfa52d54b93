//! Who gets an acknowledgement (pure). Automated mail never does, nor does a
//! sender a trusted authentication verdict says is forged: a forged From
//! must not make the publication mail an innocent third party.

use chrono::{DateTime, FixedOffset, Utc};
use mail_parser::MessageParser;

use crate::config::ack::AckConfig;
use crate::message::auth_results::AuthVerdict;
use crate::message::{Address, Classification, Submission};
use crate::store::{AckPlan, Decision, OutboxLimits, Recipient};

/// Everything the decision needs besides the message itself.
#[derive(Debug, Clone)]
pub struct Policy {
    pub config: AckConfig,
    /// The submissions address and the publication's other own addresses, lower-case.
    pub own_addresses: Vec<String>,
}

const AUTOMATED_LOCAL_PARTS: [&str; 8] = [
    "mailer-daemon",
    "postmaster",
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "bounce",
];

/// Who the acknowledgement goes to: the sender, or their Reply-To when it
/// is in the sender's own domain. Authentication vouches for From only; a
/// Reply-To elsewhere would let anyone point our acknowledgement (which
/// quotes their subject) at a third party.
fn recipient(submission: &Submission) -> Option<&Address> {
    let from = submission.from.as_ref()?;
    let domain = |a: &Address| {
        a.address
            .rsplit_once('@')
            .map(|(_, d)| d.trim().to_ascii_lowercase())
    };
    let same_domain = |a: &Address| domain(a).is_some_and(|d| Some(d) == domain(from));
    Some(
        submission
            .reply_to
            .as_ref()
            .filter(|r| same_domain(r))
            .unwrap_or(from),
    )
}

impl Policy {
    pub fn plan(
        &self,
        headers: &[u8],
        submission: &Submission,
        quarantined: bool,
        internal_date: Option<DateTime<FixedOffset>>,
        now: DateTime<Utc>,
        auth: Option<&AuthVerdict>,
    ) -> AckPlan {
        let parsed = MessageParser::default().parse_headers(headers);
        let header_list: Vec<(String, String)> = parsed
            .as_ref()
            .map(|m| {
                m.headers_raw()
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let to = recipient(submission).map(|a| Recipient {
            address: a.address.trim().to_lowercase(),
            name: a.name.clone(),
        });
        let decision = match self.reason(
            &header_list,
            submission,
            to.as_ref(),
            quarantined,
            internal_date,
            now,
            auth,
        ) {
            Some(reason) => Decision::Suppress(reason),
            None => Decision::Send,
        };
        let limits = OutboxLimits {
            rate_limit: self.config.rate_limit,
            rate_window: self.config.rate_window,
            expire_after: self.config.expire_after,
        };
        AckPlan {
            to,
            decision,
            limits,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn reason(
        &self,
        headers: &[(String, String)],
        submission: &Submission,
        to: Option<&Recipient>,
        quarantined: bool,
        internal_date: Option<DateTime<FixedOffset>>,
        now: DateTime<Utc>,
        auth: Option<&AuthVerdict>,
    ) -> Option<String> {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(to) = to.filter(|r| r.address.contains('@')) else {
            return Some("null sender".into());
        };
        if header("return-path").is_some_and(|v| {
            v.trim_matches(|c| c == '<' || c == '>' || c == ' ')
                .is_empty()
        }) {
            return Some("null sender (Return-Path: <>)".into());
        }
        if matches_any(&self.config.deny, &to.address) {
            return Some("sender is on the deny list".into());
        }
        let local = to.address.split('@').next().unwrap_or_default();
        if AUTOMATED_LOCAL_PARTS
            .iter()
            .any(|p| local.eq_ignore_ascii_case(p))
        {
            return Some(format!("automated sender ({local})"));
        }
        let from_address = submission
            .from
            .as_ref()
            .map(|a| a.address.to_lowercase())
            .unwrap_or_default();
        if submission.classification == Classification::OwnAddress
            || self
                .own_addresses
                .iter()
                .any(|own| *own == to.address || *own == from_address)
        {
            return Some("mail from our own address".into());
        }
        // The original sender wrote to an editor, not to us, and nothing
        // authenticates them in this message.
        if let Some(editor) = &submission.forwarded_by {
            return Some(format!("forwarded by an editor ({})", editor.address));
        }
        if submission.classification == Classification::Bounce {
            return Some("bounce or delivery report".into());
        }
        if let Some(value) = header("auto-submitted").filter(|v| !v.eq_ignore_ascii_case("no")) {
            return Some(format!("Auto-Submitted: {value}"));
        }
        if let Some(value) = header("precedence").filter(|v| {
            ["bulk", "junk", "list", "auto_reply"]
                .iter()
                .any(|p| v.eq_ignore_ascii_case(p))
        }) {
            return Some(format!("Precedence: {value}"));
        }
        for name in [
            "list-id",
            "list-unsubscribe",
            "x-autoreply",
            "x-autorespond",
            "x-auto-response-suppress",
        ] {
            if header(name).is_some() {
                return Some(format!("{} header present", display_name(name)));
            }
        }
        match submission.classification {
            Classification::AutoReply => return Some("auto-reply".into()),
            Classification::List => return Some("mailing list".into()),
            _ => {}
        }
        if quarantined && !self.config.acknowledge_quarantined {
            return Some("quarantined".into());
        }
        if let Some(sent) = submission.date.or(internal_date) {
            let age = now.signed_duration_since(sent.with_timezone(&Utc));
            if age
                .to_std()
                .is_ok_and(|age| age > self.config.skip_older_than)
            {
                return Some(format!(
                    "older than {} (skip_older_than)",
                    describe(self.config.skip_older_than)
                ));
            }
        }
        if let Some(failed) = auth.and_then(AuthVerdict::failed) {
            return Some(format!("sender authentication failed ({failed})"));
        }
        if self.config.only_authenticated
            && !auth.is_some_and(AuthVerdict::passed)
            && !matches_any(&self.config.allow, &to.address)
        {
            return Some("sender not authenticated (only_authenticated)".into());
        }
        None
    }
}

fn describe(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn display_name(lower: &str) -> String {
    lower
        .split('-')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
        .replace("-Id", "-ID")
}

/// An entry is a full address or `@domain`.
fn matches_any(list: &[String], address: &str) -> bool {
    list.iter().any(|entry| {
        let entry = entry.trim().to_lowercase();
        match entry.strip_prefix('@') {
            Some(domain) => address.rsplit_once('@').is_some_and(|(_, d)| d == domain),
            None => entry == address,
        }
    })
}

#[cfg(test)]
mod tests;
