//! The store's invariants on a real SQLite file: the raw message is the
//! record, ingestion is idempotent, nothing is dropped, reparse rebuilds.

use slushpile::draft::DraftStatus;
use slushpile::ingest::{Fetched, FetchedBody, Settings, prepare};
use slushpile::message::ParseOptions;
use slushpile::store::{
    DraftFilter, DraftKey, Incoming, IngestOutcome, MailboxProgress, SeenAgain, SourceLocation,
    Store,
};

mod support;

const MAILBOX: &str = "submissions";

fn submission(message_id: &str, from: &str, extra_header: &str) -> Vec<u8> {
    format!(
        "{extra_header}From: Writer <{from}>\r\nTo: submissions@example.org\r\nSubject: =?UTF-8?B?5oqV56i/77ya5LiK5aW95oiw?=\r\n\
         Date: Sat, 28 Nov 2026 09:15:00 +0800\r\nMessage-ID: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         新冠肺炎疫情发生以来，教育部教师司党支部认真学习。\r\n"
    )
    .into_bytes()
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = support::test_store_url(dir.path()).await;
    let store = Store::open_migrated(&url, chrono_tz::Asia::Shanghai, "test")
        .await
        .unwrap();
    (dir, store)
}

fn incoming(body: FetchedBody, location: SourceLocation) -> Incoming {
    let fetched = Fetched {
        location,
        internal_date: None,
        body,
    };
    prepare(MAILBOX, fetched, &Settings::default(), chrono::Utc::now())
}

fn imap(uid: u32) -> SourceLocation {
    SourceLocation::Imap {
        uidvalidity: 7,
        uid,
    }
}

async fn commit(store: &Store, item: Incoming) -> IngestOutcome {
    store.commit_batch(&[item], None).await.unwrap().remove(0)
}

