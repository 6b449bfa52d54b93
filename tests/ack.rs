//! Acknowledgements end to end through the binary, with the file transport
//! (one .eml per acknowledgement): who gets one, who does not and why,
//! rate limits, follow-ups. SMTP delivery is proven in tests/smtp.rs.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(ack_extra: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store_url = support::test_store_url_blocking(dir.path());
        let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
        std::fs::write(
            dir.path().join("slushpile.toml"),
            format!(
                "[store]\nurl = '{store_url}'\n\
                 [[maildir]]\nname = 'submissions'\npath = 'Maildir'\n\
                 [smtp]\ntransport = 'file'\ndirectory = 'outbox'\nfrom = 'submissions@example.org'\n\
                 [ack]\ntemplates = '{}'\nskip_older_than = '36500d'\nauthserv_id = 'mx.example.org'\n{ack_extra}\n",
                templates.display()
            ),
        )
        .unwrap();
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(dir.path().join("Maildir").join(sub)).unwrap();
        }
        Env { dir }
    }

    fn deliver(&self, name: &str, raw: &str) {
        std::fs::write(
            self.dir.path().join("Maildir/new").join(name),
            raw.replace('\n', "\r\n"),
        )
        .unwrap();
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(self.dir.path().join("slushpile.toml"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn drafts(&self) -> Vec<Value> {
        let output = self.run(&["drafts", "list", "--json"]);
        serde_json::from_slice::<Value>(&output.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    fn ack_of(&self, message_id: &str) -> Value {
        let draft = self
            .drafts()
            .into_iter()
            .find(|d| d["message_id"] == message_id)
            .unwrap();
        draft["ack"].clone()
    }

    fn outbox(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("outbox"))
            .map(|dir| {
                dir.map(|e| e.unwrap().path())
                    .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

fn submission(id: &str, from: &str, extra: &str, subject: &str) -> String {
    format!(
        "{extra}From: {from}\nTo: submissions@example.org\nSubject: {subject}\n\
         Date: Sat, 28 Nov 2026 09:15:00 +0800\nMessage-ID: <{id}>\nContent-Type: text/plain; charset=utf-8\n\n\
         新冠肺炎疫情发生以来，教育部教师司党支部认真学习贯彻习近平总书记系列重要讲话和重要指示精神。\n"
    )
}

#[test]
fn a_real_contributor_gets_exactly_one_acknowledgement_with_the_reference() {
    let env = Env::new("");
    let raw = submission(
        "one@example.org",
        "李明 <li.ming@example.org>",
        "",
        "=?UTF-8?B?5oqV56i/77ya5LiK5aW95oiw?=",
    );
    env.deliver("1.a", &raw);
    env.run(&["run", "--once"]);
    // The same message again (another copy in the Maildir) changes nothing.
    env.deliver("2.a", &raw);
    env.run(&["run", "--once"]);

    let outbox = env.outbox();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let ack = std::fs::read(&outbox[0]).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&ack).unwrap();
    let reference = env.drafts()[0]["reference"].as_str().unwrap().to_string();
    assert!(parsed.subject().unwrap().contains(&reference));
    assert!(
        parsed.subject().unwrap().contains("来稿已收到"),
        "Chinese submission, Chinese acknowledgement"
    );
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some("li.ming@example.org")
    );
    let state = env.ack_of("one@example.org");
    assert_eq!(state["state"], "sent");
    assert_eq!(
        state["message_id"],
        format!("<ack.{reference}@example.org>")
    );
}

#[test]
fn automated_mail_gets_none_and_the_reason_is_shown() {
    let env = Env::new("");
    env.deliver(
        "1.a",
        &submission(
            "auto@x",
            "li.ming@example.org",
            "Auto-Submitted: auto-replied\n",
            "Out of office",
        ),
    );
    env.deliver(
        "2.a",
        &submission(
            "list@x",
            "poetry@lists.example.org",
            "List-Id: <poetry.lists.example.org>\n",
            "digest",
        ),
    );
    env.deliver(
        "3.a",
        &submission(
            "dsn@x",
            "MAILER-DAEMON@mx.example.org",
            "",
            "Undelivered Mail",
        ),
    );
    env.deliver(
        "4.a",
        &submission("own@x", "submissions@example.org", "", "our own"),
    );
    env.run(&["run", "--once"]);
    assert!(env.outbox().is_empty());
    for (id, reason) in [
        ("auto@x", "Auto-Submitted"),
        ("list@x", "List-ID"),
        ("dsn@x", "automated sender"),
        ("own@x", "own address"),
    ] {
        let ack = env.ack_of(id);
        assert_eq!(ack["state"], "suppressed", "{id}: {ack}");
        assert!(
            ack["reason"].as_str().unwrap().contains(reason),
            "{id}: {ack}"
        );
    }
}

#[test]
fn a_sender_is_rate_limited() {
    let env = Env::new("rate_limit = 2");
    for i in 0..3 {
        env.deliver(
            &format!("{i}.a"),
            &submission(
                &format!("r{i}@x"),
                "busy@example.org",
                "",
                &format!("poem {i}"),
            ),
        );
    }
    env.run(&["run", "--once"]);
    assert_eq!(env.outbox().len(), 2);
    let ack = env.ack_of("r2@x");
    assert_eq!(ack["state"], "suppressed");
    assert!(
        ack["reason"].as_str().unwrap().starts_with("rate limited"),
        "{ack}"
    );
    // A later batch counts the acknowledgements already stored.
    env.deliver("3.a", &submission("r3@x", "busy@example.org", "", "poem 3"));
    env.run(&["run", "--once"]);
    assert_eq!(env.outbox().len(), 2);
    let ack = env.ack_of("r3@x");
    assert_eq!(ack["state"], "suppressed", "{ack}");
    assert!(
        ack["reason"]
            .as_str()
            .unwrap()
            .starts_with("rate limited: 2 acknowledgements"),
        "{ack}"
    );
}

#[test]
fn a_forged_sender_failing_trusted_authentication_gets_none() {
    let env = Env::new("");
    let forged = "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=example.org; dmarc=fail header.from=example.org\n";
    env.deliver(
        "1.a",
        &submission("forged@x", "victim@example.org", forged, "poem"),
    );
    env.run(&["run", "--once"]);
    assert!(env.outbox().is_empty());
    let draft = env.drafts().into_iter().next().unwrap();
    assert_eq!(draft["ack"]["state"], "suppressed");
    assert!(
        draft["ack"]["reason"]
            .as_str()
            .unwrap()
            .contains("dmarc=fail")
    );
    assert_eq!(
        draft["sender_auth"]["dmarc"], "fail",
        "the verdict is kept for editors: {draft}"
    );
}

#[test]
fn a_reply_to_an_acknowledgement_is_a_follow_up_not_a_draft() {
    let env = Env::new("");
    env.deliver(
        "1.a",
        &submission("first@x", "li.ming@example.org", "", "poem"),
    );
    env.run(&["run", "--once"]);
    let reference = env.drafts()[0]["reference"].as_str().unwrap().to_string();
    let reply = submission(
        "reply@x",
        "li.ming@example.org",
        &format!("In-Reply-To: <ack.{reference}@example.org>\n"),
        &format!("Re: 来稿已收到（稿件编号 {reference}）"),
    );
    env.deliver("2.a", &reply);
    env.run(&["run", "--once"]);
    assert_eq!(env.drafts().len(), 1, "no new draft");
    assert_eq!(env.outbox().len(), 1, "no acknowledgement of the reply");
    let shown = env.run(&["drafts", "show", &reference]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("follow_up"),
        "the follow-up is in the history"
    );
}

#[test]
fn a_broken_template_stops_the_start_naming_file_and_line() {
    let env = Env::new("");
    let templates = env.dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("ack.zh.txt"),
        "Subject: {title}\n\n{refrence}\n",
    )
    .unwrap();
    std::fs::write(templates.join("ack.en.txt"), "Subject: {title}\n\nok\n").unwrap();
    let config = env.dir.path().join("slushpile.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        &format!(
            "templates = '{}'",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config/templates")
                .display()
        ),
        "templates = 'templates'",
    );
    std::fs::write(&config, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
        .arg("--config")
        .arg(&config)
        .args(["run", "--once"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("ack.zh.txt, line 3") && stderr.contains("{refrence}"),
        "{stderr}"
    );
}
