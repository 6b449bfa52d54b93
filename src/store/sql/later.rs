//! The rows a batch writes, collected while its messages are decided and
//! written by a few multi-row INSERTs just before it commits: one statement
//! per message was a round trip to the database each, and round trips, not
//! rows, were the cost. Nothing in the batch reads these rows back: lookups
//! go through `Known`, and draft ids are reserved up front.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::AssertSqlSafe;

use super::bind::{CHUNK, shaped_chunks, values};
use super::engine::db_time;
use super::rows;
use super::{Db, RESERVE_DRAFT_IDS};
use crate::draft::DraftStatus;
use crate::message::Attachment;
use crate::store::{Incoming, RawContent, Result, SourceLocation, StoreError};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

#[derive(Default)]
pub(super) struct Later<'a> {
    drafts: Vec<NewDraft<'a>>,
    /// draft id, attachment
    attachments: Vec<(i64, &'a Attachment)>,
    acks: Vec<NewAck<'a>>,
    /// draft id, kind, detail, raw sha256 kept with the event
    events: Vec<(i64, &'static str, Value, Option<String>)>,
    /// mailbox, uidvalidity, uid, draft id
    locations: Vec<(String, u32, u32, i64)>,
    /// Draft ids reserved for this batch, handed out in order.
    ids: VecDeque<i64>,
    /// The day's reference counter: the batch takes its row once (which
    /// locks it until commit), counts on in memory, writes the last back.
    counter: Option<Counter>,
}

pub(super) struct NewDraft<'a> {
    pub(super) id: i64,
    pub(super) reference: String,
    pub(super) item: &'a Incoming,
    pub(super) status: DraftStatus,
    pub(super) received_at: DateTime<Utc>,
    /// JSON of the sender-authentication verdict behind the ack decision.
    pub(super) sender_auth: Option<String>,
}

pub(super) struct NewAck<'a> {
    pub(super) draft_id: i64,
    pub(super) status: &'static str,
    pub(super) reason: Option<String>,
    pub(super) to: Option<(&'a str, Option<&'a str>)>,
    pub(super) next_attempt_at: Option<DateTime<Utc>>,
    pub(super) expires_at: DateTime<Utc>,
}

struct Counter {
    day: String,
    stored: i64,
    last: i64,
}

impl<'a> Later<'a> {
    /// A fresh draft id. The first call reserves `wanted` ids, at most one
    /// per message left in the batch, so one reservation serves the batch.
    /// SQLite (one writer, holding the write lock) counts on from the
    /// highest id ever used; PostgreSQL takes them from the sequence, which
    /// other instances share.
    pub(super) async fn draft_id(
        &mut self,
        tx: &mut Transaction<'_>,
        wanted: usize,
    ) -> Result<i64> {
        if self.ids.is_empty() {
            let ids: Vec<i64> = sqlx::query_scalar(RESERVE_DRAFT_IDS)
                .bind(wanted.max(1) as i64)
                .fetch_all(&mut **tx)
                .await?;
            self.ids.extend(ids);
        }
        self.ids
            .pop_front()
            .ok_or_else(|| StoreError::Corrupt("no draft id could be reserved".into()))
    }

    pub(super) fn draft(&mut self, draft: NewDraft<'a>) {
        self.attachments.extend(
            draft
                .item
                .parsed
                .submission
                .attachments
                .iter()
                .map(|a| (draft.id, a)),
        );
        self.drafts.push(draft);
    }

    pub(super) fn ack(&mut self, ack: NewAck<'a>) {
        self.acks.push(ack);
    }

    pub(super) fn event(
        &mut self,
        draft_id: i64,
        kind: &'static str,
        detail: Value,
        raw_sha256: Option<&str>,
    ) {
        self.events
            .push((draft_id, kind, detail, raw_sha256.map(str::to_string)));
    }

    /// Where `item` was seen, for an IMAP source (files have no UID).
    pub(super) fn location(&mut self, item: &Incoming, draft_id: i64) {
        if let SourceLocation::Imap { uidvalidity, uid } = item.location {
            self.locations
                .push((item.mailbox.clone(), uidvalidity, uid, draft_id));
        }
    }

