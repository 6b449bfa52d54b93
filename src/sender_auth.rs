//! Sender authentication computed in-process: DKIM signatures, SPF for the
//! address our receiving server was connected from, and DMARC over both,
//! with `mail-auth`. DNS goes through one resolver per process (hickory:
//! per-query timeout, response cache); a message whose lookups do not
//! finish in time gets `temperror` — never a stalled sync.

use std::net::SocketAddr;
use std::time::Duration;

use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, MessageAuthenticator, SpfResult,
    dmarc::verify::DmarcParameters, spf::verify::SpfParameters,
};

use crate::config::AuthConfig;
use crate::message::auth_results::{AuthVerdict, first_hop};

/// The name computed verdicts carry as their authserv-id.
pub const AUTHSERV_ID: &str = "slushpile";

/// Messages checked at once: their DNS lookups overlap.
const CONCURRENCY: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("[auth]: cannot set up the DNS resolver: {0}")]
pub struct SetupError(String);

pub struct Verifier {
    authenticator: MessageAuthenticator,
    receiving_hosts: Vec<String>,
    /// For all of one message's lookups.
    budget: Duration,
}

impl Verifier {
    pub fn new(config: &AuthConfig) -> Result<Verifier, SetupError> {
        let mut options = ResolverOpts::default();
        options.timeout = config.dns_timeout;
        options.attempts = 1;
        options.cache_size = 4096;
        let authenticator = if config.nameservers.is_empty() {
            let (resolvers, _) = mail_auth::hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| SetupError(format!("/etc/resolv.conf: {e}")))?;
            MessageAuthenticator::new(resolvers, options)
        } else {
            let servers = config.nameservers.iter().map(name_server).collect();
            MessageAuthenticator::new(ResolverConfig::from_name_servers(servers), options)
        }
        .map_err(|e| SetupError(e.to_string()))?;
        Ok(Verifier {
            authenticator,
            receiving_hosts: config.receiving_hosts.clone(),
            // DKIM, SPF (a few lookups) and DMARC run one after another.
            budget: config.dns_timeout * 4,
        })
    }

    /// Verdicts for a batch, in its order; `None` for what is no message.
    pub async fn verify_all(&self, messages: &[Option<&[u8]>]) -> Vec<Option<AuthVerdict>> {
        let mut verdicts = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(CONCURRENCY) {
            let checks = chunk.iter().map(|raw| self.verify_some(*raw));
            verdicts.extend(futures::future::join_all(checks).await);
        }
        verdicts
    }

    async fn verify_some(&self, raw: Option<&[u8]>) -> Option<AuthVerdict> {
        self.verify(raw?).await
    }

    /// Whether the resolver answers: the DMARC record of `domain` (an
    /// answer that there is none counts), for `slushpile check`.
    pub async fn probe(&self, domain: &str) -> Result<String, String> {
        let name = format!("_dmarc.{domain}.");
        let lookup = self.authenticator.txt_raw_lookup(name.as_str());
        match tokio::time::timeout(self.budget, lookup).await {
            Ok(Ok(record)) => Ok(format!("{name} {}", String::from_utf8_lossy(&record))),
            Ok(Err(mail_auth::Error::DnsRecordNotFound(code))) => Ok(format!("{name}: {code}")),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", self.budget.as_secs_f32())),
        }
    }

    pub async fn verify(&self, raw: &[u8]) -> Option<AuthVerdict> {
        let message = AuthenticatedMessage::parse(raw)?;
        let verdict = tokio::time::timeout(self.budget, self.judge(raw, &message)).await;
        Some(verdict.unwrap_or_else(|_| AuthVerdict {
            authserv_id: AUTHSERV_ID.into(),
            dmarc: Some("temperror".into()),
            dkim: Some("temperror".into()),
            spf: Some("temperror".into()),
            detail: Some(format!(
                "DNS did not answer within {} s",
                self.budget.as_secs_f32()
            )),
        }))
    }

    async fn judge(&self, raw: &[u8], message: &AuthenticatedMessage<'_>) -> AuthVerdict {
        let mut detail = Vec::new();
        let dkim = self.authenticator.verify_dkim(message).await;
        let dkim_result = dkim_word(&dkim, &mut detail);
        let header_section = crate::message::header_section(raw);
        let hop = first_hop(header_section, &self.receiving_hosts);
        let from_domain = message
            .from
            .first()
            .and_then(|f| f.rsplit_once('@'))
            .map(|(_, d)| d);
        let (spf, mail_from_domain) = match &hop {
            Some(hop) => {
                let sender = if hop.mail_from.is_empty() {
                    format!("postmaster@{}", hop.helo)
                } else {
                    hop.mail_from.clone()
                };
                let params =
                    SpfParameters::verify_mail_from(hop.ip, &hop.helo, AUTHSERV_ID, &sender);
                let output = self.authenticator.verify_spf(params).await;
                let domain = sender
                    .rsplit_once('@')
                    .map_or(String::new(), |(_, d)| d.to_string());
                detail.push(format!(
                    "spf {} for {domain}: {}",
                    hop.ip,
                    spf_word(output.result())
                ));
                (output, domain)
            }
            None => {
                detail.push("spf: no Received header from a receiving_hosts server".into());
                (mail_auth::SpfOutput::new(String::new()), String::new())
            }
        };
        let dmarc = self
            .authenticator
            .verify_dmarc(
                DmarcParameters::new(message, &dkim, &mail_from_domain, &spf)
                    .with_domain_suffix_fn(organizational_domain),
            )
            .await;
        let dmarc_result = if dmarc.dmarc_record().is_none() {
            let temp = [dmarc.dkim_result(), dmarc.spf_result()]
                .iter()
                .any(|r| matches!(r, DmarcResult::TempError(_)));
            if temp { "temperror" } else { "none" }
        } else {
            match (dmarc.dkim_result(), dmarc.spf_result()) {
                (DmarcResult::Pass, _) | (_, DmarcResult::Pass) => "pass",
                (DmarcResult::TempError(_), _) | (_, DmarcResult::TempError(_)) => "temperror",
                (DmarcResult::PermError(_), _) | (_, DmarcResult::PermError(_)) => "permerror",
                _ => "fail",
            }
        };
        detail.push(format!(
            "dmarc {} (p={}): {dmarc_result}",
            from_domain.unwrap_or("?"),
            format!("{:?}", dmarc.policy()).to_lowercase()
        ));
        AuthVerdict {
            authserv_id: AUTHSERV_ID.into(),
            dmarc: Some(dmarc_result.into()),
            dkim: Some(dkim_result.into()),
            spf: Some(spf_word(spf.result()).into()),
            detail: Some(detail.join("; ")),
        }
    }
}

