//! The editors' queue at 100,000 drafts, both backends:
//!   cargo bench --bench queue -- [--drafts N] [--requests R] [--only sqlite|postgres]
//! Seeds a store (people's submissions of every length over a year, one in
//! 25 an auto-reply, thousands claimed or rejected), serves it as the daemon
//! does, and times whole HTTP answers of the API's list and the queue page
//! in the views editors use: median and 90th percentile of R requests each,
//! after a warm-up. PostgreSQL is a private server started for the run.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use slushpile::draft::DraftStatus;
use slushpile::store::{DraftFilter, DraftKey, LetterPlan};
use slushpile::workflow::{Actor, Role};
use support::api_server::{ApiServer, b64};
use support::postgres::shared;

/// The views timed: (what, path). `{last}` is the last page of 50.
const VIEWS: &[(&str, &str)] = &[
    ("API: everything, oldest first", "/api/v1/drafts"),
    (
        "API: open work, people's mail",
        "/api/v1/drafts?status=open&mail=people",
    ),
    (
        "API: by length, longest first, last page",
        "/api/v1/drafts?sort=length&order=desc&page={last}",
    ),
    ("API: by title, page 2", "/api/v1/drafts?sort=title&page=2"),
    (
        "API: by status, all mail",
        "/api/v1/drafts?sort=status&order=desc",
    ),
    ("API: mine", "/api/v1/drafts?holder=me&status=open"),
    (
        "API: unassigned new",
        "/api/v1/drafts?holder=nobody&status=new",
    ),
    ("page: the queue as it opens", "/queue"),
    (
        "page: longest wait first, page 100",
        "/queue?sort=waiting&order=desc&page=100",
    ),
    (
        "page: every status, by sender",
        "/queue?status=all&mail=all&sort=sender",
    ),
    ("page: automated mail", "/queue?mail=automated"),
    ("page: mine", "/queue?holder=me"),
];

/// Substring search reads every draft's text: shown for scale, not held to
/// the page target.
const SEARCH: (&str, &str) = (
    "API: search 江南 (reads every draft)",
    "/api/v1/drafts?q=江南",
);

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let (mut drafts, mut requests) = (100_000usize, 20usize);
    let mut backends = vec!["sqlite", "postgres"];
    while let Some(flag) = args.next() {
        if flag == "--only" {
            let only = args.next().unwrap_or_default();
            backends.retain(|b| *b == only);
            continue;
        }
        let value: usize = args
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number"));
        match flag.as_str() {
            "--drafts" => drafts = value,
            "--requests" => requests = value.max(1),
            _ => panic!("unknown option {flag}"),
        }
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(bench(&backends, drafts, requests));
}

/// Submission `n` of a year's mail.
fn mail(n: usize) -> Vec<u8> {
    let day = n % 365;
    let date = chrono::NaiveDate::from_yo_opt(2026, day as u32 + 1).expect("a day of 2026");
    let (subject, extra) = if n % 25 == 24 {
        (
            format!("自動回覆：休假中 {n}"),
            "Auto-Submitted: auto-replied\r\n",
        )
    } else {
        let kind = ["散文", "小說", "詩歌", "評論"][n % 4];
        (format!("投稿：{kind}第{n}號"), "")
    };
    let body = "春風又綠江南岸，明月何時照我還。\n".repeat(1 + n * 37 % 97);
    format!(
        "From: Writer {n} <writer{n}@example.org>\r\nTo: submissions@example.org\r\n\
         Subject: =?UTF-8?B?{}?=\r\nDate: {} {:02}:{:02}:00 +0800\r\n\
         Message-ID: <queue-{n}@mail.example.org>\r\n{extra}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(subject.as_bytes()),
        date.format("%-d %b %Y"),
        n % 24,
        n % 60,
        b64(body.as_bytes())
    )
    .into_bytes()
}

