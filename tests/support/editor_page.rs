//! Steps on the editors' web page shared by the Chromium tests.

use std::time::Duration;

use fantoccini::Locator;

use super::api_server::ApiServer;
use super::browser::Browser;

pub const WAIT: Duration = Duration::from_secs(10);

pub async fn log_in(browser: &Browser, server: &ApiServer, token: &str) {
    browser.client.goto(&server.url("/login")).await.unwrap();
    let field = browser.wait_for_element(Locator::Id("token"), WAIT).await;
    field.send_keys(token).await.unwrap();
    click(browser, Locator::Id("login")).await;
    // The queue, once the redirect after logging in was followed.
    browser
        .wait_for_element(Locator::Id("claim-next"), WAIT)
        .await;
}

/// Logs out, then in with another token.
pub async fn switch_to(browser: &Browser, server: &ApiServer, token: &str) {
    browser.client.goto(&server.url("/queue")).await.unwrap();
    click(browser, Locator::Css("form[action='/logout'] button")).await;
    browser.wait_for_element(Locator::Id("token"), WAIT).await;
    log_in(browser, server, token).await;
}

pub async fn click(browser: &Browser, locator: Locator<'_>) {
    let element = browser.wait_for_element(locator, WAIT).await;
    element.click().await.unwrap();
}

/// Waits until the text of the element `css` satisfies `done` (a click on
/// a link or form returns before the browser has loaded the next page);
/// returns that text.
pub async fn wait_for_text(browser: &Browser, css: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut seen = String::new();
    while tokio::time::Instant::now() < deadline {
        if let Ok(element) = browser.client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if done(&text) {
                return text;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never showed what was expected; last seen {seen:?}");
}

/// A page as the editor sees it, kept when SLUSHPILE_SCREENSHOTS names a
/// directory (for looking at the pages, not for asserting on pixels).
pub async fn screenshot(browser: &Browser, name: &str) {
    if let Some(dir) = std::env::var_os("SLUSHPILE_SCREENSHOTS") {
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}
