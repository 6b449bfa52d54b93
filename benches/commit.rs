//! Store commit throughput, both backends: `cargo bench --bench commit`.
//! Many small submissions (cover letter plus an attached manuscript, about
//! 2.5 KB each) committed in batches, as an IMAP sync hands them over; the
//! figure is what one store accepts when neither the network nor parsing
//! is in the way. PostgreSQL is a private server started for the run.
//!   cargo bench --bench commit -- [--messages N] [--batch N] [--runs R]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use slushpile::ingest::{Fetched, FetchedBody, Settings, prepare};
use slushpile::store::{Incoming, SourceLocation, Store};
use support::postgres::shared;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let (mut messages, mut batch, mut runs) = (5000usize, 500usize, 3usize);
    while let Some(flag) = args.next() {
        let value: usize = args
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number"));
        match flag.as_str() {
            "--messages" => messages = value,
            "--batch" => batch = value.max(1),
            "--runs" => runs = value.max(1),
            _ => panic!("unknown option {flag}"),
        }
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(bench(messages, batch, runs));
}

async fn bench(messages: usize, batch: usize, runs: usize) {
    let items: Vec<Incoming> = (0..messages)
        .map(|i| {
            let fetched = Fetched {
                location: SourceLocation::Imap {
                    uidvalidity: 1,
                    uid: i as u32 + 1,
                },
                internal_date: None,
                body: FetchedBody::Full(support::message::sample_message(i)),
            };
            prepare("bench", fetched, &Settings::default(), chrono::Utc::now())
        })
        .collect();
    println!("| backend | messages | batch | median s | messages/s |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for backend in ["sqlite", "postgres"] {
        let mut seconds = Vec::new();
        for _ in 0..runs {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = match backend {
                "sqlite" => format!("sqlite://{}/slushpile.db", dir.path().display()),
                _ => shared().await.create_database().await,
            };
            let store = Store::open_migrated(&url, chrono_tz::Asia::Shanghai, "bench")
                .await
                .expect("open store");
            let started = Instant::now();
            for chunk in items.chunks(batch) {
                store.commit_batch(chunk, None).await.expect("commit");
            }
            seconds.push(started.elapsed().as_secs_f64());
            assert_eq!(store.count_drafts().await.unwrap() as usize, messages);
            store.close().await;
        }
        seconds.sort_by(f64::total_cmp);
        let median = seconds[seconds.len() / 2];
        println!(
            "| {backend} | {messages} | {batch} | {median:.3} | {:.0} |",
            messages as f64 / median
        );
    }
}