async fn bench(backends: &[&str], drafts: usize, requests: usize) {
    println!("Queue at {drafts} drafts: whole HTTP answers, {requests} requests per view.\n");
    println!("| backend | view | drafts listed | median ms | p90 ms |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for &backend in backends {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend {
            "sqlite" => format!("sqlite://{}/slushpile.db", dir.path().display()),
            _ => shared().await.create_database().await,
        };
        let server = ApiServer::start_on(dir, &url, "2h", "").await;
        let seeded = Instant::now();
        seed(&server, drafts).await;
        eprintln!(
            "{backend}: {drafts} drafts seeded in {:.1?}",
            seeded.elapsed()
        );
        if backend == "postgres" {
            // The table as autovacuum leaves it a while after the load:
            // statistics gathered, pages marked all-visible (index-only
            // scans). Timing it straight after a bulk load measures the
            // load, not the queue.
            let pool = sqlx::PgPool::connect(&url).await.expect("connect");
            sqlx::raw_sql("VACUUM ANALYZE")
                .execute(&pool)
                .await
                .expect("vacuum");
            pool.close().await;
        }
        let token = server.add_editor("li", Role::Editor).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        let cookie = log_in(&http, &server, &token).await;
        let last = drafts.div_ceil(50).to_string();
        for (what, path) in VIEWS.iter().chain([&SEARCH]) {
            let path = path.replace("{last}", &last);
            let (listed, times) = time(&http, &server, &path, &token, &cookie, requests).await;
            println!(
                "| {backend} | {what} | {listed} | {:.1} | {:.1} |",
                ms(times[times.len() / 2]),
                ms(times[times.len() * 9 / 10]),
            );
        }
    }
}

/// The mail, and the editors' work on it: li holds 3,000 drafts, zhao
/// 2,000, and li rejected 500.
async fn seed(server: &ApiServer, drafts: usize) {
    let mail: Vec<Vec<u8>> = (0..drafts).map(mail).collect();
    for chunk in mail.chunks(1000) {
        server.ingest_all(chunk).await;
    }
    let store = &server.store;
    let now = chrono::Utc::now();
    let lease = Duration::from_secs(7200);
    let li = Actor {
        name: "li".into(),
        role: Role::Editor,
    };
    let zhao = Actor {
        name: "zhao".into(),
        role: Role::Editor,
    };
    let held = store.claim(&li, 3000, lease, now).await.expect("claim");
    store.claim(&zhao, 2000, lease, now).await.expect("claim");
    for d in held.iter().take(500) {
        let key = DraftKey::Reference(d.reference.clone());
        store
            .transition(
                &key,
                DraftStatus::Rejected,
                &li,
                None,
                &LetterPlan::default(),
                lease,
                now,
            )
            .await
            .expect("reject");
    }
    let all = DraftFilter {
        limit: Some(1),
        ..Default::default()
    };
    let counted = store.status_counts(&all).await.expect("counts").total(&all);
    assert_eq!(counted as usize, drafts);
}

async fn log_in(http: &reqwest::Client, server: &ApiServer, token: &str) -> String {
    let response = server.post_login(http, token).await;
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie");
    cookie.to_string()
}

/// How many drafts the view lists, and the sorted times of its requests.
async fn time(
    http: &reqwest::Client,
    server: &ApiServer,
    path: &str,
    token: &str,
    cookie: &str,
    requests: usize,
) -> (usize, Vec<Duration>) {
    let request = || {
        let call = http.get(server.url(path));
        if path.starts_with("/api/") {
            call.bearer_auth(token)
        } else {
            call.header(reqwest::header::COOKIE, cookie)
        }
    };
    let mut listed = 0;
    let mut times = Vec::new();
    for i in 0..requests + 3 {
        let started = Instant::now();
        let response = request().send().await.expect("request");
        let status = response.status();
        let body = response.text().await.expect("body");
        let took = started.elapsed();
        assert!(status.is_success(), "{path}: {status} {body}");
        listed = if path.starts_with("/api/") {
            body.matches("\"reference\"").count()
        } else {
            body.matches("<tr data-reference").count()
        };
        // The first answers warm the caches and the connection.
        if i >= 3 {
            times.push(took);
        }
    }
    times.sort();
    (listed, times)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