async fn event_kinds(store: &Store, id: i64) -> Vec<String> {
    store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn a_new_message_becomes_one_draft_holding_the_exact_bytes() {
    let (_dir, store) = store().await;
    let raw = submission("a@example.org", "writer@example.org", "");
    let IngestOutcome::Created {
        draft_id,
        reference,
        quarantined: false,
    } = commit(&store, incoming(FetchedBody::Full(raw.clone()), imap(1))).await
    else {
        panic!("expected a new draft");
    };
    let day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y%m%d");
    assert_eq!(reference, format!("SP-{day}-0001"));
    assert_eq!(store.raw(draft_id).await.unwrap().unwrap(), raw);
    let draft = store
        .draft(&DraftKey::Reference(reference))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(draft.status, DraftStatus::New);
    assert_eq!(draft.received_at.to_rfc3339(), "2026-11-28T09:15:00+08:00");
    assert_eq!(event_kinds(&store, draft_id).await, ["ingested"]);
}

#[tokio::test]
async fn seeing_a_message_again_never_makes_a_second_draft() {
    let (_dir, store) = store().await;
    let raw = submission("a@example.org", "writer@example.org", "");
    let IngestOutcome::Created { draft_id, .. } =
        commit(&store, incoming(FetchedBody::Full(raw.clone()), imap(1))).await
    else {
        panic!("expected a new draft")
    };

    // Same UID (e.g. crash after commit, before the move): recognised by location.
    let again = commit(&store, incoming(FetchedBody::Full(raw.clone()), imap(1))).await;
    assert!(
        matches!(again, IngestOutcome::SeenAgain { reason: SeenAgain::SameUid, draft_id: d, .. } if d == draft_id)
    );
    // Same bytes under another UID (e.g. UIDVALIDITY changed) or from a file.
    let again = commit(&store, incoming(FetchedBody::Full(raw.clone()), imap(2))).await;
    assert!(matches!(
        again,
        IngestOutcome::SeenAgain {
            reason: SeenAgain::SameBytes,
            ..
        }
    ));
    let again = commit(
        &store,
        incoming(FetchedBody::Full(raw), SourceLocation::File("x.eml".into())),
    )
    .await;
    assert!(matches!(
        again,
        IngestOutcome::SeenAgain {
            reason: SeenAgain::SameBytes,
            ..
        }
    ));
    // Same Message-ID and sender, different bytes (another Received line): bytes kept.
    let resent = submission(
        "a@example.org",
        "writer@example.org",
        "Received: from relay.example.org\r\n",
    );
    let again = commit(&store, incoming(FetchedBody::Full(resent.clone()), imap(3))).await;
    assert!(matches!(
        again,
        IngestOutcome::SeenAgain {
            reason: SeenAgain::SameMessageId,
            ..
        }
    ));
    // ... and those kept bytes are recognised as seen on their own later.
    let again = commit(&store, incoming(FetchedBody::Full(resent), imap(4))).await;
    assert!(matches!(
        again,
        IngestOutcome::SeenAgain {
            reason: SeenAgain::SameBytes,
            ..
        }
    ));

    assert_eq!(store.count_drafts().await.unwrap(), 1);
    let events = store.events(draft_id).await.unwrap();
    let reasons: Vec<String> = events
        .iter()
        .map(|e| format!("{} {}", e.kind, e.detail["reason"]))
        .collect();
    assert_eq!(
        reasons,
        [
            "ingested null",
            "seen_again \"same_uid\"",
            "seen_again \"same_bytes\"",
            "seen_again \"same_bytes\"",
            "seen_again \"same_message_id\"",
            "seen_again \"same_bytes\"",
        ]
    );
}

#[tokio::test]
async fn duplicates_inside_one_batch_are_recognised_like_across_batches() {
    let (_dir, store) = store().await;
    let raw = submission("b@example.org", "writer@example.org", "");
    let resent = submission(
        "b@example.org",
        "writer@example.org",
        "Received: from relay.example.org\r\n",
    );
    let batch = [
        incoming(FetchedBody::Full(raw.clone()), imap(1)),
        incoming(FetchedBody::Full(raw), imap(2)),
        incoming(FetchedBody::Full(resent.clone()), imap(3)),
        incoming(FetchedBody::Full(resent), imap(4)),
    ];
    let outcomes = store.commit_batch(&batch, None).await.unwrap();
    let reasons: Vec<Option<SeenAgain>> = outcomes
        .iter()
        .map(|o| match o {
            IngestOutcome::SeenAgain { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            None,
            Some(SeenAgain::SameBytes),
            Some(SeenAgain::SameMessageId),
            Some(SeenAgain::SameBytes),
        ]
    );
    assert_eq!(store.count_drafts().await.unwrap(), 1);
    // The same batch again: every UID is known now.
    let again = store.commit_batch(&batch, None).await.unwrap();
    assert!(again.iter().all(|o| matches!(
        o,
        IngestOutcome::SeenAgain {
            reason: SeenAgain::SameUid,
            ..
        }
    )));
}

#[tokio::test]
async fn references_count_on_within_and_across_batches_and_duplicates_take_none() {
    let (_dir, store) = store().await;
    let new = |id: &str, uid: u32| {
        incoming(
            FetchedBody::Full(submission(id, "writer@example.org", "")),
            imap(uid),
        )
    };
    let references = |outcomes: Vec<IngestOutcome>| -> Vec<String> {
        outcomes
            .into_iter()
            .filter_map(|o| match o {
                IngestOutcome::Created { reference, .. } => Some(reference),
                _ => None,
            })
            .collect()
    };
    let day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y%m%d");
    let expected = |numbers: &[u32]| -> Vec<String> {
        numbers.iter().map(|n| format!("SP-{day}-{n:04}")).collect()
    };
    let first = [new("a@x", 1), new("a@x", 2), new("b@x", 3), new("c@x", 4)];
    let outcomes = store.commit_batch(&first, None).await.unwrap();
    assert_eq!(references(outcomes), expected(&[1, 2, 3]));
    let second = [new("c@x", 5), new("d@x", 6), new("e@x", 7)];
    let outcomes = store.commit_batch(&second, None).await.unwrap();
    assert_eq!(references(outcomes), expected(&[4, 5]));
}

#[tokio::test]
async fn same_message_id_from_another_sender_is_another_draft() {
    let (_dir, store) = store().await;
    let first = commit(
        &store,
        incoming(
            FetchedBody::Full(submission("a@x", "one@example.org", "")),
            imap(1),
        ),
    )
    .await;
    let second = commit(
        &store,
        incoming(
            FetchedBody::Full(submission("a@x", "two@example.org", "")),
            imap(2),
        ),
    )
    .await;
    assert!(matches!(first, IngestOutcome::Created { .. }));
    assert!(matches!(second, IngestOutcome::Created { .. }));
    assert_eq!(store.count_drafts().await.unwrap(), 2);
}

#[tokio::test]
async fn a_message_too_big_is_a_quarantined_record_of_headers_and_size() {
    let (_dir, store) = store().await;
    let raw = submission("big@example.org", "writer@example.org", "");
    let headers = slushpile::message::header_section(&raw).to_vec();
    let item = incoming(
        FetchedBody::TooBig {
            headers: headers.clone(),
            size: 90_000_000,
        },
        imap(9),
    );
    let IngestOutcome::Created {
        draft_id,
        quarantined: true,
        ..
    } = commit(&store, item).await
    else {
        panic!("expected a quarantined record");
    };
    let draft = store.draft(&DraftKey::Id(draft_id)).await.unwrap().unwrap();
    assert_eq!(draft.status, DraftStatus::Quarantined);
    assert!(
        draft
            .quarantine_reason
            .unwrap()
            .starts_with("too_big: 90000000 bytes")
    );
    assert_eq!(draft.message_id.as_deref(), Some("big@example.org"));
    assert_eq!(store.raw(draft_id).await.unwrap().unwrap(), headers);
    let filter = DraftFilter {
        status: Some(DraftStatus::Quarantined),
        ..Default::default()
    };
    assert_eq!(store.list_drafts(&filter).await.unwrap().len(), 1);
}

#[tokio::test]
async fn unparseable_input_is_quarantined_not_dropped() {
    let (_dir, store) = store().await;
    let IngestOutcome::Created {
        draft_id,
        quarantined: true,
        ..
    } = commit(&store, incoming(FetchedBody::Full(Vec::new()), imap(1))).await
    else {
        panic!("expected a quarantined record");
    };
    assert_eq!(event_kinds(&store, draft_id).await, ["quarantined"]);
}

#[tokio::test]
async fn reparse_rebuilds_derived_fields_and_releases_what_now_parses() {
    let (_dir, store) = store().await;
    let raw = submission("r@example.org", "writer@example.org", "");
    let mut item = incoming(FetchedBody::Full(raw), imap(1));
    // As if an older parser had failed on it.
    item.parsed.quarantine = Some("unparseable: old parser bug".into());
    item.parsed.submission.title = "stale".into();
    let IngestOutcome::Created {
        draft_id,
        reference,
        ..
    } = commit(&store, item).await
    else {
        panic!("expected a new record")
    };

    let report = store.reparse(&ParseOptions::default()).await.unwrap();
    assert_eq!((report.reparsed, report.released), (1, 1));
    let draft = store.draft(&DraftKey::Id(draft_id)).await.unwrap().unwrap();
    assert_eq!(draft.status, DraftStatus::New);
    assert_eq!(draft.reference, reference);
    assert_eq!(draft.quarantine_reason, None);
    assert_ne!(draft.title, "stale");
    assert_eq!(
        event_kinds(&store, draft_id).await,
        ["quarantined", "reparsed", "released"]
    );
}

#[tokio::test]
async fn mailbox_progress_is_committed_with_the_batch() {
    let (_dir, store) = store().await;
    assert_eq!(store.mailbox_progress(MAILBOX).await.unwrap(), None);
    let items = vec![
        incoming(
            FetchedBody::Full(submission("p1@x", "w@example.org", "")),
            imap(4),
        ),
        incoming(
            FetchedBody::Full(submission("p2@x", "w@example.org", "")),
            imap(5),
        ),
    ];
    let progress = MailboxProgress {
        uidvalidity: 7,
        last_uid: 5,
    };
    store
        .commit_batch(&items, Some((MAILBOX, progress)))
        .await
        .unwrap();
    assert_eq!(
        store.mailbox_progress(MAILBOX).await.unwrap(),
        Some(progress)
    );
    assert_eq!(
        store.known_uids(MAILBOX, 7, &[3, 4, 5, 6]).await.unwrap(),
        [4, 5]
    );
    assert!(
        store
            .known_uids(MAILBOX, 8, &[4, 5])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn uids_seen_again_before_their_server_action_are_events() {
    let (_dir, store) = store().await;
    let item = incoming(
        FetchedBody::Full(submission("l@x", "w@example.org", "")),
        imap(3),
    );
    let IngestOutcome::Created { draft_id, .. } = commit(&store, item).await else {
        panic!("expected a new draft")
    };
    store.note_seen_uids(MAILBOX, 7, &[3, 99]).await.unwrap();
    assert_eq!(
        event_kinds(&store, draft_id).await,
        ["ingested", "seen_again"]
    );
    assert_eq!(store.count_drafts().await.unwrap(), 1);
}

#[tokio::test]
async fn a_reply_that_must_be_quarantined_gets_its_own_record() {
    let (_dir, store) = store().await;
    let IngestOutcome::Created { reference, .. } = commit(
        &store,
        incoming(
            FetchedBody::Full(submission("f@x", "w@example.org", "")),
            imap(1),
        ),
    )
    .await
    else {
        panic!("expected a new draft")
    };
    let reply =
        format!("From: w@example.org\r\nSubject: Re: {reference}\r\nMessage-ID: <reply@x>\r\n\r\n");
    let too_big = FetchedBody::TooBig {
        headers: reply.clone().into_bytes(),
        size: 90_000_000,
    };
    let outcome = commit(&store, incoming(too_big, imap(2))).await;
    assert!(
        matches!(
            outcome,
            IngestOutcome::Created {
                quarantined: true,
                ..
            }
        ),
        "{outcome:?}"
    );
    // An ordinary reply is a follow-up.
    let small = reply.replace("<reply@x>", "<reply-2@x>") + "new version\r\n";
    let small = FetchedBody::Full(small.into_bytes());
    let outcome = commit(&store, incoming(small, imap(3))).await;
    assert!(
        matches!(outcome, IngestOutcome::FollowUp { .. }),
        "{outcome:?}"
    );
}

/// A batch's drafts are written many to a statement, with ids reserved up
/// front: each outcome's id must lead to that message's own row and
/// attachments, and the next batch must count on past them.
#[tokio::test]
async fn every_draft_of_a_large_batch_gets_its_own_id_row_and_attachments() {
    let (_dir, store) = store().await;
    let batch = |range: std::ops::Range<usize>| -> Vec<Incoming> {
        range
            .map(|i| {
                incoming(
                    FetchedBody::Full(support::message::sample_message(i)),
                    imap(i as u32 + 1),
                )
            })
            .collect()
    };
    let mut last_id = 0;
    for range in [0..45, 45..50] {
        let items = batch(range.clone());
        let outcomes = store.commit_batch(&items, None).await.unwrap();
        for (i, outcome) in range.zip(outcomes) {
            let IngestOutcome::Created { draft_id, .. } = outcome else {
                panic!("message {i}: {outcome:?}");
            };
            assert!(
                draft_id > last_id,
                "ids count on: {draft_id} after {last_id}"
            );
            last_id = draft_id;
            let draft = store.draft(&DraftKey::Id(draft_id)).await.unwrap().unwrap();
            assert_eq!(draft.id, draft_id);
            let message_id = draft.message_id.unwrap_or_default();
            assert!(
                message_id.starts_with(&format!("sample-{i:06}.")),
                "{message_id}"
            );
            let names: Vec<_> = draft
                .attachments
                .iter()
                .map(|a| a.filename.clone())
                .collect();
            assert_eq!(
                names,
                [Some(format!("manuscript-{i}.txt"))],
                "draft {draft_id}"
            );
            assert!(draft.body_text.contains("请审阅"), "draft {draft_id}");
        }
    }
    assert_eq!(store.count_drafts().await.unwrap(), 50);
}

/// The daemon's ingestor: documents read for at most `inline` before the
/// commit, the rest after it.
fn deferring_ingestor(store: &Store, inline: std::time::Duration) -> slushpile::ingest::Ingestor {
    let mut settings = Settings::default();
    if let Some(limits) = settings.options.extract.as_mut() {
        limits.inline_timeout = inline;
    }
    slushpile::ingest::Ingestor {
        store: store.clone(),
        settings: std::sync::Arc::new(settings),
        outbox: Default::default(),
        health: Default::default(),
        verifier: None,
        defer_extraction: true,
        extraction: Default::default(),
    }
}

#[tokio::test]
async fn documents_left_unread_by_the_batch_deadline_are_read_after_the_commit() {
    let (_dir, store) = store().await;
    let with_document = with_document_bytes();
    let plain = submission("plain@example.org", "writer@example.org", "");
    let batch = vec![
        Fetched {
            location: imap(1),
            internal_date: None,
            body: FetchedBody::Full(with_document),
        },
        Fetched {
            location: imap(2),
            internal_date: None,
            body: FetchedBody::Full(plain),
        },
    ];
    // No inline time at all: the document waits for after the commit,
    // and the batch is stored without it.
    let ingestor = deferring_ingestor(&store, std::time::Duration::ZERO);
    let outcomes = ingestor.ingest(MAILBOX, batch, None).await.unwrap();
    let ids: Vec<i64> = outcomes
        .iter()
        .map(|o| match o {
            IngestOutcome::Created { draft_id, .. } => *draft_id,
            other => panic!("expected a new draft, got {other:?}"),
        })
        .collect();
    let waiting = store.draft(&DraftKey::Id(ids[0])).await.unwrap().unwrap();
    assert!(waiting.extraction_pending);
    assert_eq!(waiting.status, DraftStatus::New);
    assert_eq!(waiting.attachments[0].article_text, None);
    assert_eq!(
        waiting.attachments[0].extraction_note.as_deref(),
        Some(slushpile::message::extract::DEFERRED_NOTE)
    );
    let plain = store.draft(&DraftKey::Id(ids[1])).await.unwrap().unwrap();
    assert!(!plain.extraction_pending);

    let options = ParseOptions::default();
    let read = slushpile::ingest::deferred::drain(&store, &options, None).await;
    assert_eq!(read.unwrap(), 1);
    let done = store.draft(&DraftKey::Id(ids[0])).await.unwrap().unwrap();
    assert!(!done.extraction_pending);
    assert_eq!(done.attachments[0].extraction_note, None);
    let article = done.attachments[0].article_text.as_deref().unwrap();
    assert!(article.contains("做好疫情防控期間教師工作"), "{article}");
    // The document's words find it now, and the draft is otherwise as it was.
    let found = store
        .list_drafts(&DraftFilter {
            text: Some("教師資格".into()),
            ..DraftFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(found.iter().map(|d| d.id).collect::<Vec<_>>(), [ids[0]]);
    assert_eq!(done.status, DraftStatus::New);
    assert_eq!(done.reference, waiting.reference);
    assert_eq!(
        slushpile::ingest::deferred::drain(&store, &options, None)
            .await
            .unwrap(),
        0
    );

    // With time enough, a document is read before the commit.
    let another = String::from_utf8(with_document_bytes())
        .unwrap()
        .replace("<document-submission@example.com>", "<another@example.com>");
    let ingestor = deferring_ingestor(&store, std::time::Duration::from_secs(60));
    let batch = vec![Fetched {
        location: imap(3),
        internal_date: None,
        body: FetchedBody::Full(another.into_bytes()),
    }];
    let outcome = ingestor.ingest(MAILBOX, batch, None).await.unwrap();
    let IngestOutcome::Created { draft_id, .. } = outcome[0] else {
        panic!("expected a new draft, got {outcome:?}");
    };
    let draft = store.draft(&DraftKey::Id(draft_id)).await.unwrap().unwrap();
    assert!(!draft.extraction_pending);
    assert!(draft.attachments[0].article_text.is_some());
}

fn with_document_bytes() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/messages/document_submission.eml"
    ))
    .unwrap()
}

/// 字數 as migration 0009 counts the drafts already stored is 字數 as
/// ingestion counts new ones: the body plus the attached documents' text,
/// spaces, tabs, line breaks and full-width spaces not counted.
#[tokio::test]
async fn the_migration_counts_length_as_ingestion_does() {
    let dir = tempfile::tempdir().unwrap();
    let url = support::test_store_url(dir.path()).await;
    let store = Store::open_migrated(&url, chrono_tz::Asia::Shanghai, "test")
        .await
        .unwrap();
    // A cover letter and a .docx manuscript.
    let raw = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/messages/document_submission.eml"),
    )
    .unwrap();
    commit(&store, incoming(FetchedBody::Full(raw), imap(1))).await;
    let ingested = store.list_drafts(&DraftFilter::default()).await.unwrap();
    let draft = &ingested[0];
    let documents: Vec<&str> = draft
        .attachments
        .iter()
        .filter_map(|a| a.article_text.as_deref())
        .collect();
    assert!(
        !documents.is_empty(),
        "the manuscripts are read as documents"
    );
    let by_hand = std::iter::once(draft.body_text.as_str())
        .chain(documents)
        .flat_map(str::chars)
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{3000}'))
        .count();
    assert_eq!(draft.length_chars, by_hand as u64);
    store.close().await;

    // The migration's own statement, over the same draft.
    let (file, backfill_of) = if url.starts_with("sqlite:") {
        (
            include_str!("../migrations/sqlite/0009_queue.sql"),
            "sqlite",
        )
    } else {
        (
            include_str!("../migrations/postgres/0009_queue.sql"),
            "postgres",
        )
    };
    let start = file.find("UPDATE drafts").unwrap();
    let backfill = &file[start..start + file[start..].find(';').unwrap()];
    for statement in ["UPDATE drafts SET length_chars = 0", backfill] {
        match backfill_of {
            "sqlite" => {
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
            _ => {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
        }
    }
    let store = Store::open(&url, chrono_tz::Asia::Shanghai, "test")
        .await
        .unwrap();
    let migrated = store.list_drafts(&DraftFilter::default()).await.unwrap();
    assert_eq!(migrated[0].length_chars, draft.length_chars);
}
