//! Acknowledgements end to end through the binary, with the file transport
//! (one .eml per acknowledgement): who gets one, who does not and why,
//! rate limits, follow-ups. SMTP delivery is proven in tests/smtp.rs.

mod support;

use std::path::Path;
use std::process::Command;

use support::outbox_env::Env;

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
    // Tagged: only we can make an id that threads a reply to this draft.
    let id = state["message_id"].as_str().unwrap();
    assert!(
        id.starts_with(&format!("<ack.{reference}.")) && id.ends_with("@example.org>"),
        "{id}"
    );
    assert_eq!(
        id.len(),
        format!("<ack.{reference}.@example.org>").len() + 32
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
fn a_broken_template_stops_the_start_with_exit_78_naming_file_line_and_placeholder() {
    let env = Env::new("");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
    let templates = env.dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, templates.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        templates.join("decline.zh-Hant.txt"),
        "Subject: {title}\n\n{refrence}\n",
    )
    .unwrap();
    let config = env.dir.path().join("slushpile.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        &format!("templates = '{}'", shipped.display()),
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
    assert_eq!(output.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("decline.zh-Hant.txt, line 3") && stderr.contains("{refrence}"),
        "{stderr}"
    );
    // A missing template is named once, not once more as its cause.
    std::fs::remove_file(templates.join("decline.zh-Hant.txt")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
        .arg("--config")
        .arg(&config)
        .args(["run", "--once"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(78), "{stderr}");
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
}
