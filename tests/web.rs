//! The editors' web page end to end in headless Chromium over WebDriver:
//! an editor logs in, claims a draft, downloads its attachment and sends it
//! for sign-off; a signer logs in and signs it off.

use std::time::Duration;

use fantoccini::Locator;
use slushpile::workflow::Role;

mod support;

use support::api_server::{ApiServer, submission};
use support::browser::Browser;
use support::editor_page::{WAIT, click, log_in, screenshot, switch_to, wait_for_text};

/// Waits for the draft page to show `expected` as its status.
async fn wait_for_status(browser: &Browser, expected: &str) {
    wait_for_text(browser, "#status", |text| text == expected).await;
}

#[tokio::test]
async fn an_editor_claims_downloads_and_sends_for_signoff_and_a_signer_signs_off() {
    let server = ApiServer::start("2h").await;
    let editor_token = server.add_editor("li", Role::Editor).await;
    let signer_token = server.add_editor("wang", Role::Signer).await;
    let manuscript = "《雨夜》\n那天夜里下著雨。".as_bytes();
    let reference = server
        .ingest(&submission(
            1,
            "投稿:雨夜",
            "編輯您好,附件是我的短篇小說。",
            Some(("雨夜 定稿.txt", manuscript)),
        ))
        .await;
    server
        .ingest(&submission(2, "投稿:冬至", "第二篇", None))
        .await;

    let browser = Browser::start().await;
    log_in(&browser, &server, &editor_token).await;
    let queue = browser.client.source().await.unwrap();
    assert!(
        queue.contains("稿件隊列") && queue.contains(&reference),
        "{queue}"
    );

    // Claim the oldest draft: with one claimed, the page opens it.
    click(&browser, Locator::Id("claim-next")).await;
    wait_for_status(&browser, "編輯中").await;
    let url = browser.client.current_url().await.unwrap();
    assert!(url.path().ends_with(&reference), "{url}");
    let page = browser.client.source().await.unwrap();
    assert!(page.contains("編輯您好"), "the submission's text: {page}");

    // Download the attachment: its Chinese name and bytes arrive intact.
    click(&browser, Locator::Css("a.attachment")).await;
    let file = browser.wait_for_download(Duration::from_secs(20)).await;
    assert_eq!(file.file_name().unwrap().to_str().unwrap(), "雨夜 定稿.txt");
    assert_eq!(std::fs::read(&file).unwrap(), manuscript);

    // Send it for sign-off with a note.
    let note = browser.wait_for_element(Locator::Id("note"), WAIT).await;
    note.send_keys("請審閱").await.unwrap();
    click(&browser, Locator::Id("to-sent_for_signoff")).await;
    wait_for_status(&browser, "送簽").await;
    // An editor is not offered what only a signer may do.
    let offered = browser
        .client
        .find_all(Locator::Css("#actions button"))
        .await
        .unwrap();
    assert!(
        offered.is_empty(),
        "an editor can do nothing with a draft sent for sign-off"
    );

    // Log out; the signer signs it off.
    switch_to(&browser, &server, &signer_token).await;
    browser
        .client
        .goto(&server.url(&format!("/drafts/{reference}")))
        .await
        .unwrap();
    click(&browser, Locator::Id("to-signed_off")).await;
    wait_for_status(&browser, "簽發").await;

    let history = browser.client.source().await.unwrap();
    for (kind, actor) in [
        ("claimed", "li"),
        ("sent_for_signoff", "li"),
        ("signed_off", "wang"),
    ] {
        assert!(
            history.contains(&format!("data-kind=\"{kind}\" data-actor=\"{actor}\"")),
            "{kind} by {actor} in the history: {history}"
        );
    }
    let key: slushpile::store::DraftKey = reference.parse().unwrap();
    let draft = server.store.draft(&key).await.unwrap().unwrap();
    assert_eq!(draft.status.as_str(), "signed_off");
    browser.close().await;
}