    /// The next draft reference of the day: SP-YYYYMMDD-NNNN. A batch has one
    /// `now`, so one day.
    pub(super) async fn next_reference(
        &mut self,
        tx: &mut Transaction<'_>,
        day: &str,
    ) -> Result<String> {
        let n = match &mut self.counter {
            Some(counter) => {
                counter.last += 1;
                counter.last
            }
            None => {
                let n: i64 = sqlx::query_scalar(
                    "INSERT INTO reference_counters (day, last) VALUES ($1, 1)
                     ON CONFLICT (day) DO UPDATE SET last = reference_counters.last + 1
                     RETURNING last",
                )
                .bind(day)
                .fetch_one(&mut **tx)
                .await?;
                self.counter = Some(Counter {
                    day: day.to_string(),
                    stored: n,
                    last: n,
                });
                n
            }
        };
        Ok(format!("SP-{day}-{n:04}"))
    }

    /// Drafts first: every other row refers to one.
    pub(super) async fn write(
        self,
        tx: &mut Transaction<'_>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        write_drafts(tx, &self.drafts, now).await?;
        rows::insert_attachments(tx, &self.attachments).await?;
        for chunk in shaped_chunks(&self.acks, CHUNK / 8) {
            let sql = values(
                "INSERT INTO acks (draft_id, status, reason, to_address, to_name, next_attempt_at, created_at, expires_at) VALUES",
                chunk.len(),
                8,
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for ack in chunk {
                query = query
                    .bind(ack.draft_id)
                    .bind(ack.status)
                    .bind(ack.reason.as_deref())
                    .bind(ack.to.map(|(address, _)| address))
                    .bind(ack.to.and_then(|(_, name)| name))
                    .bind(ack.next_attempt_at)
                    .bind(now)
                    .bind(ack.expires_at);
            }
            query.execute(&mut **tx).await?;
        }
        for chunk in shaped_chunks(&self.events, CHUNK / 6) {
            let sql = values(
                "INSERT INTO events (draft_id, at, kind, actor, detail, raw_sha256) VALUES",
                chunk.len(),
                6,
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (draft_id, kind, detail, sha) in chunk {
                query = query
                    .bind(*draft_id)
                    .bind(now)
                    .bind(*kind)
                    .bind(actor)
                    .bind(detail.to_string())
                    .bind(sha.as_deref());
            }
            query.execute(&mut **tx).await?;
        }
        for chunk in shaped_chunks(&self.locations, CHUNK / 5) {
            let sql = values(
                "INSERT INTO message_locations (mailbox, uidvalidity, uid, draft_id, seen_at) VALUES",
                chunk.len(),
                5,
            ) + " ON CONFLICT DO NOTHING";
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (mailbox, uidvalidity, uid, draft_id) in chunk {
                query = query
                    .bind(mailbox.as_str())
                    .bind(i64::from(*uidvalidity))
                    .bind(i64::from(*uid))
                    .bind(*draft_id)
                    .bind(now);
            }
            query.execute(&mut **tx).await?;
        }
        if let Some(counter) = self.counter.filter(|c| c.last > c.stored) {
            sqlx::query("UPDATE reference_counters SET last = $2 WHERE day = $1")
                .bind(&counter.day)
                .bind(counter.last)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

async fn write_drafts(
    tx: &mut Transaction<'_>,
    drafts: &[NewDraft<'_>],
    now: DateTime<Utc>,
) -> Result<()> {
    const COLUMNS: [&str; 12] = [
        "id",
        "reference",
        "status",
        "mailbox",
        "raw_sha256",
        "raw_headers",
        "raw_size",
        "internal_date",
        "created_at",
        "received_at",
        "status_changed_at",
        "sender_auth",
    ];
    let per_row = COLUMNS.len() + rows::DERIVED.len();
    for chunk in drafts.chunks(CHUNK / per_row) {
        let sql = rows::insert_drafts_sql(&COLUMNS, chunk.len());
        // Not cached: a cached statement would hold its last bound bodies.
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for draft in chunk {
            let item = draft.item;
            let (raw_headers, raw_size) = match &item.raw {
                RawContent::Full(bytes) => (None, bytes.len() as u64),
                RawContent::HeadersOnly { headers, size } => (Some(headers.as_slice()), *size),
            };
            query = query
                .bind(draft.id)
                .bind(&draft.reference)
                .bind(draft.status.as_str())
                .bind(&item.mailbox)
                .bind(item.raw_sha256.as_deref())
                .bind(raw_headers)
                .bind(raw_size as i64)
                .bind(item.internal_date.map(db_time))
                .bind(now)
                .bind(draft.received_at)
                .bind(now)
                .bind(draft.sender_auth.as_deref());
            query = rows::bind_derived(query, &item.parsed);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
