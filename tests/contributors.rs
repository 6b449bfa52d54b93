//! The contributor's side of the loop through the binary, with the file
//! transport: who is a follow-up and who a new submission, the thread and
//! article versions, status and withdrawal by reply, decision letters and
//! their languages. Delivery over real SMTP is proven in tests/smtp.rs.

mod support;

use serde_json::Value;
use support::outbox_env::{Env, Sent};

fn mail(id: &str, from: &str, headers: &str, subject: &str, body: &str) -> String {
    format!(
        "{headers}From: {from}\nTo: submissions@example.org\nSubject: {subject}\n\
         Date: Fri, 04 Dec 2026 09:15:00 +0800\nMessage-ID: <{id}>\n\
         Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

const POEM: &str = "新冠肺炎疫情发生以来，教育部教师司党支部认真学习贯彻重要讲话精神。";

/// A reply carrying a revised article as a .docx.
fn reply_with_document(id: &str, from: &str, in_reply_to: &str) -> String {
    let docx = include_bytes!("fixtures/documents/article.docx");
    let encoded = base64_lines(docx);
    format!(
        "From: {from}\nTo: submissions@example.org\nSubject: Re: revised\n\
         Date: Sat, 05 Dec 2026 10:00:00 +0800\nMessage-ID: <{id}>\nIn-Reply-To: {in_reply_to}\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n\
         --b1\nContent-Type: text/plain; charset=utf-8\n\n附上修改稿，请查收。\n\
         --b1\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\n\
         Content-Disposition: attachment; filename*=UTF-8''%E4%BF%AE%E6%94%B9%E7%A8%BF.docx\n\
         Content-Transfer-Encoding: base64\n\n{encoded}\n--b1--\n"
    )
}

/// Base64 in lines of 76, as mail carries it.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = support::api_server::b64(bytes);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    lines.join("\n")
}

fn reference(draft: &Value) -> String {
    draft["reference"].as_str().unwrap().to_string()
}

/// The acknowledgement sent for `reference`.
fn ack_of(env: &Env, reference: &str) -> Sent {
    env.sent()
        .into_iter()
        .find(|s| s.message_id.starts_with(&format!("ack.{reference}.")))
        .unwrap_or_else(|| panic!("no acknowledgement of {reference}: {:?}", env.sent()))
}

/// 李明's poem, submitted and acknowledged: its reference and the ack.
fn submitted(env: &Env) -> (String, Sent) {
    env.deliver(
        "1.a",
        &mail("sub@x", "李明 <li.ming@example.org>", "", "秋", POEM),
    );
    env.run(&["run", "--once"]);
    let draft = reference(&env.drafts()[0]);
    let ack = ack_of(env, &draft);
    (draft, ack)
}

#[test]
fn a_stranger_quoting_a_reference_or_guessing_a_tag_gets_a_draft_of_their_own() {
    let env = Env::new("");
    env.deliver(
        "1.a",
        &mail("first@x", "李明 <li.ming@example.org>", "", "秋", POEM),
    );
    env.run(&["run", "--once"]);
    let original = reference(&env.drafts()[0]);
    let quoting = format!("新投稿：仿作 {original} 之秋");
    env.deliver(
        "2.a",
        &mail("second@x", "stranger@example.org", "", &quoting, POEM),
    );
    let guessed =
        format!("In-Reply-To: <ack.{original}.0123456789abcdef0123456789abcdef@example.org>\n");
    env.deliver(
        "3.a",
        &mail("third@x", "other@example.org", &guessed, "Re: 秋", POEM),
    );
    env.run(&["run", "--once"]);

    let drafts = env.drafts();
    assert_eq!(drafts.len(), 3, "each stranger is a new submission");
    assert_eq!(env.sent().len(), 3, "and each is acknowledged");
    assert!(
        env.draft(&original)["thread"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The draft's own sender quoting the reference is a follow-up.
    let own = format!("Re: 来稿已收到 {original}");
    env.deliver(
        "4.a",
        &mail("fourth@x", "li.ming@example.org", "", &own, "还有一首。"),
    );
    env.run(&["run", "--once"]);
    assert_eq!(env.drafts().len(), 3);
    assert_eq!(env.draft(&original)["thread"].as_array().unwrap().len(), 1);
}

#[test]
fn a_reply_with_a_revised_document_joins_the_thread_as_version_2() {
    let env = Env::new("");
    let (draft, ack) = submitted(&env);
    // From another address of the contributor: our tag, not the sender,
    // ties it to the draft.
    let reply = reply_with_document(
        "reply@x",
        "li.ming@home.example.org",
        &format!("<{}>", ack.message_id),
    );
    env.deliver("2.a", &reply);
    env.run(&["run", "--once"]);
    // The same reply once more (a second copy), or its Message-ID again
    // in other bytes, changes nothing.
    env.deliver("3.a", &reply);
    env.deliver("4.a", &format!("X-Copy: 2\n{reply}"));
    env.run(&["run", "--once"]);

    assert_eq!(env.drafts().len(), 1, "no new draft");
    assert_eq!(env.sent().len(), 1, "no acknowledgement of the reply");
    let shown = env.draft(&draft);
    assert_eq!(shown["unseen_mail"], true, "{shown}");
    let thread = shown["thread"].as_array().unwrap();
    assert_eq!(thread.len(), 1, "{shown}");
    let mail = &thread[0];
    assert_eq!(mail["number"], 1);
    assert_eq!(mail["intent"], "reply");
    assert_eq!(mail["article_version"], 2);
    assert_eq!(
        mail["body_text"].as_str().unwrap().trim(),
        "附上修改稿，请查收。"
    );
    let attachment = &mail["attachments"][0];
    assert_eq!(attachment["filename"], "修改稿.docx");
    // The golden text, after its `title:` line.
    let golden = include_str!("fixtures/documents/article.docx.txt");
    let (_, expected) = golden.split_once("\n\n").unwrap();
    assert_eq!(
        attachment["article_text"].as_str().unwrap().trim(),
        expected.trim()
    );

    // Words only the revision has find the draft.
    let found = env.run(&["drafts", "list", "--search", "迅速研究部署", "--json"]);
    let found: Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    // The queue shows it among drafts with new mail.
    let listed = env.run(&["drafts", "list", "--new-mail", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Its exact bytes and its attachment come back as they arrived.
    let raw = env.run(&["drafts", "raw", &draft, "--mail", "1"]).stdout;
    assert_eq!(raw, reply.replace('\n', "\r\n").into_bytes());
    let out = env.dir.path().join("revised.docx");
    env.run(&[
        "drafts",
        "attachment",
        &draft,
        "0",
        "--mail",
        "1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        include_bytes!("fixtures/documents/article.docx")
    );
    // Both versions are in the export, and reparse rebuilds the thread.
    let markdown = String::from_utf8(
        env.run(&["drafts", "export", &draft, "--format", "md"])
            .stdout,
    )
    .unwrap();
    assert!(
        markdown.contains("第 2 版 Version 2: 修改稿.docx"),
        "{markdown}"
    );
    env.run(&["reparse"]);
    assert_eq!(env.draft(&draft)["thread"], shown["thread"]);
}

#[test]
fn status_requests_are_answered_once_a_day_in_the_contributors_script() {
    let env = Env::new("");
    env.deliver_bytes("1.a", include_bytes!("fixtures/messages/big5_hkscs.eml"));
    env.run(&["run", "--once"]);
    let draft = reference(&env.drafts()[0]);
    let ack = ack_of(&env, &draft);
    assert!(
        ack.subject.starts_with("來稿已收到：〈"),
        "Big5 gets zh-Hant: {}",
        ack.subject
    );
    let asks = |id: &str, subject: &str, body: &str| {
        let headers = format!("In-Reply-To: <{}>\n", ack.message_id);
        mail(id, "chan@example.com", &headers, subject, body)
    };
    env.deliver(
        "2.a",
        &asks("ask1@x", "Re: 查詢進度", "請問稿件審閱進度如何？"),
    );
    env.run(&["run", "--once"]);
    env.deliver(
        "3.a",
        &asks("ask2@x", "Re: 來稿已收到", "查詢：還在審閱嗎？"),
    );
    env.run(&["run", "--once"]);

    let sent = env.sent();
    let answers: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.message_id.starts_with("letter."))
        .collect();
    assert_eq!(answers.len(), 1, "one answer a day: {sent:?}");
    let answer = answers[0];
    assert!(
        answer.subject.starts_with("稿件處理進度：〈"),
        "{}",
        answer.subject
    );
    assert!(answer.subject.contains(&draft));
    assert!(answer.text.contains("目前正在審閱中。"), "{}", answer.text);
    assert!(
        answer.text.contains("2020年3月3日 10:15（北京時間）"),
        "{}",
        answer.text
    );
    assert_eq!(
        answer.in_reply_to.as_deref(),
        Some("big5-hkscs@example.com")
    );
    assert_eq!(answer.to, "chan@example.com");
    let shown = env.draft(&draft);
    let intents: Vec<&str> = shown["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["intent"].as_str().unwrap())
        .collect();
    assert_eq!(intents, ["status", "status"]);
    assert_eq!(shown["letters"][0]["kind"], "status");
    assert_eq!(shown["letters"][0]["state"], "sent");
    // A status request found in an archive being imported is history, not
    // a question to answer now.
    let archive = env.dir.path().join("archive");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(archive.join(sub)).unwrap();
    }
    let old_question = asks("ask0@x", "查詢", "請問進度。").replace('\n', "\r\n");
    std::fs::write(archive.join("cur/1.a:2,S"), old_question).unwrap();
    env.run(&["import", "maildir", archive.to_str().unwrap()]);
    assert_eq!(env.draft(&draft)["thread"].as_array().unwrap().len(), 3);
    assert_eq!(env.sent().len(), 2, "still one answer");
    // Received in 2020 and never decided: long overdue.
    let overdue = env.run(&["drafts", "list", "--overdue", "--json"]);
    let overdue: Value = serde_json::from_slice(&overdue.stdout).unwrap();
    assert_eq!(overdue.as_array().unwrap().len(), 1);
}

#[test]
fn a_withdrawal_request_reaches_the_editors_who_confirm_it() {
    let env = Env::new("");
    let (draft, ack) = submitted(&env);
    let headers = format!("In-Reply-To: <{}>\n", ack.message_id);
    env.deliver(
        "2.a",
        &mail(
            "w@x",
            "li.ming@example.org",
            &headers,
            "撤稿",
            "我想撤回这篇稿件。",
        ),
    );
    env.run(&["run", "--once"]);
    assert_eq!(env.draft(&draft)["status"], "withdrawal_requested");
    assert_eq!(
        env.sent().len(),
        1,
        "nothing is sent before the editors confirm"
    );

    env.run(&["editors", "add", "li"]);
    env.transition(&draft, "withdrawn", "li", &[]);
    env.run(&["run", "--once"]);
    let sent = env.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let confirmation = sent
        .iter()
        .find(|s| s.message_id.starts_with("letter."))
        .unwrap();
    assert!(
        confirmation.subject.starts_with("撤稿确认：〈秋〉"),
        "{}",
        confirmation.subject
    );
    let history = String::from_utf8(env.run(&["drafts", "show", &draft]).stdout).unwrap();
    assert!(history.contains("withdrawal_requested"), "{history}");
    assert_eq!(env.draft(&draft)["status"], "withdrawn");
}

#[test]
fn decisions_write_to_the_contributor_exactly_once_as_the_editors_left_the_letter() {
    let env = Env::new("");
    for (n, who) in ["a", "b", "c", "d"].iter().enumerate() {
        env.deliver(
            &format!("{n}.a"),
            &mail(
                &format!("{who}@x"),
                &format!("{who}@example.org"),
                "",
                &format!("诗{n}"),
                POEM,
            ),
        );
    }
    env.deliver(
        "9.a",
        &mail(
            "auto@x",
            "e@example.org",
            "Auto-Submitted: auto-replied\n",
            "Out of office",
            POEM,
        ),
    );
    env.run(&["run", "--once"]);
    env.run(&["editors", "add", "li"]);
    env.run(&["editors", "add", "wang", "--role", "signer"]);
    let by_sender = |who: &str| {
        let drafts = env.drafts();
        reference(
            drafts
                .iter()
                .find(|d| d["from"]["address"] == format!("{who}@example.org"))
                .unwrap(),
        )
    };
    let (a, b, c, d, e) = (
        by_sender("a"),
        by_sender("b"),
        by_sender("c"),
        by_sender("d"),
        by_sender("e"),
    );
    assert_eq!(
        env.sent().len(),
        4,
        "four acknowledgements, none to the robot"
    );

    // a: the editor writes the acceptance with 送簽; the signer's decision sends it.
    let letter = env.dir.path().join("letter.txt");
    std::fs::write(
        &letter,
        "Subject: 录用通知：〈诗0〉\n\n李先生：\n\n大作决定录用，下期刊出。\n",
    )
    .unwrap();
    env.transition(&a, "claimed", "li", &[]);
    env.transition(
        &a,
        "sent_for_signoff",
        "li",
        &["--letter-file", letter.to_str().unwrap()],
    );
    assert_eq!(env.draft(&a)["letters"][0]["state"], "held");
    env.transition(&a, "signed_off", "wang", &[]);
    // b: declined with a note into the template's letter.
    env.transition(
        &b,
        "rejected",
        "li",
        &["--note-to-author", "篇幅过长，与本期主题不合。"],
    );
    // c: a revision is asked for; the contributor's reply brings it back.
    env.transition(&c, "claimed", "li", &[]);
    env.transition(
        &c,
        "revision_requested",
        "li",
        &["--note-to-author", "请压缩到两千字。"],
    );
    // d: decided without a letter, on purpose.
    env.transition(&d, "rejected", "li", &["--no-letter"]);
    // e: a robot's mail is rejected; no letter goes to it.
    env.transition(&e, "rejected", "li", &[]);
    env.run(&["run", "--once"]);
    env.run(&["run", "--once"]);

    let sent = env.sent();
    let letters: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.message_id.starts_with("letter."))
        .collect();
    assert_eq!(letters.len(), 3, "{letters:?}");
    let to = |who: &str| {
        letters
            .iter()
            .find(|l| l.to == format!("{who}@example.org"))
            .copied()
            .unwrap()
    };
    assert_eq!(to("a").subject, "录用通知：〈诗0〉");
    assert!(
        to("a").text.contains("大作决定录用，下期刊出。"),
        "{}",
        to("a").text
    );
    assert_eq!(to("a").in_reply_to.as_deref(), Some("a@x"));
    assert!(
        to("b").subject.starts_with("审稿结果：〈诗1〉"),
        "{}",
        to("b").subject
    );
    assert!(
        to("b").text.contains("篇幅过长，与本期主题不合。"),
        "{}",
        to("b").text
    );
    assert!(
        to("c").subject.starts_with("修改意见：〈诗2〉"),
        "{}",
        to("c").subject
    );
    assert!(
        to("c").text.contains("请压缩到两千字。"),
        "{}",
        to("c").text
    );
    for letter in &letters {
        for jargon in ["送签", "签发", "{", "}"] {
            assert!(!letter.text.contains(jargon), "{jargon} in {}", letter.text);
        }
    }
    let d_history = String::from_utf8(env.run(&["drafts", "show", &d]).stdout).unwrap();
    assert!(d_history.contains("\"letter\":\"none\""), "{d_history}");
    assert_eq!(env.draft(&e)["letters"][0]["state"], "suppressed");

    // The revision comes back: the draft is in the queue again.
    let revise = to("c");
    let headers = format!("In-Reply-To: <{}>\n", revise.message_id);
    env.deliver(
        "10.a",
        &mail(
            "c2@x",
            "c@example.org",
            &headers,
            "Re: 修改意见",
            "修改稿如下。",
        ),
    );
    env.run(&["run", "--once"]);
    assert_eq!(env.draft(&c)["status"], "new");
    assert_eq!(env.sent().len(), 7, "nothing is sent twice");
}

#[test]
fn a_forged_sender_quoting_a_reference_acts_for_nobody() {
    let env = Env::new("");
    env.deliver(
        "1.a",
        &mail("sub@x", "李明 <li.ming@example.org>", "", "秋", POEM),
    );
    env.run(&["run", "--once"]);
    let draft = reference(&env.drafts()[0]);
    // The contributor's address, but the receiving server says it is forged.
    let forged = "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=example.org; dmarc=fail header.from=example.org\n";
    let subject = format!("撤稿 {draft}");
    env.deliver(
        "2.a",
        &mail(
            "forged@x",
            "li.ming@example.org",
            forged,
            &subject,
            "撤回。",
        ),
    );
    env.run(&["run", "--once"]);
    assert_eq!(env.draft(&draft)["status"], "new", "nothing was withdrawn");
    assert_eq!(env.drafts().len(), 2, "the forgery is a record of its own");
}