#[tokio::test]
async fn the_thread_new_mail_and_the_letter_travel_from_editor_to_signer() {
    let server = ApiServer::start_with_letters("2h").await;
    let editor_token = server.add_editor("li", Role::Editor).await;
    let signer_token = server.add_editor("wang", Role::Signer).await;
    let reference = server
        .ingest(&submission(
            1,
            "投稿：雨夜",
            "編輯您好，附件是我的短篇小說〈雨夜〉，請審閱。",
            Some(("雨夜.txt", "那天夜裡下著雨。".as_bytes())),
        ))
        .await;
    // The same writer again, quoting the reference, with a revision.
    let reply = submission(
        1,
        &format!("Re: 來稿已收到（{reference}）"),
        "這是修改後的版本，請以此為準。",
        Some(("雨夜 修改稿.txt", "那天夜裡下著大雨。".as_bytes())),
    );
    let reply = String::from_utf8(reply)
        .unwrap()
        .replace("<api-1@", "<reply-1@");
    server.ingest_outcome(reply.as_bytes()).await;

    let browser = Browser::start().await;
    browser.client.set_window_size(1280, 1600).await.unwrap();
    log_in(&browser, &server, &editor_token).await;
    let queue = browser.client.source().await.unwrap();
    assert!(
        queue.contains("有新來信"),
        "the queue flags new mail: {queue}"
    );
    screenshot(&browser, "queue-new-mail").await;

    click(&browser, Locator::Id("claim-next")).await;
    wait_for_status(&browser, "編輯中").await;
    let page = browser.client.source().await.unwrap();
    assert!(
        page.contains("作者來信") && page.contains("這是修改後的版本"),
        "the thread: {page}"
    );
    assert!(page.contains("雨夜 修改稿.txt"), "its attachment: {page}");
    // The acceptance letter the editor proposes, from the template in the
    // contributor's script, ready to edit.
    let letter = browser
        .wait_for_element(
            Locator::Css("#decide-sent_for_signoff textarea[name=letter_body]"),
            WAIT,
        )
        .await;
    let proposed = letter.prop("value").await.unwrap().unwrap_or_default();
    assert!(proposed.contains("決定錄用"), "{proposed}");
    screenshot(&browser, "draft-letter").await;
    browser
        .client
        .execute(
            "document.getElementById('thread-title').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&browser, "draft-thread").await;
    letter.clear().await.unwrap();
    letter
        .send_keys("Writer 1您好：\n\n大作〈雨夜〉決定錄用，擬刊於下期。\n\n《旗幟》編輯部")
        .await
        .unwrap();
    click(&browser, Locator::Id("to-sent_for_signoff")).await;
    wait_for_status(&browser, "送簽").await;

    // Opening the draft was reading its mail.
    let key: slushpile::store::DraftKey = reference.parse().unwrap();
    let draft = server.store.draft(&key).await.unwrap().unwrap();
    assert!(!draft.unseen_mail);

    switch_to(&browser, &server, &signer_token).await;
    browser
        .client
        .goto(&server.url(&format!("/drafts/{reference}")))
        .await
        .unwrap();
    // The signer reads the editor's letter beside the sign-off button.
    let letter = browser
        .wait_for_element(
            Locator::Css("#decide-signed_off textarea[name=letter_body]"),
            WAIT,
        )
        .await;
    let shown = letter.prop("value").await.unwrap().unwrap_or_default();
    assert!(shown.contains("擬刊於下期"), "{shown}");
    screenshot(&browser, "signer-sees-the-letter").await;
    click(&browser, Locator::Id("to-signed_off")).await;
    wait_for_status(&browser, "簽發").await;
    screenshot(&browser, "signed-off-letter-queued").await;

    let draft = server.store.draft(&key).await.unwrap().unwrap();
    let sent: Vec<_> = draft
        .letters
        .iter()
        .filter(|l| l.state == "pending")
        .collect();
    assert_eq!(sent.len(), 1, "{:?}", draft.letters);
    assert_eq!(sent[0].kind, slushpile::draft::LetterKind::Accept);
    assert!(sent[0].body.as_deref().unwrap_or("").contains("擬刊於下期"));
    let page = browser.client.source().await.unwrap();
    assert!(
        page.contains("錄用通知") && page.contains("待寄出"),
        "{page}"
    );

    // The same draft in Simplified Chinese and in English.
    for (code, thread, letter) in [
        ("zh-Hans", "作者来信", "录用通知"),
        ("en", "Contributor's mail", "acceptance"),
    ] {
        browser
            .client
            .goto(&server.url(&format!("/lang/{code}")))
            .await
            .unwrap();
        browser
            .client
            .goto(&server.url(&format!("/drafts/{reference}")))
            .await
            .unwrap();
        browser.wait_for_element(Locator::Id("thread"), WAIT).await;
        let page = browser.client.source().await.unwrap();
        assert!(
            page.contains(thread) && page.contains(letter),
            "{code}: {page}"
        );
        screenshot(&browser, &format!("draft-{code}")).await;
    }
    browser.close().await;
}