fn name_server(address: &SocketAddr) -> NameServerConfig {
    let mut server = NameServerConfig::udp_and_tcp(address.ip());
    for connection in &mut server.connections {
        connection.port = address.port();
    }
    server
}

/// One signature passing is enough; otherwise the first one's result.
fn dkim_word(outputs: &[mail_auth::DkimOutput<'_>], detail: &mut Vec<String>) -> &'static str {
    let mut words = Vec::new();
    for output in outputs {
        let signer = output
            .signature()
            .map(|s| format!("{}/{}", s.d, s.s))
            .unwrap_or_default();
        let (word, why) = match output.result() {
            DkimResult::Pass => ("pass", String::new()),
            // mail-auth says neutral; RFC 8601 calls a signature that does
            // not verify (the body changed in transit) a failure.
            DkimResult::Neutral(e @ mail_auth::Error::FailedBodyHashMatch) => {
                ("fail", format!(" ({e})"))
            }
            DkimResult::Neutral(e) => ("neutral", format!(" ({e})")),
            DkimResult::Fail(e) => ("fail", format!(" ({e})")),
            DkimResult::PermError(e) => ("permerror", format!(" ({e})")),
            DkimResult::TempError(e) => ("temperror", format!(" ({e})")),
            DkimResult::None => ("none", String::new()),
        };
        detail.push(format!("dkim {signer}: {word}{why}"));
        words.push(word);
    }
    if words.is_empty() {
        detail.push("dkim: no signature".into());
        return "none";
    }
    if words.contains(&"pass") {
        return "pass";
    }
    words[0]
}

fn spf_word(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// The organizational domain for DMARC alignment: the registrable part,
/// with the second-level public suffixes Chinese-speaking senders use
/// (`mail.example.com.cn` → `example.com.cn`). Not the full Public Suffix
/// List: a sender under another multi-label suffix aligns strictly.
fn organizational_domain(domain: &str) -> &str {
    const SECOND_LEVEL: [&str; 14] = [
        "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn", "com.hk", "org.hk", "edu.hk",
        "com.tw", "org.tw", "edu.tw", "com.mo", "co.uk",
    ];
    let labels: Vec<usize> = domain.match_indices('.').map(|(i, _)| i).collect();
    let keep = if SECOND_LEVEL
        .iter()
        .any(|s| domain.ends_with(&format!(".{s}")))
    {
        3
    } else {
        2
    };
    match labels.len().checked_sub(keep - 1) {
        Some(cut) if cut > 0 => &domain[labels[cut - 1] + 1..],
        _ => domain,
    }
}

#[cfg(test)]
mod tests {
    use super::organizational_domain as org;

    #[test]
    fn organizational_domains() {
        assert_eq!(org("mail.example.org"), "example.org");
        assert_eq!(org("example.org"), "example.org");
        assert_eq!(org("a.b.example.com.cn"), "example.com.cn");
        assert_eq!(org("example.com.cn"), "example.com.cn");
        assert_eq!(org("org"), "org");
    }
}
