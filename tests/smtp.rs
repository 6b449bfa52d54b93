//! Acknowledgements over real SMTP: submissions arrive in a private Dovecot,
//! slushpile acknowledges them through a private Postfix, which delivers
//! (LMTP) into each contributor's own Dovecot mailbox, where they are read
//! back. Nothing can leave the machine: Postfix only relays to example.org.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use slushpile::store::{DraftFilter, Store};
use support::oauth::{CLIENT_ID, CLIENT_SECRET, TokenServer};
use support::postfix::REJECTED;
use support::process::Guarded;
use support::{Dovecot, HOST, Postfix};

struct Setup {
    /// The OAuth2 provider for `Smtp::Xoauth2`; Dovecot checks its tokens.
    provider: Option<TokenServer>,
    dovecot: Dovecot,
    postfix: Postfix,
    dir: tempfile::TempDir,
    config: PathBuf,
    store_url: String,
}

#[derive(Clone, Copy)]
enum Smtp {
    StartTls,
    Implicit,
    /// STARTTLS but without our CA: the server's certificate must be refused.
    Untrusted,
    /// Implicit TLS, AUTH XOAUTH2 with a token from a private provider.
    Xoauth2,
}

async fn setup(smtp: Smtp) -> Setup {
    let provider = match smtp {
        Smtp::Xoauth2 => Some(TokenServer::start().await),
        _ => None,
    };
    let dovecot = match &provider {
        Some(provider) => Dovecot::start_with_oauth(&provider.introspection_url()).await,
        None => Dovecot::start().await,
    };
    let postfix = Postfix::start(&dovecot, dovecot.tls()).await;
    let dir = tempfile::tempdir().unwrap();
    let store_url = support::test_store_url(dir.path()).await;
    support::write_secret(dir.path().join("imap-pw"), &dovecot.password);
    support::write_secret(dir.path().join("smtp-pw"), &postfix.sasl_password);
    let (port, tls, ca) = match smtp {
        Smtp::StartTls => (
            postfix.starttls_port(),
            "starttls",
            format!("ca_file = '{}'", dovecot.ca_pem().display()),
        ),
        Smtp::Implicit | Smtp::Xoauth2 => (
            postfix.smtps_port(),
            "implicit",
            format!("ca_file = '{}'", dovecot.ca_pem().display()),
        ),
        Smtp::Untrusted => (postfix.starttls_port(), "starttls", String::new()),
    };
    let smtp_auth = match &provider {
        Some(provider) => {
            provider.add_account("1//smtp-refresh", &postfix.sasl_user);
            support::write_secret(dir.path().join("client-secret"), CLIENT_SECRET);
            support::write_secret(dir.path().join("refresh-token"), "1//smtp-refresh");
            format!(
                "auth = \"xoauth2\"\noauth = {{ token_url = \"{}\", client_id = \"{CLIENT_ID}\", \
                 client_secret_file = \"client-secret\", refresh_token_file = \"refresh-token\" }}",
                provider.token_url()
            )
        }
        None => "password_file = \"smtp-pw\"".to_string(),
    };
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
    let config = dir.path().join("slushpile.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[general]
instance = "smtp-test"
[store]
url = "{store_url}"
[[mailbox]]
name = "submissions"
host = "{HOST}"
port = {imaps}
ca_file = "{imap_ca}"
username = "{imap_user}"
password_file = "imap-pw"
poll_interval = "1s"
[smtp]
host = "{HOST}"
port = {port}
tls = "{tls}"
{ca}
username = "{smtp_user}"
{smtp_auth}
from = "submissions@example.org"
from_name = "Editors"
timeout = "10s"
[ack]
templates = "{templates}"
skip_older_than = "36500d"
retry_initial = "1s"
rate_limit = 100
"#,
            imaps = dovecot.imaps_port(),
            imap_ca = dovecot.ca_pem().display(),
            imap_user = dovecot.user,
            smtp_user = postfix.sasl_user,
            templates = templates.display(),
        ),
    )
    .unwrap();
    Setup {
        provider,
        dovecot,
        postfix,
        dir,
        config,
        store_url,
    }
}

