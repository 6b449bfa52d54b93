//! `slushpile check`: like `nginx -t` or `postfix check`, for the person
//! setting it up. Every mailbox, the SMTP server, the store and the
//! templates are tried for real (nothing is sent, moved or created); each
//! failure comes with its reason and a hint.

use std::fmt::Write;

use crate::ack::template::Templates;
use crate::ack::transport::Transport;
use crate::config::ack::TransportKind;
use crate::config::{Config, ConfigError};
use crate::mailbox::{self, MailboxError};
use crate::store::Store;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub subject: String,
    pub ok: bool,
    pub detail: String,
    pub hint: Option<String>,
}

impl Finding {
    fn ok(subject: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding {
            subject: subject.into(),
            ok: true,
            detail: detail.into(),
            hint: None,
        }
    }

    fn failed(
        subject: impl Into<String>,
        detail: impl Into<String>,
        hint: Option<String>,
    ) -> Finding {
        Finding {
            subject: subject.into(),
            ok: false,
            detail: detail.into(),
            hint,
        }
    }
}

/// `[auth]` needs DNS answers: one lookup of our own domain's DMARC record.
async fn dns_check(config: &Config, auth: &crate::config::AuthConfig) -> Finding {
    let hint = Some(
        "check [auth] nameservers (or /etc/resolv.conf) and that UDP/TCP 53 is reachable"
            .to_string(),
    );
    let verifier = match crate::sender_auth::Verifier::new(auth) {
        Ok(verifier) => verifier,
        Err(e) => return Finding::failed("dns", e.to_string(), hint),
    };
    let domain = config
        .general
        .own_addresses
        .first()
        .and_then(|a| a.rsplit_once('@'))
        .map_or("example.org", |(_, d)| d);
    match verifier.probe(domain).await {
        Ok(answer) => Finding::ok("dns", answer),
        Err(e) => Finding::failed("dns", e, hint),
    }
}

/// Every check; `unreadable` are the sources whose secret could not be
/// read (reported, and not tried).
pub async fn run(config: &Config, unreadable: &[(String, ConfigError)]) -> Vec<Finding> {
    let mut findings = vec![Finding::ok("config", config.file.display().to_string())];
    let skipped = |subject: &str| unreadable.iter().any(|(s, _)| s == subject);
    for (subject, error) in unreadable {
        findings.push(Finding::failed(
            subject.clone(),
            error.to_string(),
            Some("fix the secret named above; its server was not tried".into()),
        ));
    }
    findings.push(store(config).await);
    if let Some(ack) = config.ack.as_ref().filter(|a| a.enabled) {
        findings.push(match Templates::load(&ack.templates) {
            Ok(_) => Finding::ok(
                "templates",
                format!(
                    "{} (acknowledgement and letters in zh-Hant, zh-Hans, en)",
                    ack.templates.display()
                ),
            ),
            Err(e) => Finding::failed(
                "templates",
                e.to_string(),
                Some("fix the template named above".into()),
            ),
        });
        if let Some(smtp) = config.smtp.as_ref().filter(|_| !skipped("smtp")) {
            findings.push(smtp_check(smtp).await);
        }
    }
    if let Some(auth) = config.auth.as_ref().filter(|a| a.verify) {
        findings.push(dns_check(config, auth).await);
    }
    for mailbox in &config.mailboxes {
        if !skipped(&format!("mailbox {}", mailbox.name)) {
            findings.extend(mailbox_check(mailbox).await);
        }
    }
    for maildir in &config.maildirs {
        let new = maildir.path.join("new");
        findings.push(if new.is_dir() {
            Finding::ok(
                format!("maildir {}", maildir.name),
                maildir.path.display().to_string(),
            )
        } else {
            Finding::failed(
                format!("maildir {}", maildir.name),
                format!("{} is not a Maildir (no new/)", maildir.path.display()),
                Some("create it with new/, cur/ and tmp/, or fix `path`".into()),
            )
        });
    }
    findings
}

async fn store(config: &Config) -> Finding {
    let subject = "store";
    // `check` changes nothing: a database not made yet is not made here.
    if let Some(path) = crate::store::sqlite_file(&config.store.url)
        && !path.exists()
    {
        return Finding::ok(
            subject,
            format!(
                "sqlite: {} does not exist yet; `slushpile migrate` or the first run creates it",
                path.display()
            ),
        );
    }
    match Store::open(&config.store.url, config.time_zone(), "check").await {
        Err(e) => Finding::failed(
            subject,
            e.to_string(),
            Some("check store.url and that its directory or server is reachable".into()),
        ),
        Ok(store) => {
            let pending = store.pending_migrations().await;
            store.close().await;
            match pending {
                Ok(0) => Finding::ok(
                    subject,
                    format!("{}: reachable, schema up to date", store.backend_name()),
                ),
                Ok(n) => Finding::ok(
                    subject,
                    format!(
                        "{}: reachable, {n} migration(s) pending (`run` or `migrate` applies them)",
                        store.backend_name()
                    ),
                ),
                Err(e) => Finding::failed(subject, e.to_string(), None),
            }
        }
    }
}

