//! The editors' web page end to end in headless Chromium over WebDriver:
//! an editor logs in, claims a draft, downloads its attachment and sends it
//! for sign-off; a signer logs in and signs it off.

use std::time::Duration;

use fantoccini::Locator;
use slushpile::workflow::Role;

mod support;

use support::api_server::{ApiServer, submission};
use support::browser::Browser;

const WAIT: Duration = Duration::from_secs(10);

async fn log_in(browser: &Browser, server: &ApiServer, token: &str) {
    browser.client.goto(&server.url("/login")).await.unwrap();
    let field = browser.wait_for_element(Locator::Id("token"), WAIT).await;
    field.send_keys(token).await.unwrap();
    click(browser, Locator::Id("login")).await;
    // The queue, once the redirect after logging in was followed.
    browser
        .wait_for_element(Locator::Id("claim-next"), WAIT)
        .await;
}

async fn click(browser: &Browser, locator: Locator<'_>) {
    let element = browser.wait_for_element(locator, WAIT).await;
    element.click().await.unwrap();
}

/// Waits for the draft page to show `expected` as its status: a click on a
/// form button returns before the browser has followed the redirect, and
/// the old page's elements go stale under the test.
async fn wait_for_status(browser: &Browser, expected: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    while tokio::time::Instant::now() < deadline {
        if let Ok(element) = browser.client.find(Locator::Id("status")).await
            && let Ok(text) = element.text().await
        {
            if text == expected {
                return;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the draft page never showed status {expected:?}; last seen {seen:?}");
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
    browser.client.goto(&server.url("/queue")).await.unwrap();
    click(&browser, Locator::Css("form[action='/logout'] button")).await;
    browser.wait_for_element(Locator::Id("token"), WAIT).await;
    log_in(&browser, &server, &signer_token).await;
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
            history.contains(&format!("<td>{actor}</td><td>{kind}</td>")),
            "{kind} by {actor} in the history: {history}"
        );
    }
    let key: slushpile::store::DraftKey = reference.parse().unwrap();
    let draft = server.store.draft(&key).await.unwrap().unwrap();
    assert_eq!(draft.status.as_str(), "signed_off");
    browser.close().await;
}
