//! The editors' HTTP API and web page against the real server on port 0
//! with a real store (SQLite, or PostgreSQL with SLUSHPILE_TEST_BACKEND).

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slushpile::store::IngestOutcome;
use slushpile::workflow::Role;

mod support;

use support::api_server::{ApiServer, submission};

struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    fn new(token: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            token: token.to_string(),
        }
    }

    async fn call(&self, method: Method, url: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn get(&self, url: &str) -> (StatusCode, Value) {
        self.call(Method::GET, url, None).await
    }

    async fn post(&self, url: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, url, Some(body)).await
    }
}

async fn transition(
    server: &ApiServer,
    client: &Client,
    reference: &str,
    to: &str,
    note: &str,
) -> (StatusCode, Value) {
    let url = server.url(&format!("/api/v1/drafts/{reference}/transition"));
    client.post(&url, json!({ "to": to, "note": note })).await
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused_and_revocation_is_immediate() {
    let server = ApiServer::start("2h").await;
    let token = server.add_editor("li", Role::Editor).await;
    assert!(token.starts_with("sp_"), "{token}");

    let anonymous = reqwest::get(server.url("/api/v1/drafts")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"slushpile\""
    );
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    // Right editor id, wrong secret.
    let forged = format!("{}{}", &token[..token.len() - 4], "0000");
    let (status, _) = Client::new(&forged).get(&server.url("/api/v1/me")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let li = Client::new(&token);
    let (status, me) = li.get(&server.url("/api/v1/me")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me, json!({ "name": "li", "role": "editor" }));

    // Listing editors never shows a token or its hash.
    let listed = serde_json::to_string(&server.store.list_editors().await.unwrap()).unwrap();
    assert!(
        !listed.contains(&token[5..]) && !listed.contains("hash"),
        "{listed}"
    );

    assert!(
        server
            .store
            .revoke_editor("li", chrono::Utc::now())
            .await
            .unwrap()
    );
    let (status, _) = li.get(&server.url("/api/v1/me")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_are_slowed_down_then_refused() {
    let server = ApiServer::start("2h").await;
    let token = server.add_editor("li", Role::Editor).await;
    let url = server.url("/api/v1/me");
    let attempts: Vec<_> = (0..10)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let bad = Client::new(&format!("sp_1_{i:064}"));
                bad.get(&url).await.0
            })
        })
        .collect();
    for attempt in attempts {
        assert_eq!(attempt.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    // Locked out now: another wrong token is refused outright, while the
    // right one still gets in (after a short delay).
    let (status, body) = Client::new(&format!("sp_1_{:064}", 99)).get(&url).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_failures");
    let (status, body) = Client::new(&token).get(&url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = Client::new(&format!("sp_1_{:064}", 98)).get(&url).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right token does not lift the lockout"
    );
    // Only li's: a colleague behind the same address (a reverse proxy)
    // works on, and requests with no token at all lock nobody out.
    let wang = server.add_editor("wang", Role::Signer).await;
    for _ in 0..20 {
        assert_eq!(Client::new("").get(&url).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = Client::new(&wang).get(&url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Failures of a wrong li token from `client` through the proxy (at once:
/// each is answered slower); then what another wrong li token from `other`
/// is answered.
async fn lockout_seen_from(server: &ApiServer, client: &str, other: &str) -> StatusCode {
    let wrong = |i: usize, from: &str| {
        let request = reqwest::Client::new()
            .get(server.url("/api/v1/me"))
            .bearer_auth(format!("sp_1_{i:064}"))
            .header("x-forwarded-for", format!("{from}, 127.0.0.1"));
        async move { request.send().await.unwrap().status() }
    };
    let failures: Vec<_> = (0..10).map(|i| tokio::spawn(wrong(i, client))).collect();
    for failure in failures {
        assert_eq!(failure.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(wrong(10, client).await, StatusCode::TOO_MANY_REQUESTS);
    wrong(11, other).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_throttle_counts_each_client_apart() {
    // The proxy itself is trusted, so X-Forwarded-For names the client.
    let server = ApiServer::start_with("2h", "trusted_proxies = [\"127.0.0.1/32\"]\n").await;
    server.add_editor("li", Role::Editor).await;
    assert_eq!(
        lockout_seen_from(&server, "192.0.2.1", "192.0.2.2").await,
        StatusCode::UNAUTHORIZED,
        "another client behind the proxy is not locked out"
    );
    // Without trusted proxies the header is anyone's to write: ignored.
    let server = ApiServer::start("2h").await;
    server.add_editor("li", Role::Editor).await;
    assert_eq!(
        lockout_seen_from(&server, "192.0.2.1", "192.0.2.2").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header does not escape the lockout"
    );
}

#[tokio::test]
async fn the_workflow_over_http_allows_what_it_should_and_refuses_the_rest() {
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let zhao = Client::new(&server.add_editor("zhao", Role::Editor).await);
    let wang = Client::new(&server.add_editor("wang", Role::Signer).await);
    let first = server
        .ingest(&submission(1, "投稿：雨夜", "正文一", None))
        .await;
    let second = server
        .ingest(&submission(2, "投稿：冬至", "正文二", None))
        .await;

    // Nothing skips the queue: new cannot be signed off or sent.
    let (status, body) = transition(&server, &wang, &first, "signed_off", "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "invalid_transition");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("claimed, rejected")
    );

    // Claiming gives the oldest first, with a lease.
    let (status, claimed) = li
        .post(&server.url("/api/v1/queue/claim"), json!({ "limit": 1 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
    let draft = &claimed["drafts"][0];
    assert_eq!(draft["reference"], first.as_str());
    assert_eq!(draft["status"], "claimed");
    assert_eq!(draft["claimed_by"], "li");
    assert!(draft["lease_until"].is_string());

    // Only the holder edits, releases or sends it on.
    let edit_url = server.url(&format!("/api/v1/drafts/{first}"));
    let (status, body) = zhao
        .call(Method::PATCH, &edit_url, Some(json!({ "title": "改" })))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("not_holder"))
    );
    for to in ["new", "sent_for_signoff", "rejected"] {
        let (status, body) = transition(&server, &zhao, &first, to, "").await;
        assert_eq!(status, StatusCode::CONFLICT, "{to}: {body}");
        assert_eq!(body["error"]["code"], "not_holder");
    }
    let (status, edited) = li
        .call(
            Method::PATCH,
            &edit_url,
            Some(json!({ "title": "雨夜(編輯版)", "notes": "可發" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["title"], "雨夜(編輯版)");
    // The submitted title (prefix 投稿 stripped) stays as it was.
    assert_eq!(edited["submitted_title"], "雨夜");
    assert_eq!(edited["notes"], "可發");

    let (status, sent) = transition(&server, &li, &first, "sent_for_signoff", "請審").await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["lease_until"], Value::Null);

    // Only a signer signs off, or sends back.
    let (status, body) = transition(&server, &li, &first, "signed_off", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "signer_required");
    let (status, back) = transition(&server, &wang, &first, "claimed", "再改").await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(
        back["claimed_by"], "li",
        "sent back to the editor who sent it"
    );
    transition(&server, &li, &first, "sent_for_signoff", "").await;
    let (status, signed) = transition(&server, &wang, &first, "signed_off", "簽發").await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert_eq!(signed["status"], "signed_off");
    let (status, _) = transition(&server, &zhao, &first, "archived", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = transition(&server, &wang, &first, "new", "").await;
    assert_eq!(status, StatusCode::CONFLICT, "archived is final: {body}");

    // Rejection and reopening; release gives a claim back.
    let (status, _) = transition(&server, &zhao, &second, "rejected", "不合").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = transition(&server, &zhao, &second, "new", "再看").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = transition(&server, &zhao, &second, "claimed", "").await;
    assert_eq!(status, StatusCode::OK);
    let release = server.url(&format!("/api/v1/drafts/{second}/release"));
    let (status, released) = zhao.post(&release, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{released}");
    assert_eq!(released["status"], "new");
    assert_eq!(released["claimed_by"], Value::Null);

    // Bad input gets a clear error in the same format.
    let (status, body) = transition(&server, &li, &second, "published", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("published")
    );
    let (status, body) = li.get(&server.url("/api/v1/drafts/SP-19990101-0001")).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );

    // Every transition is an event: who, from, to, note.
    let (_, history) = li
        .get(&server.url(&format!("/api/v1/drafts/{first}/events")))
        .await;
    let steps: Vec<(String, String, String, Value)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"]["to"].is_string())
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                format!(
                    "{}→{}",
                    e["detail"]["from"].as_str().unwrap(),
                    e["detail"]["to"].as_str().unwrap()
                ),
                e["detail"]["note"].clone(),
            )
        })
        .collect();
    let expected = [
        ("claimed", "li", "new→claimed", Value::Null),
        (
            "sent_for_signoff",
            "li",
            "claimed→sent_for_signoff",
            json!("請審"),
        ),
        (
            "returned",
            "wang",
            "sent_for_signoff→claimed",
            json!("再改"),
        ),
        (
            "sent_for_signoff",
            "li",
            "claimed→sent_for_signoff",
            Value::Null,
        ),
        (
            "signed_off",
            "wang",
            "sent_for_signoff→signed_off",
            json!("簽發"),
        ),
        ("archived", "zhao", "signed_off→archived", Value::Null),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(k, a, s, n)| (k.to_string(), a.to_string(), s.to_string(), n))
        .collect();
    assert_eq!(steps, expected);
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"edited"), "{kinds:?}");
}

#[tokio::test]
async fn quarantined_records_are_listed_with_reasons_and_can_be_released() {
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    // Nested 40 deep: over the parser's depth limit.
    let mut hostile = String::from("From: a@example.org\r\nSubject: deep\r\n");
    for level in 0..40 {
        hostile.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"l{level}\"\r\n\r\n--l{level}\r\n"
        ));
    }
    hostile.push_str("Content-Type: text/plain\r\n\r\nx\r\n");
    let reference = server.ingest(hostile.as_bytes()).await;

    let (status, listed) = li
        .get(&server.url("/api/v1/drafts?status=quarantined"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let drafts = listed["drafts"].as_array().unwrap();
    assert_eq!(drafts.len(), 1, "{listed}");
    assert!(drafts[0]["quarantine_reason"].is_string(), "{listed}");

    let (status, body) = transition(&server, &li, &reference, "claimed", "").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "quarantine is not claimable: {body}"
    );
    let release = server.url(&format!("/api/v1/drafts/{reference}/release"));
    let (status, released) = li.post(&release, json!({ "note": "看過,無害" })).await;
    assert_eq!(status, StatusCode::OK, "{released}");
    assert_eq!(released["status"], "new");
}

#[tokio::test]
async fn concurrent_claimers_get_each_of_100_drafts_exactly_once() {
    let server = ApiServer::start("2h").await;
    for n in 0..100 {
        server
            .ingest(&submission(n, &format!("稿件 {n}"), "正文", None))
            .await;
    }
    let url = server.url("/api/v1/queue/claim");
    let mut claimers = Vec::new();
    for e in 0..8 {
        let token = server.add_editor(&format!("editor{e}"), Role::Editor).await;
        let url = url.clone();
        claimers.push(tokio::spawn(async move {
            let client = Client::new(&token);
            let mut mine = Vec::new();
            loop {
                let (status, body) = client.post(&url, json!({ "limit": 3 })).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                let drafts = body["drafts"].as_array().unwrap().clone();
                if drafts.is_empty() {
                    return mine;
                }
                for d in drafts {
                    assert_eq!(d["claimed_by"], format!("editor{e}"));
                    mine.push(d["reference"].as_str().unwrap().to_string());
                }
            }
        }));
    }
    let mut all = Vec::new();
    let mut busy_claimers = 0;
    for claimer in claimers {
        let mine = claimer.await.unwrap();
        busy_claimers += usize::from(!mine.is_empty());
        all.extend(mine);
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 100, "every draft claimed once");
    assert_eq!(unique.len(), 100, "no draft claimed twice");
    assert!(busy_claimers > 1, "claimers actually competed");
    let events = server.store.events(1).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "claimed").count(), 1);
}

#[tokio::test]
async fn an_expired_lease_puts_the_draft_back_for_the_next_claimer() {
    let server = ApiServer::start("1s").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let zhao = Client::new(&server.add_editor("zhao", Role::Editor).await);
    let reference = server.ingest(&submission(1, "稿", "正文", None)).await;
    let claim = server.url("/api/v1/queue/claim");
    let (_, first) = li.post(&claim, json!({ "limit": 5 })).await;
    assert_eq!(first["drafts"].as_array().unwrap().len(), 1);
    let (_, none) = zhao.post(&claim, json!({})).await;
    assert_eq!(none["drafts"], json!([]), "held while the lease runs");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (_, second) = zhao.post(&claim, json!({})).await;
    assert_eq!(second["drafts"][0]["reference"], reference.as_str());
    assert_eq!(second["drafts"][0]["claimed_by"], "zhao");
    // li's claim is over: li can no longer send it on.
    let (status, body) = transition(&server, &li, &reference, "sent_for_signoff", "").await;
    assert_eq!(body["error"]["code"], "not_holder", "{status} {body}");
    let (_, history) = li
        .get(&server.url(&format!("/api/v1/drafts/{reference}/events")))
        .await;
    let expired: Vec<_> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "lease_expired")
        .collect();
    assert_eq!(expired.len(), 1, "{history}");
    assert_eq!(expired[0]["detail"]["holder"], "li");
}

#[tokio::test]
async fn search_finds_chinese_substrings_and_pages_with_a_cursor() {
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let in_subject = server
        .ingest(&submission(1, "投稿:雨夜", "一個故事", None))
        .await;
    let in_body = server
        .ingest(&submission(2, "冬至", "疫情期間我們投稿了", None))
        .await;
    let in_attachment = server
        .ingest(&submission(
            3,
            "散文",
            "見附件",
            Some(("投稿-散文.txt", b"x")),
        ))
        .await;
    let english = server
        .ingest(&submission(
            4,
            "Essay about 100% CAPITALS",
            "Teaching Online",
            None,
        ))
        .await;
    let other = server
        .ingest(&submission(5, "海邊來信", "正文", None))
        .await;

    let search = |q: &str| {
        let url = server.url(&format!(
            "/api/v1/drafts?q={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ));
        let li = &li;
        async move {
            let (status, body) = li.get(&url).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["drafts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["reference"].as_str().unwrap().to_string())
                .collect::<BTreeSet<_>>()
        }
    };
    let set = |refs: &[&String]| refs.iter().map(|r| r.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        search("投稿").await,
        set(&[&in_subject, &in_body, &in_attachment])
    );
    assert_eq!(search("疫情").await, set(&[&in_body]));
    assert_eq!(
        search("teaching online").await,
        set(&[&english]),
        "any case"
    );
    assert_eq!(search("100%").await, set(&[&english]), "% is literal");
    assert_eq!(search("_").await, BTreeSet::new(), "_ is literal");
    assert_eq!(search("海邊").await, set(&[&other]));

    // Sender and status filters narrow; a bad status is a clear error.
    let (_, by_sender) = li.get(&server.url("/api/v1/drafts?sender=WRITER2@")).await;
    assert_eq!(by_sender["drafts"].as_array().unwrap().len(), 1);
    let (status, body) = li.get(&server.url("/api/v1/drafts?status=done")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sent_for_signoff")
    );

    // Pages of two walk every draft once, oldest first.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = li
            .get(&server.url(&format!("/api/v1/drafts?limit=2{cursor}")))
            .await;
        let drafts = page["drafts"].as_array().unwrap();
        seen.extend(
            drafts
                .iter()
                .map(|d| d["reference"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, [in_subject, in_body, in_attachment, english, other]);
}

#[tokio::test]
async fn downloads_keep_the_exact_bytes_and_the_chinese_filename() {
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let content = "《雨夜》全文\n那天夜里下著雨。".as_bytes();
    let raw = submission(
        1,
        "投稿",
        "見附件",
        Some(("上好戰疫這堂課 終稿.docx", content)),
    );
    let reference = server.ingest(&raw).await;

    let get = |path: String| li.http.get(server.url(&path)).bearer_auth(&li.token).send();
    let response = get(format!("/api/v1/drafts/{reference}/attachments/0"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    let encoded = disposition.split("filename*=UTF-8''").nth(1).unwrap();
    let name = percent_decode(encoded);
    assert_eq!(name, "上好戰疫這堂課 終稿.docx", "{disposition}");
    assert!(
        disposition.starts_with("attachment; filename=\""),
        "{disposition}"
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), content);

    let response = get(format!("/api/v1/drafts/{reference}/raw"))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "message/rfc822");
    assert_eq!(response.bytes().await.unwrap().as_ref(), raw.as_slice());

    let response = get(format!("/api/v1/drafts/{reference}/export?format=md"))
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let markdown = response.text().await.unwrap();
    assert!(markdown.starts_with("# 投稿\n"), "{markdown}");
    assert!(markdown.contains("上好戰疫這堂課 終稿.docx"), "{markdown}");
    let (_, json_export) = li
        .get(&server.url(&format!("/api/v1/drafts/{reference}/export?format=json")))
        .await;
    assert_eq!(json_export["draft"]["reference"], reference.as_str());
    let (status, body) = li
        .get(&server.url(&format!("/api/v1/drafts/{reference}/attachments/9")))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
}

#[tokio::test]
async fn a_file_inside_a_forwarded_message_downloads_by_path_byte_exact() {
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let content = "《雨夜》全文\n那天夜里下着雨。\n".as_bytes();
    let encoded = {
        use std::fmt::Write;
        // RFC 2231, as Chinese clients write file names.
        "雨夜 終稿.txt".bytes().fold(String::new(), |mut out, b| {
            let _ = write!(out, "%{b:02X}");
            out
        })
    };
    let original = format!(
        "From: Wang Fang <wang.fang@example.net>\r\nSubject: rain\r\n\
         Date: Mon, 02 Mar 2020 09:00:00 +0800\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=in\r\n\r\n--in\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nsee the file\r\n--in\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Disposition: attachment; filename*=UTF-8''{encoded}\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--in--\r\n",
        base64_lines(content)
    );
    let raw = format!(
        "From: Li Ming <li.ming@example.org>\r\nTo: submissions@example.org\r\n\
         Subject: Fwd: rain\r\nMessage-ID: <fwd-api@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nforwarding\r\n--out\r\n\
         Content-Type: message/rfc822\r\n\r\n{original}\r\n--out--\r\n"
    );
    let reference = server.ingest(raw.as_bytes()).await;

    let (_, draft) = li
        .get(&server.url(&format!("/api/v1/drafts/{reference}")))
        .await;
    assert_eq!(draft["attachments"][1]["path"], "0.0", "{draft}");
    assert_eq!(draft["attachments"][1]["filename"], "雨夜 終稿.txt");
    assert_eq!(
        draft["forwarded"][0]["from"]["address"],
        "wang.fang@example.net"
    );
    let get = |path: String| li.http.get(server.url(&path)).bearer_auth(&li.token).send();
    let response = get(format!("/api/v1/drafts/{reference}/attachments/0.0"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    let name = percent_decode(disposition.split("filename*=UTF-8''").nth(1).unwrap());
    assert_eq!(name, "雨夜 終稿.txt", "{disposition}");
    assert_eq!(response.bytes().await.unwrap().as_ref(), content);
    // The forwarded original itself, exactly as it stands in the message.
    let response = get(format!("/api/v1/drafts/{reference}/attachments/0"))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "message/rfc822");
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        original.as_bytes()
    );
    let (status, _) = li
        .get(&server.url(&format!("/api/v1/drafts/{reference}/attachments/0.7")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Found by the inner file's name.
    let (_, found) = li
        .get(&server.url("/api/v1/drafts?q=%E7%B5%82%E7%A8%BF"))
        .await;
    assert_eq!(
        found["drafts"][0]["reference"],
        reference.as_str(),
        "{found}"
    );

    // The web page shows the original and serves the file by its path.
    let (http, session) = web_session(&server, &li).await;
    let page_of = |path: String| {
        http.get(server.url(&path))
            .header("cookie", &session)
            .send()
    };
    let page = page_of(format!("/drafts/{reference}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("轉寄的原稿") && page.contains("wang.fang@example.net"),
        "{page}"
    );
    assert!(
        page.contains(&format!("/drafts/{reference}/attachments/0.0\"")),
        "{page}"
    );
    let file = page_of(format!("/drafts/{reference}/attachments/0.0"))
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap().as_ref(), content);
}

/// A Word attachment's article: in the draft's JSON, found by search, shown
/// on the draft page under the cover note.
#[tokio::test]
async fn the_article_in_a_word_attachment_is_served_searched_and_shown() {
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/messages/document_submission.eml"
    ))
    .unwrap();
    let reference = server.ingest(&raw).await;
    let (status, draft) = li
        .get(&server.url(&format!("/api/v1/drafts/{reference}")))
        .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["title"], "教育部教師司:上好戰(zhàn)“疫”這堂課");
    let article = draft["attachments"][0]["article_text"].as_str().unwrap();
    assert!(
        article.contains("\n\n## 二、做好疫情防控期間教師工作\n\n"),
        "{article}"
    );
    // Words only the document holds find the draft.
    let (_, found) = li
        .get(&server.url("/api/v1/drafts?q=%E6%95%99%E5%B8%AB%E8%B3%87%E6%A0%BC"))
        .await;
    assert_eq!(
        found["drafts"][0]["reference"],
        reference.as_str(),
        "{found}"
    );

    let (http, session) = web_session(&server, &li).await;
    let page = draft_page(&http, &server, &session, &reference).await;
    let cover = page.find("编辑老师好").expect("the cover note");
    let shown = page
        .find("<section class=\"article\" data-path=\"0\">")
        .expect("the article");
    assert!(cover < shown, "the article follows the cover note");
    assert!(page.contains("附件正文：《战疫》投稿.docx"), "{page}");
    assert!(page.contains("保障支教教師的生命健康安全"), "{page}");
}

/// A client logged in to the web page as `editor`, and its session cookie.
async fn web_session(server: &ApiServer, editor: &Client) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = server.post_login(&http, &editor.token).await;
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_string();
    (http, session)
}

/// The draft page as the logged-in editor of `session` sees it.
async fn draft_page(
    http: &reqwest::Client,
    server: &ApiServer,
    session: &str,
    reference: &str,
) -> String {
    http.get(server.url(&format!("/drafts/{reference}")))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The CSRF token a page's forms carry.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string()
}

fn base64_lines(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn purge_deletes_the_submission_and_keeps_one_event() {
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    server.add_editor("wang", Role::Signer).await;
    let reference = server
        .ingest(&submission(1, "撤稿", "請刪除", Some(("稿.txt", b"abc"))))
        .await;
    let kept = server.ingest(&submission(2, "留下", "正文", None)).await;
    let raw_table = slushpile::store::copy::TABLES
        .iter()
        .find(|t| t.name == "raw_messages")
        .unwrap();
    assert_eq!(server.store.count_rows(raw_table).await.unwrap(), 2);

    let key: slushpile::store::DraftKey = reference.parse().unwrap();
    let editor = server.store.editor_named("li").await.unwrap().unwrap();
    let refused = server.store.purge(&key, &editor, chrono::Utc::now()).await;
    assert!(refused.unwrap_err().to_string().contains("only a signer"));
    let signer = server.store.editor_named("wang").await.unwrap().unwrap();
    server
        .store
        .purge(&key, &signer, chrono::Utc::now())
        .await
        .unwrap();

    assert_eq!(server.store.count_rows(raw_table).await.unwrap(), 1);
    let (status, draft) = li
        .get(&server.url(&format!("/api/v1/drafts/{reference}")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(draft["status"], "purged");
    assert_eq!(draft["from"], Value::Null);
    assert_eq!(draft["body_text"], "");
    assert_eq!(draft["attachments"], json!([]));
    let (_, history) = li
        .get(&server.url(&format!("/api/v1/drafts/{reference}/events")))
        .await;
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{history}");
    assert_eq!(
        (events[0]["kind"].as_str(), events[0]["actor"].as_str()),
        (Some("purged"), Some("wang"))
    );
    assert_eq!(events[0]["detail"], json!({}));
    for path in ["raw", "attachments/0", "export"] {
        let (status, body) = li
            .get(&server.url(&format!("/api/v1/drafts/{reference}/{path}")))
            .await;
        assert_eq!(status, StatusCode::GONE, "{path}: {body}");
    }
    let (_, found) = li
        .get(&server.url("/api/v1/drafts?q=%E8%AB%8B%E5%88%AA"))
        .await;
    assert_eq!(found["drafts"], json!([]), "purged text is not searchable");
    let (status, _) = li
        .get(&server.url(&format!("/api/v1/drafts/{kept}/raw")))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Retention purges rejected drafts once they are old enough.
    transition(&server, &li, &kept, "rejected", "").await;
    let none = server
        .store
        .purge_expired(Some(Duration::from_secs(3600)), None, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(none, 0);
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let purged = server
        .store
        .purge_expired(Some(Duration::from_secs(3600)), None, later)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(server.store.count_rows(raw_table).await.unwrap(), 0);
}

/// Path templates in the OpenAPI document, with their methods.
fn documented() -> BTreeSet<(String, String)> {
    let doc: Value = serde_json::from_str(slushpile::api::OPENAPI).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let documented = documented();
    // Every route the API registers is documented, and nothing else.
    let source: String = include_str!("../src/api/v1.rs")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut registered = BTreeSet::new();
    for rest in source.split(".route(\"").skip(1) {
        let (path, rest) = rest.split_once('"').unwrap();
        // Up to the next route, or the end of the router.
        let handlers = rest.split('}').next().unwrap();
        for method in ["get", "post", "patch", "put", "delete"] {
            if handlers.contains(&format!("{method}(")) {
                registered.insert((method.to_uppercase(), path.to_string()));
            }
        }
    }
    assert_eq!(registered, documented);

    // And each documented route answers on the real server (no 404 from
    // the fallback, no 405).
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let reference = server
        .ingest(&submission(1, "稿", "正文", Some(("a.txt", b"a"))))
        .await;
    // The same writer quoting the reference: mail 1 of the thread.
    let reply = submission(
        1,
        &format!("Re: {reference}"),
        "修改稿",
        Some(("b.txt", b"b")),
    );
    let reply = String::from_utf8(reply)
        .unwrap()
        .replace("<api-1@", "<reply-1@");
    assert!(matches!(
        server.ingest_outcome(reply.as_bytes()).await,
        IngestOutcome::FollowUp { .. }
    ));
    for (method, path) in &documented {
        let path = path.replace("{key}", &reference).replace("{number}", "1");
        let url = server.url(&path.replace("{index}", "0"));
        let method: Method = method.parse().unwrap();
        let body = (method != Method::GET).then(|| json!({ "to": "claimed" }));
        let body =
            if path.ends_with("release") || path.ends_with("claim") || method == Method::PATCH {
                Some(json!({}))
            } else if path.ends_with("hold") {
                Some(json!({ "action": "renew" }))
            } else if path.ends_with("comments") && method == Method::POST {
                Some(json!({ "text": "請先看第三段" }))
            } else {
                body
            };
        let (status, answer) = li.call(method.clone(), &url, body).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(
            status.is_success() || status == StatusCode::CONFLICT,
            "{method} {path}: {status} {answer}"
        );
    }
    let (status, body) = li.get(&server.url("/api/v1/nothing-here")).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
}

#[tokio::test]
async fn the_web_page_logs_in_with_a_strict_cookie_and_refuses_forged_forms() {
    let server = ApiServer::start("2h").await;
    let token = server.add_editor("li", Role::Editor).await;
    let html = "<p onclick=\"steal()\">正文<b>粗</b></p><script>alert('x')</script>\
                <img src=\"https://tracker.example.org/p.gif\">";
    let raw = format!(
        "From: a@example.org\r\nTo: submissions@example.org\r\nSubject: HTML\r\n\
         Message-ID: <web-1@example.org>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    );
    let reference = server.ingest(raw.as_bytes()).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let anonymous = http.get(server.url("/queue")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()["location"], "/login");

    let wrong = server.post_login(&http, "sp_1_nope").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("令牌無效"));

    // A login form posted from elsewhere carries no form token: refused,
    // even with the right editor token.
    let forged = http
        .post(server.url("/login"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.headers().get("location").is_none());
    assert!(forged.text().await.unwrap().contains("表單已經過期"));

    let login = server.post_login(&http, &token).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains(&token[5..]), "the cookie is not the token");
    let session = cookie.split(';').next().unwrap().to_string();

    let queue = http
        .get(server.url("/queue"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), StatusCode::OK);
    let csp = queue.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(
        queue.headers().get("access-control-allow-origin").is_none(),
        "no CORS"
    );
    let page = queue.text().await.unwrap();
    assert!(
        page.contains("稿件隊列") && page.contains(&reference),
        "{page}"
    );

    let draft_page = draft_page(&http, &server, &session, &reference).await;
    assert!(draft_page.contains("<p>正文<b>粗</b></p>"), "{draft_page}");
    for gone in ["steal()", "tracker.example.org"] {
        assert!(!draft_page.contains(gone), "{gone} in {draft_page}");
    }
    // The one script is the page's own, from this origin.
    assert_eq!(draft_page.matches("<script").count(), 1, "{draft_page}");
    assert!(draft_page.contains("<script src=\"/static/live.js\" defer></script>"));
    let csrf = csrf_of(&draft_page);

    // A form without the session's CSRF token does nothing.
    let forged = http
        .post(server.url(&format!("/drafts/{reference}")))
        .header("cookie", &session)
        .form(&[
            ("csrf", "0".repeat(64).as_str()),
            ("action", "transition"),
            ("to", "claimed"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let key: slushpile::store::DraftKey = reference.parse().unwrap();
    let still = server.store.draft(&key).await.unwrap().unwrap();
    assert_eq!(still.status.as_str(), "new");

    let claimed = http
        .post(server.url(&format!("/drafts/{reference}")))
        .header("cookie", &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "transition"),
            ("to", "claimed"),
            ("note", "我來"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), StatusCode::SEE_OTHER);
    let now = server.store.draft(&key).await.unwrap().unwrap();
    assert_eq!(
        (now.status.as_str(), now.claimed_by.as_deref()),
        ("claimed", Some("li"))
    );

    // English on request.
    let english = http
        .get(server.url("/queue"))
        .header("cookie", format!("{session}; slushpile_lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("Claim the oldest drafts"), "{english}");
    // Simplified Chinese too, with a way to each other language.
    let simplified = http
        .get(server.url("/queue"))
        .header("cookie", format!("{session}; slushpile_lang=zh-Hans"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        simplified.contains("<html lang=\"zh-Hans\">")
            && simplified.contains("认领最早的稿件")
            && simplified.contains("href=\"/lang/zh-Hant\"")
            && simplified.contains("href=\"/lang/en\""),
        "{simplified}"
    );

    // Logging out ends the session on the server.
    let out = http
        .post(server.url("/logout"))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = http
        .get(server.url("/queue"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn decisions_over_http_carry_the_letter_and_new_mail_is_flagged_until_seen() {
    let server = ApiServer::start_with_letters("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let wang = Client::new(&server.add_editor("wang", Role::Signer).await);
    let first = server.ingest(&submission(1, "秋", "一首诗。", None)).await;
    let second = server.ingest(&submission(2, "冬", "另一首。", None)).await;
    // The first writer writes again, quoting the reference.
    let reply = submission(1, &format!("Re: {first}"), "补一段。", None);
    let reply = String::from_utf8(reply)
        .unwrap()
        .replace("<api-1@", "<reply-1@");
    server.ingest_outcome(reply.as_bytes()).await;

    let url = |path: &str| server.url(path);
    let (_, listed) = li.get(&url("/api/v1/drafts?unseen_mail=true")).await;
    let listed = listed["drafts"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["reference"], first);
    assert_eq!(
        listed[0]["thread"][0]["body_text"].as_str().unwrap().trim(),
        "补一段。"
    );
    let (status, body) = li.get(&url("/api/v1/drafts?unseen_mail=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, seen) = li
        .post(
            &url(&format!("/api/v1/drafts/{first}/mail-seen")),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, seen["unseen_mail"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (_, listed) = li.get(&url("/api/v1/drafts?unseen_mail=true")).await;
    assert!(listed["drafts"].as_array().unwrap().is_empty());
    // No decision within the processing period (30 days): overdue.
    let dated = |id: &str, date: &str| {
        format!(
            "From: w@example.org\r\nSubject: {id}\r\nDate: {date}\r\nMessage-ID: <{id}@example.org>\r\n\r\ntext\r\n"
        )
    };
    let old = server
        .ingest(dated("old", "Tue, 03 Mar 2020 10:15:00 +0800").as_bytes())
        .await;
    let fresh = server
        .ingest(dated("fresh", &chrono::Utc::now().to_rfc2822()).as_bytes())
        .await;
    let (_, overdue) = li.get(&url("/api/v1/drafts?overdue=true")).await;
    let overdue: Vec<&str> = overdue["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reference"].as_str().unwrap())
        .collect();
    assert!(
        overdue.contains(&old.as_str()) && !overdue.contains(&fresh.as_str()),
        "{overdue:?}"
    );

    // The editor proposes the acceptance; the signer's decision sends it.
    let to = |reference: &str| url(&format!("/api/v1/drafts/{reference}/transition"));
    li.post(&to(&first), json!({ "to": "claimed" })).await;
    let (status, proposed) = li
        .post(
            &to(&first),
            json!({ "to": "sent_for_signoff", "letter": { "body": "李先生：\n\n决定录用。" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proposed}");
    assert_eq!(proposed["letters"][0]["state"], "held");
    let (_, decided) = wang.post(&to(&first), json!({ "to": "signed_off" })).await;
    let letters = decided["letters"].as_array().unwrap();
    assert_eq!(letters.len(), 1, "{decided}");
    assert_eq!(letters[0]["kind"], "accept");
    assert_eq!(letters[0]["state"], "pending");
    assert_eq!(letters[0]["body"], "李先生：\n\n决定录用。");
    assert_eq!(letters[0]["author"], "li");
    // Deciding without a letter is a choice the history keeps.
    let (_, rejected) = li
        .post(&to(&second), json!({ "to": "rejected", "no_letter": true }))
        .await;
    assert!(
        rejected["letters"].as_array().unwrap().is_empty(),
        "{rejected}"
    );
    let (_, events) = li
        .get(&url(&format!("/api/v1/drafts/{second}/events")))
        .await;
    let last = events["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["detail"]["letter"], "none", "{last}");
}

#[tokio::test]
async fn requests_the_openapi_document_allows_are_accepted_as_it_says() {
    let server = ApiServer::start("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    for n in 1..=2 {
        server.ingest(&submission(n, "稿", "正文", None)).await;
    }
    let doc: Value = serde_json::from_str(slushpile::api::OPENAPI).unwrap();
    // JSON Schema's integer includes 100.0.
    let (status, body) = li
        .post(&server.url("/api/v1/queue/claim"), json!({ "limit": 1.0 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = li
        .post(&server.url("/api/v1/queue/claim"), json!({ "limit": 1.5 }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A null note is accepted, and documented as such.
    let reference = claimed_reference(&li, &server).await;
    let release = server.url(&format!("/api/v1/drafts/{reference}/release"));
    let (status, body) = li.post(&release, json!({ "note": null })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let release_note = &doc["paths"]["/api/v1/drafts/{key}/release"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]["properties"]["note"]["type"];
    assert_eq!(release_note, &json!(["string", "null"]));
    // `since` takes what the document says: a date or a date-time, and
    // refuses anything else with a 400 the document lists.
    for since in ["2026-11-01", "2026-11-01T00:00:00Z"] {
        let (status, body) = li
            .get(&server.url(&format!("/api/v1/drafts?since={since}")))
            .await;
        assert_eq!(status, StatusCode::OK, "{since}: {body}");
    }
    let since = doc["paths"]["/api/v1/drafts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "since")
        .unwrap()
        .clone();
    assert_eq!(
        since["schema"]["anyOf"],
        json!([{ "format": "date" }, { "format": "date-time" }])
    );
}

/// The draft `li` claimed last.
async fn claimed_reference(li: &Client, server: &ApiServer) -> String {
    let (_, listed) = li.get(&server.url("/api/v1/drafts?status=claimed")).await;
    listed["drafts"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn claiming_the_oldest_skips_robots_and_rejecting_with_a_letter_asks_twice() {
    let server = ApiServer::start_with_letters("2h").await;
    let token = server.add_editor("li", Role::Editor).await;
    let li = Client::new(&token);
    // An out-of-office reply arrived first; a writer second.
    let robot = server
        .ingest(
            b"From: w@example.org\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\
              Date: Sat, 28 Nov 2026 08:00:00 +0800\r\nMessage-ID: <ooo@example.org>\r\n\r\naway\r\n",
        )
        .await;
    let writer = server.ingest(&submission(1, "秋", "一首詩。", None)).await;
    let (_, claimed) = li
        .post(&server.url("/api/v1/queue/claim"), json!({ "limit": 5 }))
        .await;
    let claimed: Vec<&str> = claimed["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reference"].as_str().unwrap())
        .collect();
    assert_eq!(claimed, [writer.as_str()], "{robot} is not claimed");

    // The page's reject form carries the decline letter: without the
    // confirmation box it does nothing.
    let (http, session) = web_session(&server, &li).await;
    let page = draft_page(&http, &server, &session, &writer).await;
    assert!(page.contains("id=\"confirm-rejected\""), "{page}");
    let csrf = csrf_of(&page);
    let reject = |confirm: bool, reason: &str| {
        let mut form = vec![
            ("csrf", csrf.clone()),
            ("action", "transition".into()),
            ("to", "rejected".into()),
            ("letter_subject", "審稿結果".into()),
            ("letter_body", "很遺憾未能採用。".into()),
            ("note", reason.to_string()),
        ];
        if confirm {
            form.push(("confirm", "true".into()));
        }
        http.post(server.url(&format!("/drafts/{writer}")))
            .header("cookie", &session)
            .form(&form)
            .send()
    };
    // Without the second click, or without a reason, nothing happens.
    for (confirm, reason) in [(false, "篇幅過長"), (true, "  ")] {
        assert_eq!(
            reject(confirm, reason).await.unwrap().status(),
            StatusCode::BAD_REQUEST
        );
    }
    // A refusal by the workflow reads in the page's language too.
    let again = http
        .post(server.url(&format!("/drafts/{writer}")))
        .header("cookie", &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "transition"),
            ("to", "claimed"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let said = again.text().await.unwrap();
    assert!(
        said.contains("這份稿件現在是「編輯中」，不能改為「編輯中」"),
        "{said}"
    );
    let key: slushpile::store::DraftKey = writer.parse().unwrap();
    assert_eq!(
        server
            .store
            .draft(&key)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "claimed"
    );
    assert_eq!(
        reject(true, "篇幅過長").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let rejected = server.store.draft(&key).await.unwrap().unwrap();
    assert_eq!(rejected.status.as_str(), "rejected");
    assert_eq!(
        rejected.letters[0].body.as_deref(),
        Some("很遺憾未能採用。")
    );
}

/// Who asks, how, where (URL and documented path), with what body, and
/// the status expected.
type Call<'a> = (
    &'a Client,
    Method,
    String,
    &'a str,
    Option<Value>,
    StatusCode,
);

#[tokio::test]
async fn every_json_answer_is_what_the_openapi_document_says() {
    let server = ApiServer::start_with_letters("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let wang = Client::new(&server.add_editor("wang", Role::Signer).await);
    let first = server
        .ingest(&submission(
            1,
            "秋",
            "一首詩。",
            Some(("秋.txt", "秋天".as_bytes())),
        ))
        .await;
    let second = server.ingest(&submission(2, "冬", "另一首。", None)).await;
    let reply = submission(
        1,
        &format!("Re: {first}"),
        "修改稿。",
        Some(("秋 v2.txt", b"v2")),
    );
    let reply = String::from_utf8(reply)
        .unwrap()
        .replace("<api-1@", "<reply-1@");
    server.ingest_outcome(reply.as_bytes()).await;

    let stranger = Client::new("sp_9_nothing");
    let doc: Value = serde_json::from_str(slushpile::api::OPENAPI).unwrap();
    let draft_path = "/api/v1/drafts/{key}";
    let url = |path: &str| server.url(path);
    let calls: Vec<Call> = vec![
        (
            &li,
            Method::GET,
            url("/api/v1/me"),
            "/api/v1/me",
            None,
            StatusCode::OK,
        ),
        (
            &li,
            Method::GET,
            url("/api/v1/drafts"),
            "/api/v1/drafts",
            None,
            StatusCode::OK,
        ),
        (
            &li,
            Method::GET,
            url("/api/v1/drafts?since=someday"),
            "/api/v1/drafts",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            &li,
            Method::GET,
            url(&format!("/api/v1/drafts/{first}")),
            draft_path,
            None,
            StatusCode::OK,
        ),
        (
            &li,
            Method::GET,
            url("/api/v1/drafts/SP-19990101-0001"),
            draft_path,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            &li,
            Method::GET,
            url(&format!("/api/v1/drafts/{first}/events")),
            "/api/v1/drafts/{key}/events",
            None,
            StatusCode::OK,
        ),
        (
            &li,
            Method::POST,
            url("/api/v1/queue/claim"),
            "/api/v1/queue/claim",
            Some(json!({ "limit": 1 })),
            StatusCode::OK,
        ),
        (
            &li,
            Method::POST,
            url(&format!("/api/v1/drafts/{first}/transition")),
            "/api/v1/drafts/{key}/transition",
            Some(json!({ "to": "sent_for_signoff", "letter": { "body": "決定錄用。" } })),
            StatusCode::OK,
        ),
        (
            &li,
            Method::POST,
            url(&format!("/api/v1/drafts/{first}/transition")),
            "/api/v1/drafts/{key}/transition",
            Some(json!({ "to": "signed_off" })),
            StatusCode::FORBIDDEN,
        ),
        (
            &wang,
            Method::POST,
            url(&format!("/api/v1/drafts/{first}/transition")),
            "/api/v1/drafts/{key}/transition",
            Some(json!({ "to": "signed_off" })),
            StatusCode::OK,
        ),
        (
            &li,
            Method::PATCH,
            url(&format!("/api/v1/drafts/{second}")),
            draft_path,
            Some(json!({ "title": "冬至" })),
            StatusCode::CONFLICT,
        ),
        (
            &li,
            Method::POST,
            url(&format!("/api/v1/drafts/{second}/release")),
            "/api/v1/drafts/{key}/release",
            Some(json!({})),
            StatusCode::CONFLICT,
        ),
        (
            &li,
            Method::POST,
            url(&format!("/api/v1/drafts/{second}/hold")),
            "/api/v1/drafts/{key}/hold",
            Some(json!({ "action": "assign", "to": "wang" })),
            StatusCode::FORBIDDEN,
        ),
        (
            &wang,
            Method::POST,
            url(&format!("/api/v1/drafts/{second}/hold")),
            "/api/v1/drafts/{key}/hold",
            Some(json!({ "action": "assign", "to": "li", "note": "你熟悉這位作者" })),
            StatusCode::OK,
        ),
        (
            &li,
            Method::POST,
            url(&format!("/api/v1/drafts/{second}/hold")),
            "/api/v1/drafts/{key}/hold",
            Some(json!({ "action": "renew" })),
            StatusCode::OK,
        ),
        (
            &wang,
            Method::POST,
            url(&format!("/api/v1/drafts/{second}/hold")),
            "/api/v1/drafts/{key}/hold",
            Some(json!({ "action": "take_over" })),
            StatusCode::CONFLICT,
        ),
        (
            &wang,
            Method::POST,
            url(&format!("/api/v1/drafts/{second}/hold")),
            "/api/v1/drafts/{key}/hold",
            Some(json!({ "action": "assign", "to": "nobody-here" })),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &li,
            Method::POST,
            url(&format!("/api/v1/drafts/{second}/comments")),
            "/api/v1/drafts/{key}/comments",
            Some(json!({ "text": "結尾可再緊湊些" })),
            StatusCode::OK,
        ),
        (
            &li,
            Method::POST,
            url(&format!("/api/v1/drafts/{second}/comments")),
            "/api/v1/drafts/{key}/comments",
            Some(json!({ "text": "  " })),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &wang,
            Method::GET,
            url(&format!("/api/v1/drafts/{second}/comments")),
            "/api/v1/drafts/{key}/comments",
            None,
            StatusCode::OK,
        ),
        (
            &li,
            Method::POST,
            url(&format!("/api/v1/drafts/{first}/mail-seen")),
            "/api/v1/drafts/{key}/mail-seen",
            None,
            StatusCode::OK,
        ),
        (
            &wang,
            Method::GET,
            url("/api/v1/statistics"),
            "/api/v1/statistics",
            None,
            StatusCode::OK,
        ),
        (
            &stranger,
            Method::GET,
            url("/api/v1/me"),
            "/api/v1/me",
            None,
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (client, method, url, path, body, expected) in calls {
        let (status, answer) = client.call(method.clone(), &url, body).await;
        assert_eq!(status, expected, "{method} {url}: {answer}");
        let operation = &doc["paths"][path][method.as_str().to_lowercase()];
        let schema =
            &operation["responses"][status.as_str()]["content"]["application/json"]["schema"];
        assert!(
            !schema.is_null(),
            "{method} {path} does not document {status}"
        );
        let wrong = support::schema::violations(&doc, schema, &answer);
        assert!(
            wrong.is_empty(),
            "{method} {url} → {status}:\n{}",
            wrong.join("\n")
        );
    }
    // And the check sees a draft that strays from the document.
    let (_, mut draft) = li.get(&url(&format!("/api/v1/drafts/{first}"))).await;
    draft["status"] = json!("lost");
    draft["thread"][0]["intent"] = json!(7);
    draft.as_object_mut().unwrap().remove("letters");
    let draft_schema = json!({ "$ref": "#/components/schemas/Draft" });
    let wrong = support::schema::violations(&doc, &draft_schema, &draft);
    assert_eq!(wrong.len(), 3, "{wrong:?}");
}

#[tokio::test]
async fn the_reason_for_a_rejection_goes_into_the_decline_letter() {
    let server = ApiServer::start_with_letters("2h").await;
    let li = Client::new(&server.add_editor("li", Role::Editor).await);
    let reference = server
        .ingest(&submission(1, "投稿：秋", "一首詩。", None))
        .await;
    let (http, session) = web_session(&server, &li).await;
    let page = draft_page(&http, &server, &session, &reference).await;
    assert!(page.contains("id=\"reject-reason\""), "{page}");
    let csrf = csrf_of(&page);
    let reason = "篇幅過長，與本期主題不合";
    let rejected = http
        .post(server.url(&format!("/drafts/{reference}")))
        .header("cookie", &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "transition"),
            ("to", "rejected"),
            ("letter_subject", ""),
            ("letter_body", ""),
            ("note", reason),
            ("confirm", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::SEE_OTHER);
    let key: slushpile::store::DraftKey = reference.parse().unwrap();
    let draft = server.store.draft(&key).await.unwrap().unwrap();
    let letter = &draft.letters[0];
    assert_eq!(letter.kind, slushpile::draft::LetterKind::Decline);
    // The template's letter, with the reason where it says {note}.
    assert_eq!(
        (letter.body.as_deref(), letter.note.as_deref()),
        (None, Some(reason))
    );
    let events = server.store.events(draft.id).await.unwrap();
    assert_eq!(events.last().unwrap().detail["note"], reason);
}