fn submission(from_login: &str, n: usize, subject: &str) -> Vec<u8> {
    format!(
        "From: Writer {n} <{from_login}@example.org>\r\nTo: submissions@example.org\r\nSubject: {subject}\r\n\
         Date: Sat, 28 Nov 2026 09:15:00 +0800\r\nMessage-ID: <sub-{from_login}-{n}@example.org>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n新冠肺炎疫情发生以来，教育部教师司党支部认真学习。{n}\r\n"
    )
    .into_bytes()
}

impl Setup {
    /// `drafts transition REFERENCE --to TO --as EDITOR [extra…]`, which must succeed.
    fn transition(&self, reference: &str, to: &str, editor: &str, extra: &[&str]) {
        let mut args = vec![
            "drafts",
            "transition",
            reference,
            "--to",
            to,
            "--as",
            editor,
        ];
        args.extend(extra);
        self.ok(&args);
    }

    /// Runs the daemon until no acknowledgement is pending and each sent one
    /// has arrived, then `settle` longer (time to send anything twice).
    /// Returns how many are `uncertain` and never arrived.
    async fn run_until_settled(&self, writers: &[String], settle: Duration) -> usize {
        let mut daemon = self.daemon();
        let start = Instant::now();
        let lost = loop {
            let states = self.ack_states().await;
            let arrived = |address: &str| {
                let login = address.split('@').next().unwrap_or_default();
                !self.received(login).is_empty()
            };
            let settled = states.len() == writers.len()
                && states.iter().all(|(address, ack)| {
                    ack["state"] == "uncertain" || (ack["state"] == "sent" && arrived(address))
                });
            if settled {
                break states
                    .iter()
                    .filter(|(address, ack)| ack["state"] == "uncertain" && !arrived(address))
                    .count();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "not settled: {states:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        tokio::time::sleep(settle).await;
        daemon.kill().unwrap();
        daemon.wait().unwrap();
        lost
    }

    /// The reference of the first draft.
    async fn first_reference(&self) -> String {
        let drafts = self
            .store()
            .await
            .list_drafts(&DraftFilter::default())
            .await;
        drafts.unwrap()[0].reference.clone()
    }

    /// The binary, which must succeed.
    fn ok(&self, args: &[&str]) {
        let output = self.slushpile(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn slushpile(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap()
    }

    fn daemon(&self) -> Guarded {
        let log = std::fs::File::create(self.dir.path().join("daemon.log")).unwrap();
        Guarded(
            Command::new(env!("CARGO_BIN_EXE_slushpile"))
                .arg("--config")
                .arg(&self.config)
                .arg("run")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        )
    }

    async fn store(&self) -> Store {
        Store::open_migrated(&self.store_url, chrono_tz::Asia::Shanghai, "test")
            .await
            .unwrap()
    }

    /// Acknowledgements in `login`'s own mailbox, as raw messages.
    fn received(&self, login: &str) -> Vec<Vec<u8>> {
        let maildir = self.dovecot.user_maildir(login);
        ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
            .flatten()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect()
    }

    async fn wait_received(&self, login: &str, count: usize) {
        let start = Instant::now();
        while self.received(login).len() < count {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{login} has {} of {count} acknowledgements\n{}",
                self.received(login).len(),
                self.postfix.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn ack_states(&self) -> Vec<(String, serde_json::Value)> {
        let drafts = self
            .store()
            .await
            .list_drafts(&DraftFilter::default())
            .await
            .unwrap();
        drafts
            .into_iter()
            .map(|d| {
                (
                    d.from.unwrap().address,
                    serde_json::to_value(d.ack).unwrap(),
                )
            })
            .collect()
    }
}

fn message_id(raw: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(raw)
        .unwrap()
        .message_id()
        .unwrap()
        .to_string()
}

async fn one_acknowledgement_over(smtp: Smtp) {
    let setup = setup(smtp).await;
    setup.dovecot.add_user("writer");
    setup.dovecot.deliver(
        "INBOX",
        &submission("writer", 1, "=?UTF-8?B?5oqV56i/77ya5LiK5aW95oiw?="),
    );
    let output = setup.slushpile(&["run", "--once"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    setup.wait_received("writer", 1).await;
    // Seeing the submission again sends nothing more.
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = setup.received("writer");
    assert_eq!(received.len(), 1);
    let ack = mail_parser::MessageParser::default()
        .parse(&received[0])
        .unwrap();
    let reference = setup.first_reference().await;
    assert!(
        ack.subject().unwrap().contains(&reference),
        "{:?}",
        ack.subject()
    );
    assert!(
        ack.subject().unwrap().contains("来稿已收到"),
        "Chinese submission, Chinese acknowledgement"
    );
    assert_eq!(
        ack.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-replied")
    );
    assert_eq!(
        ack.in_reply_to().as_text(),
        Some("sub-writer-1@example.org")
    );
    if let Some(provider) = &setup.provider {
        assert!(
            setup.postfix.log().contains("sasl_method=XOAUTH2"),
            "{}",
            setup.postfix.log()
        );
        // The second run had nothing to send, so it asked for no token.
        assert_eq!(provider.refreshes(), 1);
    }
}

#[tokio::test]
async fn one_acknowledgement_over_starttls() {
    one_acknowledgement_over(Smtp::StartTls).await;
}

#[tokio::test]
async fn one_acknowledgement_over_implicit_tls() {
    one_acknowledgement_over(Smtp::Implicit).await;
}

// Several threads: the provider answers slushpile and Dovecot while the
// test waits on the child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_acknowledgement_over_xoauth2() {
    one_acknowledgement_over(Smtp::Xoauth2).await;
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_and_retried_not_sent() {
    let setup = setup(Smtp::Untrusted).await;
    setup.dovecot.add_user("writer");
    setup
        .dovecot
        .deliver("INBOX", &submission("writer", 1, "poem"));
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    let states = setup.ack_states().await;
    assert_eq!(states[0].1["state"], "pending", "{states:?}");
    let error = states[0].1["error"].as_str().unwrap().to_lowercase();
    assert!(
        error.contains("certificate") || error.contains("tls"),
        "{error}"
    );
    assert!(setup.received("writer").is_empty());
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once_and_is_visible() {
    let setup = setup(Smtp::StartTls).await;
    let (login, _) = REJECTED.split_once('@').unwrap();
    setup
        .dovecot
        .deliver("INBOX", &submission(login, 1, "poem"));
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    let states = setup.ack_states().await;
    assert_eq!(states[0].1["state"], "failed", "{states:?}");
    assert!(
        states[0].1["error"].as_str().unwrap().contains("550"),
        "{states:?}"
    );
}

#[tokio::test]
async fn smtp_down_while_mail_arrives_then_up_delivers_each_ack_once() {
    let mut setup = setup(Smtp::StartTls).await;
    let writers = ["ann", "bo", "chen"];
    for (i, login) in writers.iter().enumerate() {
        setup.dovecot.add_user(login);
        setup
            .dovecot
            .deliver("INBOX", &submission(login, i, "poem"));
    }
    setup.postfix.stop();
    let mut daemon = setup.daemon();
    let start = Instant::now();
    loop {
        let states = setup.ack_states().await;
        if states.len() == 3
            && states
                .iter()
                .all(|(_, a)| a["attempts"].as_u64() >= Some(1))
        {
            assert!(
                states.iter().all(|(_, a)| a["state"] == "pending"),
                "{states:?}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no failed attempts: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    setup.postfix.start_again().await;
    for login in writers {
        setup.wait_received(login, 1).await;
    }
    // Retries keep running: give them time to send anything twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for login in writers {
        assert_eq!(setup.received(login).len(), 1, "{login}");
    }
    assert!(
        setup
            .ack_states()
            .await
            .iter()
            .all(|(_, a)| a["state"] == "sent")
    );
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

#[tokio::test]
async fn kill_9_while_sending_sends_nothing_twice() {
    let setup = setup(Smtp::StartTls).await;
    let writers: Vec<String> = (0..12).map(|i| format!("w{i}")).collect();
    for (i, login) in writers.iter().enumerate() {
        setup.dovecot.add_user(login);
        setup
            .dovecot
            .deliver("INBOX", &submission(login, i, "poem"));
    }
    let mut daemon = setup.daemon();
    let store = setup.store().await;
    let start = Instant::now();
    loop {
        let sent = setup
            .ack_states()
            .await
            .iter()
            .filter(|(_, a)| a["state"] == "sent")
            .count();
        if sent >= 1 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "nothing sent");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let sent_at_kill = setup
        .ack_states()
        .await
        .iter()
        .filter(|(_, a)| a["state"] == "sent")
        .count();

    // The same instance name releases the dead process's claims at start;
    // one handed over before the kill is not sent again.
    let lost = setup
        .run_until_settled(&writers, Duration::from_secs(2))
        .await;
    for login in &writers {
        let received = setup.received(login).len();
        assert!(received <= 1, "{login} got {received}");
    }
    assert!(lost <= 1, "at most the message in flight: {lost} lost");
    assert_eq!(store.count_drafts().await.unwrap(), writers.len() as i64);
    eprintln!(
        "killed with {sent_at_kill} of {} sent; {lost} uncertain and lost",
        writers.len()
    );
}

/// The ack of the one draft there is, once it is `sent` or `uncertain`.
async fn settled_ack(setup: &Setup) -> serde_json::Value {
    let start = Instant::now();
    loop {
        if let Some((_, ack)) = setup.ack_states().await.into_iter().next()
            && (ack["state"] == "sent" || ack["state"] == "uncertain")
        {
            return ack;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "still pending");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_acknowledgement_the_server_answers_too_late_is_kept_not_sent_again() {
    let setup = setup(Smtp::StartTls).await;
    setup.dovecot.add_user("slow");
    // The server keeps the message but answers after our 2 s timeout.
    let config = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        config.replace("timeout = \"10s\"", "timeout = \"2s\""),
    )
    .unwrap();
    setup.postfix.answer_late("slow@example.org", 4);
    setup
        .dovecot
        .deliver("INBOX", &submission("slow", 0, "poem"));
    let mut daemon = setup.daemon();
    let ack = settled_ack(&setup).await;
    assert_eq!(ack["state"], "uncertain", "{ack}");
    setup.wait_received("slow", 1).await;
    // Retries keep running: time to send it twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(setup.received("slow").len(), 1);
    let reference = setup.first_reference().await;
    let shown = String::from_utf8(setup.slushpile(&["drafts", "show", &reference]).stdout).unwrap();
    assert!(shown.contains("ack_uncertain"), "{shown}");
}

#[tokio::test]
async fn killed_after_the_hand_over_the_acknowledgement_is_not_sent_again() {
    let setup = setup(Smtp::StartTls).await;
    setup.dovecot.add_user("cut");
    setup.postfix.answer_late("cut@example.org", 5);
    setup
        .dovecot
        .deliver("INBOX", &submission("cut", 0, "poem"));
    let mut daemon = setup.daemon();
    // Postfix logs the client at MAIL FROM; RCPT, DATA, the message and
    // the final dot follow within milliseconds, and the answer 5 s later.
    setup
        .postfix
        .wait_for_log(&["client=", "sasl_username="], Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    let mut daemon = setup.daemon();
    let ack = settled_ack(&setup).await;
    assert_eq!(ack["state"], "uncertain", "{ack}");
    setup.wait_received("cut", 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(
        setup.received("cut").len(),
        1,
        "the server's copy, and no other"
    );
}

#[tokio::test]
async fn check_is_all_green_then_names_each_failure() {
    let setup = setup(Smtp::StartTls).await;
    let check = |config: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(config)
            .arg("check")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (passed, report) = check(&setup.config);
    assert!(passed, "{report}");
    assert!(
        report.contains("logged in as editor") && report.contains("IDLE yes"),
        "{report}"
    );
    assert!(report.contains("AUTH accepted; no mail sent"), "{report}");
    assert!(
        report.contains("folder Ingested: missing: created on first use"),
        "{report}"
    );
    assert!(
        setup.received("editor").is_empty() && setup.dovecot.count("INBOX") == 0,
        "check changes nothing"
    );

    let original = std::fs::read_to_string(&setup.config).unwrap();
    let variant = |name: &str, edit: &dyn Fn(&str) -> String| {
        let path = setup.dir.path().join(name);
        std::fs::write(&path, edit(&original)).unwrap();
        check(&path)
    };
    support::write_secret(setup.dir.path().join("wrong-pw"), "not-the-password");
    let (passed, report) = variant("wrong-password.toml", &|t| {
        t.replacen(
            "password_file = \"imap-pw\"",
            "password_file = \"wrong-pw\"",
            1,
        )
    });
    assert!(
        !passed
            && report.contains("FAIL mailbox submissions")
            && report.contains("refused the credentials"),
        "{report}"
    );
    // In words, naming where the password came from; no Rust debug text.
    assert!(
        report.contains("the password from password_file") && report.contains("wrong-pw"),
        "{report}"
    );
    assert!(
        !report.contains("code: None") && !report.contains("info: Some"),
        "{report}"
    );
    assert!(!report.contains("not-the-password"), "{report}");

    let ca = format!("ca_file = \"{}\"", setup.dovecot.ca_pem().display());
    let (passed, report) = variant("wrong-ca.toml", &|t| t.replacen(&ca, "", 1));
    assert!(
        !passed
            && report.contains("TLS with")
            && report.contains("hint: the certificate is not trusted"),
        "{report}"
    );

    let (passed, report) = variant("missing-folder.toml", &|t| {
        t.replacen(
            "poll_interval = \"1s\"",
            "folder = \"Nope\"\npoll_interval = \"1s\"",
            1,
        )
    });
    assert!(!passed && report.contains("folder `Nope`"), "{report}");
}

fn parsed(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw).unwrap()
}

/// The messages `login` received whose subject starts with `prefix`.
fn received_with(setup: &Setup, login: &str, prefix: &str) -> Vec<Vec<u8>> {
    setup
        .received(login)
        .into_iter()
        .filter(|raw| parsed(raw).subject().is_some_and(|s| s.starts_with(prefix)))
        .collect()
}

#[tokio::test]
async fn decision_letters_reach_each_contributor_once_through_a_kill_9_and_a_down_server() {
    let mut setup = setup(Smtp::StartTls).await;
    let writers = ["ann", "bo", "chen"];
    for (i, login) in writers.iter().enumerate() {
        setup.dovecot.add_user(login);
        let subject = format!("诗{i}");
        setup
            .dovecot
            .deliver("INBOX", &submission(login, i, &subject));
    }
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    for login in writers {
        setup.wait_received(login, 1).await;
    }
    let store = setup.store().await;
    let drafts = store.list_drafts(&DraftFilter::default()).await.unwrap();
    let reference = |login: &str| {
        drafts
            .iter()
            .find(|d| d.from.as_ref().unwrap().address.starts_with(login))
            .unwrap()
            .reference
            .clone()
    };
    setup.ok(&["editors", "add", "li"]);
    setup.ok(&["editors", "add", "wang", "--role", "signer"]);

    // The decisions are made while the mail server is down.
    setup.postfix.stop();
    let (ann, bo, chen) = (reference("ann"), reference("bo"), reference("chen"));
    setup.transition(&ann, "claimed", "li", &[]);
    setup.transition(&ann, "sent_for_signoff", "li", &[]);
    setup.transition(&ann, "signed_off", "wang", &[]);
    setup.transition(&bo, "claimed", "li", &[]);
    setup.transition(
        &bo,
        "revision_requested",
        "li",
        &["--note-to-author", "请把结尾改短。"],
    );
    setup.transition(&chen, "rejected", "li", &[]);

    // The daemon tries, fails, and is killed with the letters still queued.
    let mut daemon = setup.daemon();
    let start = Instant::now();
    loop {
        let drafts = store.list_drafts(&DraftFilter::default()).await.unwrap();
        let tried = drafts
            .iter()
            .flat_map(|d| &d.letters)
            .filter(|l| l.attempts >= 1 && l.state == "pending")
            .count();
        if tried == 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no attempts: {drafts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    setup.postfix.start_again().await;
    let mut daemon = setup.daemon();
    for login in writers {
        setup.wait_received(login, 2).await;
    }
    // Retries keep running: give them time to send anything twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    for (i, (login, prefix)) in writers
        .iter()
        .zip([
            "录用通知：〈诗0〉",
            "修改意见：〈诗1〉",
            "审稿结果：〈诗2〉",
        ])
        .enumerate()
    {
        assert_eq!(
            setup.received(login).len(),
            2,
            "{login}: the ack and one letter"
        );
        let letters = received_with(&setup, login, prefix);
        assert_eq!(letters.len(), 1, "{login} got no {prefix}");
        let letter = parsed(&letters[0]);
        assert_eq!(
            letter.in_reply_to().as_text(),
            Some(format!("sub-{login}-{i}@example.org").as_str()),
            "threaded to the submission"
        );
        assert_eq!(
            letter.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-replied")
        );
    }
    let revise = received_with(&setup, "bo", "修改意见");
    assert!(
        parsed(&revise[0])
            .body_text(0)
            .unwrap()
            .contains("请把结尾改短。")
    );
}

#[tokio::test]
async fn a_contributor_asks_for_the_status_and_sends_a_revision_a_stranger_starts_afresh() {
    let setup = setup(Smtp::StartTls).await;
    setup.dovecot.add_user("chan");
    setup.dovecot.add_user("bo");
    // A Big5 submission, from a writer whose mailbox is on the private Dovecot.
    let big5 = include_bytes!("fixtures/messages/big5_hkscs.eml").to_vec();
    let big5 = String::from_utf8(big5)
        .unwrap()
        .replace("chan@example.com", "chan@example.org");
    setup.dovecot.deliver("INBOX", big5.as_bytes());
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    setup.wait_received("chan", 1).await;
    let acks = received_with(&setup, "chan", "來稿已收到：〈");
    assert_eq!(acks.len(), 1, "a Big5 writer is answered in zh-Hant");
    let ack_id = parsed(&acks[0]).message_id().unwrap().to_string();
    let reference = setup.first_reference().await;

    let reply = |n: usize, subject: &str, body: &str| {
        format!(
            "From: chan@example.org\r\nTo: submissions@example.org\r\nSubject: {subject}\r\n\
             Date: Sat, 05 Dec 2026 10:0{n}:00 +0800\r\nMessage-ID: <chan-reply-{n}@example.org>\r\n\
             In-Reply-To: <{ack_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
    };
    setup
        .dovecot
        .deliver("INBOX", reply(1, "Re: 查詢", "請問審閱進度？").as_bytes());
    setup.dovecot.deliver(
        "INBOX",
        reply(2, "Re: 來稿", "附上修改稿的全文：那天夜裡下著大雨。").as_bytes(),
    );
    setup
        .dovecot
        .deliver("INBOX", reply(3, "查詢進度", "再次查詢。").as_bytes());
    // Someone else quoting the reference is a submission of their own.
    let stranger = format!("仿作 {reference} 之秋");
    setup
        .dovecot
        .deliver("INBOX", &submission("bo", 9, &stranger));
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    setup.wait_received("chan", 2).await;
    setup.wait_received("bo", 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    assert_eq!(setup.received("chan").len(), 2, "one status answer a day");
    let answer = received_with(&setup, "chan", "稿件處理進度：〈");
    let answer = parsed(&answer[0]);
    let text = answer.body_text(0).unwrap();
    assert!(
        text.contains("目前正在審閱中。") && text.contains(&reference),
        "{text}"
    );
    assert_eq!(
        answer.in_reply_to().as_text(),
        Some("big5-hkscs@example.com")
    );
    assert_eq!(
        received_with(&setup, "bo", "来稿已收到").len(),
        1,
        "{:?}",
        setup.received("bo").len()
    );

    let drafts = setup
        .store()
        .await
        .list_drafts(&DraftFilter::default())
        .await
        .unwrap();
    assert_eq!(drafts.len(), 2);
    let draft = drafts.iter().find(|d| d.reference == reference).unwrap();
    let intents: Vec<&str> = draft.thread.iter().map(|m| m.intent.as_str()).collect();
    assert_eq!(intents, ["status", "reply", "status"]);
    assert!(draft.unseen_mail);
}

#[tokio::test]
async fn a_letter_the_server_refuses_is_shown_as_failed_on_the_draft() {
    let setup = setup(Smtp::StartTls).await;
    let (login, _) = REJECTED.split_once('@').unwrap();
    setup
        .dovecot
        .deliver("INBOX", &submission(login, 1, "poem"));
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    let reference = setup.first_reference().await;
    setup.ok(&["editors", "add", "li"]);
    setup.transition(&reference, "rejected", "li", &[]);
    assert!(setup.slushpile(&["run", "--once"]).status.success());
    let drafts = setup
        .store()
        .await
        .list_drafts(&DraftFilter::default())
        .await
        .unwrap();
    let letter = &drafts[0].letters[0];
    assert_eq!(letter.state, "failed", "{letter:?}");
    assert!(
        letter.reason.as_deref().unwrap_or("").contains("550"),
        "{letter:?}"
    );
    let shown = String::from_utf8(setup.slushpile(&["drafts", "show", &reference]).stdout).unwrap();
    assert!(shown.contains("letter_failed"), "{shown}");
}

/// A measurement, not a check (run with `--ignored --nocapture`): how many
/// contributors get their acknowledgement twice, or never, when the daemon
/// is killed with SIGKILL 20 times while it sends through the real Postfix.
#[tokio::test]
#[ignore]
async fn twenty_kills_while_sending_measured() {
    let setup = setup(Smtp::StartTls).await;
    let writers: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    for (i, login) in writers.iter().enumerate() {
        setup.dovecot.add_user(login);
        setup
            .dovecot
            .deliver("INBOX", &submission(login, i, "poem"));
    }
    for kill in 0..20u64 {
        let mut daemon = setup.daemon();
        // Kill at a different moment each time, mostly while sending.
        tokio::time::sleep(Duration::from_millis(300 + kill * 37 % 400)).await;
        daemon.kill().unwrap();
        daemon.wait().unwrap();
    }
    let lost = setup
        .run_until_settled(&writers, Duration::from_secs(3))
        .await;
    let uncertain = setup
        .ack_states()
        .await
        .iter()
        .filter(|(_, ack)| ack["state"] == "uncertain")
        .count();
    let mut duplicates = 0;
    for login in &writers {
        let received = setup.received(login);
        if received.len() > 1 {
            duplicates += received.len() - 1;
            assert!(
                received
                    .iter()
                    .all(|r| message_id(r) == message_id(&received[0])),
                "a resend carries the same Message-ID"
            );
        }
    }
    eprintln!(
        "20 SIGKILLs while sending: {} contributors, {duplicates} duplicate acknowledgements, \
         {uncertain} uncertain of which {lost} never arrived",
        writers.len()
    );
}