async fn smtp_check(smtp: &crate::config::ack::SmtpConfig) -> Finding {
    let subject = match smtp.transport {
        TransportKind::File => {
            return Finding::ok(
                "smtp",
                format!(
                    "file transport into {}",
                    smtp.directory
                        .as_ref()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default()
                ),
            );
        }
        TransportKind::Smtp => format!(
            "smtp {}:{}",
            smtp.host.as_deref().unwrap_or(""),
            smtp.port()
        ),
    };
    let transport = match Transport::from_config(smtp) {
        Ok(t) => t,
        Err(e) => return Finding::failed(subject, e, None),
    };
    match transport.test().await {
        Ok(()) => Finding::ok(
            subject,
            format!(
                "connected, {:?} TLS verified, {}; no mail sent",
                smtp.tls,
                if smtp.username.is_some() {
                    "AUTH accepted"
                } else {
                    "no AUTH configured"
                }
            ),
        ),
        Err(e) => {
            let text = e.to_string();
            let hint = if text.contains("certificate")
                || text.contains("tls")
                || text.contains("TLS")
            {
                "the server's certificate is not trusted for this host name: set smtp.ca_file or fix smtp.host"
            } else if text.contains("535") || text.contains("authentication") {
                "the server refused the credentials: check smtp.username and the password source (an authorization code for 126.com/163.com)"
            } else {
                "check smtp.host, smtp.port and smtp.tls (465 = implicit, 587 = starttls)"
            };
            Finding::failed(subject, text, Some(hint.into()))
        }
    }
}

async fn mailbox_check(config: &crate::config::MailboxConfig) -> Vec<Finding> {
    let subject = format!(
        "mailbox {} ({}:{})",
        config.name,
        config.host,
        config.port()
    );
    match mailbox::inspect(config).await {
        Err(e) => vec![Finding::failed(
            subject,
            e.to_string(),
            Some(hint_for(config, &e)),
        )],
        Ok(found) => {
            let info = &found.info;
            let mut findings = vec![Finding::ok(
                subject.clone(),
                format!(
                    "TLS verified, logged in as {}, ID {}; IDLE {}, MOVE {}, UIDPLUS {}; {} holds {} message(s)",
                    config.username,
                    if info.id { "sent" } else { "not offered" },
                    yes(info.idle),
                    yes(info.move_ext),
                    yes(info.uidplus),
                    config.folder,
                    found.folder_messages
                ),
            )];
            for (folder, exists) in &found.targets {
                findings.push(Finding::ok(
                    format!("{subject} folder {folder}"),
                    if *exists {
                        "exists".to_string()
                    } else {
                        "missing: created on first use".to_string()
                    },
                ));
            }
            findings
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn hint_for(config: &crate::config::MailboxConfig, error: &MailboxError) -> String {
    let provider = ["126.com", "163.com", "yeah.net"]
        .iter()
        .find(|d| config.host.ends_with(**d));
    match error {
        MailboxError::Login { .. } => match provider {
            Some(domain) => format!(
                "{domain}: enable IMAP in the web mailbox's settings (设置 → POP3/SMTP/IMAP) and use the authorization code (授权码) as the password"
            ),
            None => "check username and the password source; some providers need an app password".into(),
        },
        MailboxError::Tls { .. } => "the certificate is not trusted for this host name: set ca_file for a private CA, or fix host".into(),
        MailboxError::Connect { .. } => "check host, port and tls (993 = implicit, 143 = starttls) and that the network allows it".into(),
        MailboxError::Protocol { command: "EXAMINE", .. } => format!("folder `{}` does not exist: fix `folder` or create it", config.folder),
        _ => "see the error above".into(),
    }
}

/// The report as printed, and whether everything passed.
pub fn report(findings: &[Finding]) -> (String, bool) {
    let mut out = String::new();
    for f in findings {
        let mark = if f.ok { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "{mark} {}: {}", f.subject, f.detail);
        if let Some(hint) = &f.hint {
            let _ = writeln!(out, "     hint: {hint}");
        }
    }
    let failed = findings.iter().filter(|f| !f.ok).count();
    if failed == 0 {
        let _ = writeln!(out, "all {} checks passed", findings.len());
    } else {
        let _ = writeln!(out, "{failed} of {} checks failed", findings.len());
    }
    (out, failed == 0)
}
