//! Sender authentication computed in-process (`[auth]`) against a private
//! DNS server answering a fixture zone: a DKIM-signed submission sent from
//! the sender's own server passes, a copy altered in transit and relayed
//! from elsewhere fails DMARC, and DNS that never answers gives `temperror`
//! without holding up ingestion. Runs on both backends.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod support;

use support::dns::Dns;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/auth");

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(auth: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store_url = support::test_store_url_blocking(&dir.path().join("data"));
        std::fs::write(
            dir.path().join("slushpile.toml"),
            format!(
                "[general]\nown_addresses = ['submissions@example.org']\n\
                 [store]\nurl = '{store_url}'\n\
                 [auth]\nreceiving_hosts = ['mx.slushpile.test']\ndns_timeout = '1s'\n{auth}\n"
            ),
        )
        .unwrap();
        Env { dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(self.dir.path().join("slushpile.toml"))
            .args(args)
            .output()
            .unwrap()
    }

    /// Ingests a fixture and returns its draft as JSON.
    fn ingest(&self, fixture: &str) -> Value {
        let path = Path::new(FIXTURES).join(fixture);
        let output = self.run(&["ingest", path.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let reference = stdout
            .split_whitespace()
            .find(|w| w.starts_with("SP-"))
            .unwrap_or_else(|| panic!("no reference in {stdout}"));
        let shown = self.run(&["drafts", "show", reference, "--json"]);
        serde_json::from_slice(&shown.stdout).unwrap()
    }
}

fn verdict(draft: &Value) -> (String, String, String) {
    let auth = &draft["sender_auth"];
    let word = |k: &str| auth[k].as_str().unwrap_or("missing").to_string();
    assert_eq!(auth["authserv_id"], "slushpile", "{draft}");
    (word("dmarc"), word("dkim"), word("spf"))
}

#[test]
fn a_signed_submission_passes_and_a_tampered_copy_is_quarantined() {
    let dns = Dns::start();
    let env = Env::new(&format!(
        "nameservers = ['{}']\non_fail = 'quarantine'",
        dns.addr
    ));
    let draft = env.ingest("dkim_signed.eml");
    assert_eq!(
        verdict(&draft),
        ("pass".into(), "pass".into(), "pass".into()),
        "{draft}"
    );
    assert_eq!(draft["status"], "new");
    assert!(
        draft["sender_auth"]["detail"]
            .as_str()
            .unwrap()
            .contains("dkim example.org/sp2026: pass"),
        "{draft}"
    );

    let draft = env.ingest("dkim_tampered.eml");
    assert_eq!(
        verdict(&draft),
        ("fail".into(), "fail".into(), "fail".into()),
        "{draft}"
    );
    assert_eq!(draft["status"], "quarantined");
    let reason = draft["quarantine_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("sender authentication failed: dmarc=fail ("),
        "{reason}"
    );
    assert!(
        reason.contains("spf 203.0.113.5 for example.org: fail"),
        "{reason}"
    );
    // Reparsing rebuilds what the bytes give; the verdict came from DNS.
    let reparse = env.run(&["reparse"]);
    assert!(
        reparse.status.success(),
        "{}",
        String::from_utf8_lossy(&reparse.stderr)
    );
    let again: Value =
        serde_json::from_slice(&env.run(&["drafts", "show", "2", "--json"]).stdout).unwrap();
    assert_eq!(
        (&again["status"], &again["quarantine_reason"]),
        (&draft["status"], &draft["quarantine_reason"])
    );
    // Editors see why in the terminal too.
    let shown = String::from_utf8_lossy(&env.run(&["drafts", "show", "2"]).stdout).into_owned();
    assert!(
        shown.contains("sender auth:    dmarc=fail dkim=fail spf=fail (slushpile)"),
        "{shown}"
    );
}

#[test]
fn check_asks_the_resolver() {
    let dns = Dns::start();
    let env = Env::new(&format!("nameservers = ['{}']", dns.addr));
    let report = String::from_utf8_lossy(&env.run(&["check"]).stdout).into_owned();
    assert!(
        report.contains("_dmarc.example.org. v=DMARC1; p=reject"),
        "{report}"
    );
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let env = Env::new(&format!(
        "nameservers = ['{}']",
        silent.local_addr().unwrap()
    ));
    let output = env.run(&["check"]);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(report.contains("[auth] nameservers"), "{report}");
    assert!(!output.status.success());
}

#[test]
fn with_on_fail_flag_a_failing_submission_stays_in_the_queue_marked() {
    let dns = Dns::start();
    let env = Env::new(&format!("nameservers = ['{}']", dns.addr));
    let draft = env.ingest("dkim_tampered.eml");
    assert_eq!(draft["status"], "new");
    assert_eq!(verdict(&draft).0, "fail");
}

#[test]
fn dns_that_never_answers_gives_temperror_without_holding_up_ingestion() {
    // A UDP socket nobody reads from: queries go unanswered (and TCP on the
    // same port is refused).
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let env = Env::new(&format!(
        "nameservers = ['{}']\non_fail = 'quarantine'",
        silent.local_addr().unwrap()
    ));
    let started = std::time::Instant::now();
    let draft = env.ingest("dkim_signed.eml");
    let (dmarc, dkim, _) = verdict(&draft);
    assert_eq!(
        (dmarc.as_str(), dkim.as_str()),
        ("temperror", "temperror"),
        "{draft}"
    );
    assert_eq!(
        draft["status"], "new",
        "a temporary error quarantines nothing"
    );
    // Bounded by [auth] dns_timeout (1 s) per lookup, four lookups at most.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}
