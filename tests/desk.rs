//! The editors' desk at the size of a real magazine's queue: 500 drafts
//! (people's submissions and automated mail), three editors, claims and
//! decisions. The API's views are checked against the store's own list;
//! the page is driven in headless Chromium in Traditional Chinese and
//! English (screenshots kept when SLUSHPILE_SCREENSHOTS names a directory).

use std::cmp::Reverse;

use chrono::Datelike;
use std::time::Duration;

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::Value;
use slushpile::draft::{DraftStatus, DraftView};
use slushpile::store::{DraftFilter, DraftKey, LetterPlan};
use slushpile::workflow::{Actor, Role};

mod support;

use support::api_server::{ApiServer, b64};
use support::browser::Browser;
use support::editor_page::{click, log_in, screenshot, switch_to, wait_for_text};

const DRAFTS: usize = 500;
/// Every 25th message is an auto-reply.
const AUTOMATED_EVERY: usize = 25;

/// Message `n`: a submission of varying length, date and kind, or an
/// out-of-office reply.
fn desk_mail(n: usize) -> Vec<u8> {
    let day = n % 61;
    let (month, day) = if day < 31 {
        ("Oct", day + 1)
    } else {
        ("Nov", day - 30)
    };
    let date = format!("{day} {month} 2026 {:02}:{:02}:00 +0800", n % 24, n % 60);
    let (subject, extra, body) = if n % AUTOMATED_EVERY == AUTOMATED_EVERY - 1 {
        (
            format!("自動回覆：休假中（{n}）"),
            "Auto-Submitted: auto-replied\r\n",
            "我正在休假，十二月回來後再回覆。".to_string(),
        )
    } else {
        let kind = ["散文", "小說", "詩歌", "評論"][n % 4];
        let line = "春風又綠江南岸，明月何時照我還。\n";
        (
            format!("投稿：{kind}第{n}號"),
            "",
            format!("編輯您好：\n\n{}", line.repeat(1 + n * 37 % 97)),
        )
    };
    format!(
        "From: Writer {n} <writer{n}@example.org>\r\nTo: submissions@example.org\r\n\
         Subject: =?UTF-8?B?{}?=\r\nDate: {date}\r\nMessage-ID: <desk-{n}@mail.example.org>\r\n\
         {extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(subject.as_bytes()),
        b64(body.as_bytes())
    )
    .into_bytes()
}

struct Desk {
    server: ApiServer,
    /// Editor li's token; li holds 30 drafts after rejecting some.
    li: String,
    /// Editor zhao's token.
    zhao: String,
    /// Signer wang's token.
    wang: String,
}

/// 500 drafts; li claims 40 and rejects 10 of them and sends 5 for
/// sign-off, zhao claims 20, signer wang signs off 3.
async fn desk() -> Desk {
    let server = ApiServer::start("2h").await;
    let li = server.add_editor("li", Role::Editor).await;
    let zhao = server.add_editor("zhao", Role::Editor).await;
    let wang = server.add_editor("wang", Role::Signer).await;
    let mail: Vec<Vec<u8>> = (0..DRAFTS).map(desk_mail).collect();
    server.ingest_all(&mail).await;

    let store = &server.store;
    let now = chrono::Utc::now();
    let lease = Duration::from_secs(7200);
    let actor = |name: &str, role| Actor {
        name: name.into(),
        role,
    };
    let (li_a, zhao_a, wang_a) = (
        actor("li", Role::Editor),
        actor("zhao", Role::Editor),
        actor("wang", Role::Signer),
    );
    let held = store.claim(&li_a, 40, lease, now).await.unwrap();
    store.claim(&zhao_a, 20, lease, now).await.unwrap();
    let plan = LetterPlan::default();
    for (drafts, to, who) in [
        (&held[..10], DraftStatus::Rejected, &li_a),
        (&held[10..15], DraftStatus::SentForSignoff, &li_a),
        (&held[10..13], DraftStatus::SignedOff, &wang_a),
    ] {
        for d in drafts {
            let key = DraftKey::Reference(d.reference.clone());
            store
                .transition(&key, to, who, None, &plan, lease, now)
                .await
                .unwrap();
        }
    }
    Desk {
        server,
        li,
        zhao,
        wang,
    }
}

async fn everything(desk: &Desk) -> Vec<DraftView> {
    let all = desk
        .server
        .store
        .list_drafts(&DraftFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), DRAFTS);
    all
}

struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn get(&self, url: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

fn references(page: &Value) -> Vec<String> {
    page["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reference"].as_str().unwrap().to_string())
        .collect()
}

fn rank(status: DraftStatus) -> usize {
    DraftStatus::ALL.iter().position(|s| *s == status).unwrap()
}

#[tokio::test]
async fn every_view_sorts_pages_and_counts_as_the_store_holds_the_drafts() {
    let desk = desk().await;
    let all = everything(&desk).await;
    let li = Client {
        http: reqwest::Client::new(),
        token: desk.li.clone(),
    };
    let url = |query: &str| desk.server.url(&format!("/api/v1/drafts?{query}"));

    // Each column both ways, walked by page numbers, is the whole list in
    // the order the column says (ties by id, the same way).
    type Key = Box<dyn Fn(&DraftView) -> String>;
    let columns: Vec<(&str, Key)> = vec![
        (
            "received",
            Box::new(|d| pad(d.received_at.timestamp_micros())),
        ),
        ("title", Box::new(|d| d.title.clone())),
        (
            "sender",
            Box::new(|d| d.from.as_ref().map_or(String::new(), |a| a.address.clone())),
        ),
        ("length", Box::new(|d| pad(d.length_chars as i64))),
    ];
    for (name, key) in &columns {
        for descending in [false, true] {
            let mut expected: Vec<&DraftView> = all.iter().collect();
            expected.sort_by_key(|d| (key(d), d.id));
            if descending {
                expected.reverse();
            }
            let order = if descending { "desc" } else { "asc" };
            let walked = walk(&li, &url(&format!("sort={name}&order={order}&limit=40"))).await;
            let expected: Vec<String> = expected.iter().map(|d| d.reference.clone()).collect();
            assert_eq!(walked, expected, "sort={name}&order={order}");
        }
    }
    // Status goes by the workflow; waiting is time in the current status,
    // the shortest first.
    let mut by_status: Vec<&DraftView> = all.iter().collect();
    by_status.sort_by_key(|d| Reverse((rank(d.status), d.id)));
    let walked = walk(&li, &url("sort=status&order=desc&limit=40")).await;
    let expected: Vec<String> = by_status.iter().map(|d| d.reference.clone()).collect();
    assert_eq!(walked, expected, "sort=status&order=desc");
    let mut by_wait: Vec<&DraftView> = all.iter().collect();
    by_wait.sort_by_key(|d| Reverse((d.status_changed_at, d.id)));
    let walked = walk(&li, &url("sort=waiting&limit=40")).await;
    let expected: Vec<String> = by_wait.iter().map(|d| d.reference.clone()).collect();
    assert_eq!(walked, expected, "sort=waiting");

    // The open work of people's mail, with the counts of every tab.
    let automated = all
        .iter()
        .filter(|d| d.classification != slushpile::message::Classification::Normal)
        .count();
    assert_eq!(automated, DRAFTS / AUTOMATED_EVERY);
    let (status, open) = li.get(&url("status=open&mail=people&limit=500")).await;
    assert_eq!(status, StatusCode::OK, "{open}");
    let expected: Vec<&DraftView> = all
        .iter()
        .filter(|d| {
            d.status.awaits_decision()
                && d.classification == slushpile::message::Classification::Normal
        })
        .collect();
    assert_eq!(open["total"], expected.len());
    assert_eq!(references(&open).len(), expected.len());
    for status in DraftStatus::ALL {
        let of = |automated: bool| {
            all.iter()
                .filter(|d| {
                    d.status == status
                        && (d.classification != slushpile::message::Classification::Normal)
                            == automated
                })
                .count()
        };
        let counted = &open["counts"][status.as_str()];
        assert_eq!(counted["people"], of(false), "{status:?}");
        assert_eq!(counted["automated"], of(true), "{status:?}");
    }
    assert_eq!(open["counts"]["rejected"]["people"], 10);
    assert_eq!(open["counts"]["signed_off"]["people"], 3);

    // Mine and unassigned.
    let (_, mine) = li.get(&url("holder=me&limit=500")).await;
    let li_holds = all
        .iter()
        .filter(|d| d.claimed_by.as_deref() == Some("li"))
        .count();
    assert_eq!(mine["total"], li_holds);
    assert!(
        mine["drafts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["claimed_by"] == "li")
    );
    let (_, zhao) = li.get(&url("holder=zhao")).await;
    assert_eq!(zhao["total"], 20);
    let (_, nobody) = li.get(&url("holder=nobody&status=new&mail=people")).await;
    let unclaimed = expected.iter().filter(|d| d.claimed_by.is_none()).count();
    assert_eq!(nobody["total"], unclaimed);
    let (_, auto) = li.get(&url("mail=automated")).await;
    assert_eq!(auto["total"], automated);

    // Past the last page is an empty page, not an error; a cursor cannot
    // continue another order.
    let (status, past) = li.get(&url("page=99")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(references(&past).len(), 0);
    assert_eq!(past["pages"], DRAFTS.div_ceil(50));
    let (status, body) = li.get(&url("sort=title&cursor=1.1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for bad in [
        "sort=size",
        "order=up",
        "page=0",
        "mail=robots",
        "status=opened",
    ] {
        let (status, body) = li.get(&url(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
    }
    let zhao = Client {
        http: reqwest::Client::new(),
        token: desk.zhao.clone(),
    };
    let (_, zhao_mine) = zhao.get(&url("holder=me")).await;
    assert_eq!(zhao_mine["total"], 20, "`me` is whoever asks");
}

/// Numbers that sort as text the way they sort as numbers.
fn pad(n: i64) -> String {
    format!("{n:020}")
}

/// Every draft of a view, page by page.
async fn walk(client: &Client, url: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for page in 1.. {
        let (status, body) = client.get(&format!("{url}&page={page}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        seen.extend(references(&body));
        if page >= body["pages"].as_u64().unwrap() {
            break;
        }
    }
    seen
}

/// The references the queue page lists, in order (read in one step: the
/// live update may replace the table between two WebDriver calls).
async fn rows(browser: &Browser) -> Vec<String> {
    let listed = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#drafts tbody tr'), r => r.dataset.reference)",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(listed).unwrap()
}

/// The page's own words (tabs, headings, page numbers) in Chinese: no
/// Latin letter among them.
async fn assert_no_latin(browser: &Browser) {
    for css in [
        "nav.tabs",
        "#drafts thead",
        "#summary",
        "#pager",
        "#filters",
    ] {
        for element in browser.client.find_all(Locator::Css(css)).await.unwrap() {
            let text = element.text().await.unwrap();
            assert!(
                !text.chars().any(|c| c.is_ascii_alphabetic()),
                "{css}: {text}"
            );
        }
    }
}

#[tokio::test]
async fn editors_work_the_queue_by_tab_column_and_page_in_chromium() {
    let desk = desk().await;
    let all = everything(&desk).await;
    let server = &desk.server;
    let people = |d: &&DraftView| d.classification == slushpile::message::Classification::Normal;
    let mut open: Vec<&DraftView> = all
        .iter()
        .filter(people)
        .filter(|d| d.status.awaits_decision())
        .collect();
    let pages = open.len().div_ceil(50);

    let browser = Browser::start().await;
    browser.client.set_window_size(1280, 1500).await.unwrap();
    log_in(&browser, server, &desk.li).await;

    // It opens on the open work of people's mail, oldest first, counted.
    let current = wait_for_text(&browser, "#status-tabs .current", |t| t.contains("待處理")).await;
    assert_eq!(current, format!("待處理 {}", open.len()));
    let summary = wait_for_text(&browser, "#summary", |t| t.starts_with("共")).await;
    assert_eq!(summary, format!("共 {} 篇，第 1／{pages} 頁", open.len()));
    let first: Vec<String> = open[..50].iter().map(|d| d.reference.clone()).collect();
    assert_eq!(rows(&browser).await, first);
    assert_no_latin(&browser).await;
    screenshot(&browser, "queue-zh-Hant").await;

    // 字數 twice: the longest first.
    click(&browser, Locator::Css("th a[data-sort=length]")).await;
    wait_for_text(&browser, "th[aria-sort=ascending]", |t| t.contains("字數")).await;
    click(&browser, Locator::Css("th a[data-sort=length]")).await;
    wait_for_text(&browser, "th[aria-sort=descending]", |t| t.contains("字數")).await;
    open.sort_by_key(|d| Reverse((d.length_chars, d.id)));
    let longest: Vec<String> = open[..50].iter().map(|d| d.reference.clone()).collect();
    assert_eq!(rows(&browser).await, longest);
    screenshot(&browser, "queue-by-length").await;

    // The next page, and the same page again from its address alone.
    click(&browser, Locator::Id("next")).await;
    wait_for_text(&browser, "#summary", |t| t.contains("第 2／")).await;
    let second: Vec<String> = open[50..100].iter().map(|d| d.reference.clone()).collect();
    assert_eq!(rows(&browser).await, second);
    let bookmark = browser.client.current_url().await.unwrap();
    browser.client.goto(server.base.as_str()).await.unwrap();
    browser.client.goto(bookmark.as_str()).await.unwrap();
    wait_for_text(&browser, "#summary", |t| t.contains("第 2／")).await;
    assert_eq!(rows(&browser).await, second, "{bookmark}");
    assert!(browser.client.find(Locator::Id("prev")).await.is_ok());
    screenshot(&browser, "queue-page-2").await;
    browser
        .client
        .execute("document.getElementById('pager').scrollIntoView()", vec![])
        .await
        .unwrap();
    screenshot(&browser, "queue-pager").await;

    // Automated mail has its own tab; none of it is claimed.
    click(
        &browser,
        Locator::Css("#mail-tabs a[href*='mail=automated']"),
    )
    .await;
    wait_for_text(&browser, "#mail-tabs .current", |t| t.contains("自動郵件")).await;
    let automated: Vec<String> = all
        .iter()
        .filter(|d| !people(d))
        .map(|d| d.reference.clone())
        .collect();
    let mut listed = rows(&browser).await;
    listed.sort();
    let mut expected = automated.clone();
    expected.sort();
    assert_eq!(listed, expected);
    screenshot(&browser, "queue-automated").await;

    // Mine: what li holds among the open work.
    browser.client.goto(&server.url("/queue")).await.unwrap();
    click(&browser, Locator::Css("#holder-tabs a[href*='holder=me']")).await;
    wait_for_text(&browser, "#holder-tabs .current", |t| t == "我的稿件").await;
    let mut mine: Vec<String> = open
        .iter()
        .filter(|d| d.claimed_by.as_deref() == Some("li"))
        .map(|d| d.reference.clone())
        .collect();
    let mut listed = rows(&browser).await;
    mine.sort();
    listed.sort();
    assert_eq!(listed, mine);
    screenshot(&browser, "queue-mine").await;

    // The same desk in English.
    browser.client.goto(&server.url("/lang/en")).await.unwrap();
    browser.client.goto(&server.url("/queue")).await.unwrap();
    let current = wait_for_text(&browser, "#status-tabs .current", |t| t.starts_with("Open")).await;
    assert_eq!(current, format!("Open {}", open.len()));
    let summary = wait_for_text(&browser, "#summary", |t| t.contains("page")).await;
    assert_eq!(summary, format!("{} drafts, page 1 of {pages}", open.len()));
    let head = browser
        .client
        .find(Locator::Css("#drafts thead"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        head.contains("Length") && head.contains("Waiting"),
        "{head}"
    );
    screenshot(&browser, "queue-en").await;

    // The statistics: figures beside their charts, in both languages.
    browser
        .client
        .goto(&server.url("/statistics"))
        .await
        .unwrap();
    let rate = wait_for_text(&browser, "#figure-acceptance-rate", |t| t.ends_with('%')).await;
    assert_eq!(rate, "23%", "3 signed off of 13 decided");
    let chart = browser
        .client
        .find(Locator::Css("#intake-chart title"))
        .await
        .unwrap()
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(chart.contains("Drafts received per week"), "{chart}");
    screenshot(&browser, "statistics-en").await;
    browser
        .client
        .goto(&server.url("/lang/zh-Hant"))
        .await
        .unwrap();
    browser
        .client
        .goto(&server.url("/statistics"))
        .await
        .unwrap();
    let time = wait_for_text(&browser, "#figure-decision-time", |t| t.contains("中位數")).await;
    assert!(time.contains("九成在"), "{time}");
    assert_no_latin(&browser).await;
    screenshot(&browser, "statistics-zh-Hant").await;
    browser.close().await;
}

async fn post(client: &Client, url: &str, body: Value) -> (StatusCode, Value) {
    let response = client
        .http
        .post(url)
        .bearer_auth(&client.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn drafts_are_assigned_renewed_taken_over_and_freed_with_who_and_why() {
    // Claims of three seconds: long enough to be refused a take-over,
    // short enough to wait out.
    let server = ApiServer::start("3s").await;
    let client = |token: String| Client {
        http: reqwest::Client::new(),
        token,
    };
    let li = client(server.add_editor("li", Role::Editor).await);
    let zhao = client(server.add_editor("zhao", Role::Editor).await);
    let wang = client(server.add_editor("wang", Role::Signer).await);
    server.ingest_all(&[desk_mail(1), desk_mail(2)]).await;
    let (_, claimed) = post(
        &li,
        &server.url("/api/v1/queue/claim"),
        serde_json::json!({"limit": 2}),
    )
    .await;
    let claimed = references(&claimed);
    let (first, second) = (&claimed[0], &claimed[1]);
    let hold = |reference: &str| server.url(&format!("/api/v1/drafts/{reference}/hold"));

    // zhao may not take li's live claim, nor hand it on.
    let (status, body) = post(
        &zhao,
        &hold(first),
        serde_json::json!({"action": "take_over"}),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::CONFLICT, &"still_held".into())
    );
    let (status, _) = post(
        &zhao,
        &hold(first),
        serde_json::json!({"action": "assign", "to": "zhao"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The signer hands it to zhao, saying why; zhao sees it as theirs.
    let (status, draft) = post(
        &wang,
        &hold(first),
        serde_json::json!({"action": "assign", "to": "zhao", "note": "你熟悉這位作者"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["claimed_by"], "zhao");
    let (_, mine) = zhao.get(&server.url("/api/v1/drafts?holder=me")).await;
    assert_eq!(references(&mine), vec![first.clone()]);
    // zhao renews it and passes it back to li.
    let renewed_from = draft["lease_until"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, draft) = post(&zhao, &hold(first), serde_json::json!({"action": "renew"})).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert!(draft["lease_until"].as_str().unwrap() > renewed_from.as_str());
    let (status, _) = post(
        &zhao,
        &hold(first),
        serde_json::json!({"action": "assign", "to": "li"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post(
        &wang,
        &hold(first),
        serde_json::json!({"action": "assign", "to": "nobody-here"}),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &"unknown_editor".into())
    );

    // li's claim on the second runs out: zhao takes it over.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (status, draft) = post(
        &zhao,
        &hold(second),
        serde_json::json!({"action": "take_over", "note": "li 休假"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["claimed_by"], "zhao");
    // And a signer frees a draft someone sits on.
    let release = server.url(&format!("/api/v1/drafts/{second}/release"));
    let (status, draft) = post(&wang, &release, serde_json::json!({"note": "重新分配"})).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(
        (&draft["status"], &draft["claimed_by"]),
        (&"new".into(), &Value::Null)
    );

    // Every change is in the history with who, from whom, to whom and why.
    let events = |reference: String| {
        let li = &li;
        let url = server.url(&format!("/api/v1/drafts/{reference}/events"));
        async move { li.get(&url).await.1["events"].as_array().unwrap().clone() }
    };
    let said: Vec<(String, String, Value, Value)> = events(first.clone())
        .await
        .iter()
        .filter(|e| ["assigned", "renewed"].contains(&e["kind"].as_str().unwrap()))
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                e["detail"]["to"].clone(),
                e["detail"]["note"].clone(),
            )
        })
        .collect();
    assert_eq!(
        said,
        vec![
            (
                "assigned".into(),
                "wang".into(),
                "zhao".into(),
                "你熟悉這位作者".into()
            ),
            ("renewed".into(), "zhao".into(), "zhao".into(), Value::Null),
            ("assigned".into(), "zhao".into(), "li".into(), Value::Null),
        ]
    );
    let second_events = events(second.clone()).await;
    let taken = second_events
        .iter()
        .find(|e| e["kind"] == "taken_over")
        .expect("the take-over is recorded");
    assert_eq!(
        (&taken["actor"], &taken["detail"]["from"]),
        (&"zhao".into(), &"li".into())
    );
    assert_eq!(taken["detail"]["note"], "li 休假");
    let freed = second_events.last().unwrap();
    assert_eq!(
        (&freed["kind"], &freed["actor"]),
        (&"released".into(), &"wang".into())
    );
}

#[tokio::test]
async fn a_signer_hands_a_draft_on_and_the_editor_finds_it_under_mine_in_chromium() {
    let desk = desk().await;
    let server = &desk.server;
    let all = everything(&desk).await;
    let held = all
        .iter()
        .find(|d| d.status == DraftStatus::Claimed && d.claimed_by.as_deref() == Some("li"))
        .unwrap();
    let page = server.url(&format!("/drafts/{}", held.reference));

    let browser = Browser::start().await;
    browser.client.set_window_size(1280, 1500).await.unwrap();
    log_in(&browser, server, &desk.wang).await;
    browser.client.goto(&page).await.unwrap();
    let assignee = browser
        .wait_for_element(Locator::Id("assignee"), support::editor_page::WAIT)
        .await;
    assignee.select_by_value("zhao").await.unwrap();
    browser
        .client
        .find(Locator::Css("#hold input[name=note]"))
        .await
        .unwrap()
        .send_keys("你熟悉這位作者")
        .await
        .unwrap();
    screenshot(&browser, "draft-assign").await;
    click(&browser, Locator::Id("hold-assign")).await;
    let history = wait_for_text(&browser, "#history", |t| t.contains("把此稿交給")).await;
    assert!(
        history.contains("wang 把此稿交給 zhao：你熟悉這位作者"),
        "{history}"
    );
    assert!(history.contains("li 認領"), "{history}");
    browser
        .client
        .execute(
            "document.getElementById('history').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&browser, "draft-assigned-history").await;

    // zhao finds it under 我的稿件, and may renew it.
    switch_to(&browser, server, &desk.zhao).await;
    click(&browser, Locator::Css("#holder-tabs a[href*='holder=me']")).await;
    wait_for_text(&browser, "#holder-tabs .current", |t| t == "我的稿件").await;
    assert!(rows(&browser).await.contains(&held.reference));
    browser.client.goto(&page).await.unwrap();
    click(&browser, Locator::Id("hold-renew")).await;
    wait_for_text(&browser, "#history", |t| t.contains("zhao 延長了認領")).await;

    // The discussion, and every version of 編者按, with who and when.
    let comment = browser
        .wait_for_element(Locator::Id("comment-text"), support::editor_page::WAIT)
        .await;
    comment.send_keys("結尾可再緊湊些").await.unwrap();
    click(&browser, Locator::Id("post-comment")).await;
    let said = wait_for_text(&browser, "#comments", |t| t.contains("結尾可再緊湊些")).await;
    assert!(said.starts_with("zhao · "), "{said}");
    for notes in ["擬刊一月號", "改刊二月號"] {
        let field = browser
            .wait_for_element(
                Locator::Css("#edit textarea[name=notes]"),
                support::editor_page::WAIT,
            )
            .await;
        field.clear().await.unwrap();
        field.send_keys(notes).await.unwrap();
        click(&browser, Locator::Css("#edit button")).await;
        wait_for_text(&browser, "#history", |t| t.contains(notes)).await;
    }
    let history = wait_for_text(&browser, "#history", |t| t.contains("改刊二月號")).await;
    assert!(
        history.contains("zhao 更新編者按：擬刊一月號")
            && history.contains("zhao 更新編者按：改刊二月號"),
        "{history}"
    );
    browser
        .client
        .execute(
            "document.getElementById('discussion').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&browser, "draft-discussion").await;

    // In English, the same history in English sentences.
    browser.client.goto(&server.url("/lang/en")).await.unwrap();
    browser.client.goto(&page).await.unwrap();
    let history = wait_for_text(&browser, "#history", |t| t.contains("assigned it to")).await;
    assert!(history.contains("wang assigned it to zhao"), "{history}");
    assert!(history.contains("zhao renewed the claim"), "{history}");
    screenshot(&browser, "draft-history-en").await;
    browser.close().await;
}

#[tokio::test]
async fn open_pages_show_new_mail_and_comments_within_two_seconds_in_chromium() {
    let desk = desk().await;
    let server = &desk.server;
    let browser = Browser::start().await;
    browser.client.set_window_size(1280, 1500).await.unwrap();
    log_in(&browser, server, &desk.li).await;
    browser
        .client
        .goto(&server.url("/queue?sort=received&order=desc"))
        .await
        .unwrap();
    let before = wait_for_text(&browser, "#status-tabs .current", |t| t.contains("待處理")).await;
    let open: u64 = before.trim_start_matches("待處理").trim().parse().unwrap();

    // A submission arrives while the page is open: newer than any other.
    let raw = String::from_utf8(desk_mail(DRAFTS + 1)).unwrap();
    let late = raw
        .split("\r\n")
        .map(|line| {
            if line.starts_with("Date: ") {
                "Date: 31 Dec 2026 12:00:00 +0800"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    let reference = server.ingest(late.as_bytes()).await;
    let shown = tokio::time::Instant::now();
    let deadline = shown + Duration::from_secs(2);
    loop {
        let first = rows(&browser).await.into_iter().next();
        let count = browser
            .client
            .find(Locator::Css("#status-tabs .current"))
            .await
            .ok();
        let count = match count {
            Some(tab) => tab.text().await.unwrap_or_default(),
            None => String::new(),
        };
        if first.as_deref() == Some(reference.as_str()) && count == format!("待處理 {}", open + 1)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the open queue did not show {reference} within 2 s: first row {first:?}, tab {count:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&browser, "queue-live").await;

    // A colleague's comment appears on the open draft page.
    browser
        .client
        .goto(&server.url(&format!("/drafts/{reference}")))
        .await
        .unwrap();
    browser
        .wait_for_element(Locator::Id("live-comments"), support::editor_page::WAIT)
        .await;
    let zhao = Client {
        http: reqwest::Client::new(),
        token: desk.zhao.clone(),
    };
    let url = server.url(&format!("/api/v1/drafts/{reference}/comments"));
    let (status, _) = post(&zhao, &url, serde_json::json!({"text": "這篇我來看"})).await;
    assert_eq!(status, StatusCode::OK);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let said = match browser.client.find(Locator::Id("live-comments")).await {
            Ok(part) => part.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if said.contains("這篇我來看") {
            assert!(said.contains("zhao"), "{said}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the comment did not appear within 2 s: {said:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn the_statistics_count_what_the_desk_received_and_decided() {
    let desk = desk().await;
    let all = everything(&desk).await;
    let li = Client {
        http: reqwest::Client::new(),
        token: desk.li.clone(),
    };
    let (status, stats) = li.get(&desk.server.url("/api/v1/statistics")).await;
    assert_eq!(status, StatusCode::OK, "{stats}");

    // Intake per week, Monday to Monday where the magazine is.
    let weeks = stats["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    for week in weeks {
        let start: chrono::NaiveDate = week["week_start"].as_str().unwrap().parse().unwrap();
        assert_eq!(start.weekday(), chrono::Weekday::Mon);
        let of = |automated: bool| {
            all.iter()
                .filter(|d| {
                    let day = d.received_at.date_naive();
                    day >= start
                        && day < start + chrono::Duration::days(7)
                        && (d.classification != slushpile::message::Classification::Normal)
                            == automated
                })
                .count()
        };
        assert_eq!(week["people"], of(false), "{start}");
        assert_eq!(week["automated"], of(true), "{start}");
    }
    // The seed's decisions: li rejected 10 and sent 5 for sign-off, wang
    // signed off 3 of them.
    assert_eq!(
        (&stats["accepted"], &stats["rejected"]),
        (&3.into(), &10.into())
    );
    assert_eq!(stats["decided"], 13);
    let waited: Vec<f64> = all
        .iter()
        .filter(|d| matches!(d.status, DraftStatus::Rejected | DraftStatus::SignedOff))
        .map(|d| (chrono::Utc::now() - d.received_at.to_utc()).num_seconds() as f64 / 86_400.0)
        .collect();
    let (shortest, longest) = (
        waited.iter().copied().fold(f64::MAX, f64::min),
        waited.iter().copied().fold(0.0, f64::max),
    );
    let median = stats["decision_days"]["median"].as_f64().unwrap();
    let p90 = stats["decision_days"]["p90"].as_f64().unwrap();
    assert!(
        shortest - 0.01 <= median && median <= p90 && p90 <= longest + 0.01,
        "{stats}"
    );
    let load = |name: &str| {
        stats["editors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    let holds = |name: &str| {
        all.iter()
            .filter(|d| d.status.awaits_decision() && d.claimed_by.as_deref() == Some(name))
            .count()
    };
    assert_eq!(
        (&load("li")["holding"], &load("li")["decisions"]),
        (&holds("li").into(), &15.into())
    );
    assert_eq!(
        (&load("zhao")["holding"], &load("zhao")["decisions"]),
        (&20.into(), &0.into())
    );
    assert_eq!(load("wang")["decisions"], 3);
    let (_, overdue) = li
        .get(&desk.server.url("/api/v1/drafts?overdue=true&limit=1"))
        .await;
    assert_eq!(stats["overdue"], overdue["total"]);
}
