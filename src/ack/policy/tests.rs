use std::time::Duration;

use chrono::TimeZone;

use super::*;
use crate::message::{self, ParseOptions};

fn policy(config: AckConfig) -> Policy {
    Policy {
        config,
        own_addresses: vec!["submissions@example.org".into()],
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap()
}

fn plan_with(config: AckConfig, extra_headers: &str) -> AckPlan {
    let raw = format!(
        "{extra_headers}From: 李明 <Li.Ming@example.org>\r\nTo: submissions@example.org\r\nSubject: 投稿\r\n\
         Date: Sat, 28 Nov 2026 09:15:00 +0800\r\nMessage-ID: <a@example.org>\r\n\r\n正文。\r\n"
    );
    let parsed = message::parse(raw.as_bytes(), &ParseOptions::default());
    let headers = crate::message::header_section(raw.as_bytes());
    // What ingest::prepare does when the verdict is not computed here.
    let auth = config
        .authserv_id
        .as_deref()
        .and_then(|id| crate::message::auth_results::trusted_in(headers, id));
    policy(config).plan(
        headers,
        &parsed.submission,
        parsed.quarantine.is_some(),
        None,
        now(),
        auth.as_ref(),
    )
}

/// The plan for `raw` as it stands, under the default config and with no
/// sender verdict.
fn plan_default(raw: &str, quarantined: bool) -> AckPlan {
    let parsed = message::parse(raw.as_bytes(), &ParseOptions::default());
    policy(AckConfig::default()).plan(
        raw.as_bytes(),
        &parsed.submission,
        quarantined,
        None,
        now(),
        None,
    )
}

fn reason(extra_headers: &str) -> Option<String> {
    match plan_with(AckConfig::default(), extra_headers).decision {
        Decision::Send => None,
        Decision::Suppress(reason) => Some(reason),
    }
}

#[test]
fn an_ordinary_submission_is_acknowledged_to_its_sender() {
    let plan = plan_with(AckConfig::default(), "");
    assert_eq!(plan.decision, Decision::Send);
    let to = plan.to.unwrap();
    assert_eq!(to.address, "li.ming@example.org");
    assert_eq!(to.name.as_deref(), Some("李明"));
}

#[test]
fn reply_to_in_the_senders_domain_wins_over_from() {
    let plan = plan_with(AckConfig::default(), "Reply-To: author@EXAMPLE.org\r\n");
    assert_eq!(plan.to.unwrap().address, "author@example.org");
}

#[test]
fn reply_to_in_another_domain_is_not_where_the_acknowledgement_goes() {
    let plan = plan_with(AckConfig::default(), "Reply-To: someone@example.net\r\n");
    assert_eq!(plan.decision, Decision::Send);
    assert_eq!(plan.to.unwrap().address, "li.ming@example.org");
    let plan = plan_with(
        AckConfig::default(),
        "Reply-To: undisclosed-recipients:;\r\n",
    );
    assert_eq!(plan.to.unwrap().address, "li.ming@example.org");
}

#[test]
fn automated_mail_is_never_acknowledged() {
    for (header, expected) in [
        ("Auto-Submitted: auto-replied\r\n", "Auto-Submitted"),
        ("Auto-Submitted: auto-generated\r\n", "Auto-Submitted"),
        ("Precedence: bulk\r\n", "Precedence"),
        ("Precedence: junk\r\n", "Precedence"),
        ("Precedence: list\r\n", "Precedence"),
        ("List-Id: <poetry.lists.example.org>\r\n", "List-ID"),
        (
            "List-Unsubscribe: <mailto:leave@example.org>\r\n",
            "List-Unsubscribe",
        ),
        ("X-Autoreply: yes\r\n", "X-Autoreply"),
        ("X-Autorespond: yes\r\n", "X-Autorespond"),
        (
            "X-Auto-Response-Suppress: All\r\n",
            "X-Auto-Response-Suppress",
        ),
        ("Return-Path: <>\r\n", "null sender"),
    ] {
        let reason = reason(header).unwrap_or_else(|| panic!("{header} was acknowledged"));
        assert!(reason.contains(expected), "{header} → {reason}");
    }
    assert_eq!(reason("Auto-Submitted: no\r\n"), None);
}

#[test]
fn robots_and_our_own_address_are_never_acknowledged() {
    for from in [
        "MAILER-DAEMON@example.org",
        "postmaster@example.org",
        "no-reply@example.org",
        "noreply@example.org",
    ] {
        let raw = format!("From: {from}\r\nSubject: x\r\nMessage-ID: <b@x>\r\n\r\nx\r\n");
        let plan = plan_default(&raw, false);
        assert!(
            matches!(plan.decision, Decision::Suppress(_)),
            "{from} acknowledged"
        );
    }
    let raw = "From: Editors <submissions@example.org>\r\nSubject: x\r\n\r\nx\r\n";
    let plan = plan_default(raw, false);
    assert_eq!(
        plan.decision,
        Decision::Suppress("mail from our own address".into())
    );
}

#[test]
fn old_mail_deny_list_and_quarantine_are_not_acknowledged() {
    let config = AckConfig {
        skip_older_than: Duration::from_secs(600),
        ..AckConfig::default()
    };
    assert!(
        matches!(plan_with(config, "").decision, Decision::Suppress(r) if r.starts_with("older than"))
    );
    let config = AckConfig {
        deny: vec!["@example.org".into()],
        ..AckConfig::default()
    };
    assert!(matches!(plan_with(config, "").decision, Decision::Suppress(r) if r.contains("deny")));
    let raw = "From: a@example.org\r\nSubject: x\r\n\r\nx\r\n";
    let plan = plan_default(raw, true);
    assert_eq!(plan.decision, Decision::Suppress("quarantined".into()));
}

#[test]
fn only_the_topmost_authentication_results_from_our_provider_is_trusted() {
    let config = AckConfig {
        authserv_id: Some("mx.example.org".into()),
        ..AckConfig::default()
    };
    let fail = "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=example.org; dmarc=fail header.from=example.org\r\n";
    let plan = plan_with(config.clone(), fail);
    assert_eq!(
        plan.decision,
        Decision::Suppress("sender authentication failed (dmarc=fail)".into())
    );

    // A forger's own "pass" below the provider's verdict changes nothing…
    let forged_below = format!("{fail}Authentication-Results: mx.example.org; dmarc=pass\r\n");
    assert!(matches!(
        plan_with(config.clone(), &forged_below).decision,
        Decision::Suppress(_)
    ));
    // … and a header from another authserv-id is ignored entirely.
    let other = "Authentication-Results: evil.example.net; dmarc=fail\r\n";
    assert_eq!(plan_with(config.clone(), other).decision, Decision::Send);

    let strict = AckConfig {
        only_authenticated: true,
        ..config
    };
    assert!(
        matches!(plan_with(strict.clone(), "").decision, Decision::Suppress(r) if r.contains("not authenticated"))
    );
    let pass = "Authentication-Results: mx.example.org; dkim=pass; spf=pass; dmarc=pass\r\n";
    assert_eq!(plan_with(strict, pass).decision, Decision::Send);
}

#[test]
fn a_submission_an_editor_forwarded_is_not_acknowledged() {
    let mut parsed = message::parse(
        b"From: Li Ming <li.ming@example.org>\r\nSubject: x\r\n\r\ntext\r\n",
        &ParseOptions::default(),
    );
    parsed.submission.forwarded_by = Some(message::Address {
        name: None,
        address: "editor@example.org".into(),
    });
    let plan = policy(AckConfig::default()).plan(b"", &parsed.submission, false, None, now(), None);
    assert_eq!(
        plan.decision,
        Decision::Suppress("forwarded by an editor (editor@example.org)".into())
    );
}
