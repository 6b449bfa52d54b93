//! What the store already holds of a batch, looked up for the whole batch
//! in a few queries instead of three per message: the round trips to the
//! database, not the work, dominated committing small messages. Drafts
//! created while the batch commits are added as they are made, so a
//! duplicate inside one batch is recognised too.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::Db;
use crate::store::{Incoming, Result, SourceLocation};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

/// A draft: id and reference.
pub(super) type Found = (i64, String);

#[derive(Default)]
pub(super) struct Known {
    /// (mailbox, uidvalidity, uid)
    by_uid: HashMap<(String, u32, u32), Found>,
    /// Raw sha256 of a draft, or of bytes kept with one of its events.
    by_sha: HashMap<String, Found>,
    /// (Message-ID, sender address)
    by_message_id: HashMap<(String, Option<String>), Found>,
}

/// Bind parameters per query, under SQLite's and PostgreSQL's limits.
const CHUNK: usize = 500;

impl Known {
    pub(super) async fn prefetch(tx: &mut Transaction<'_>, items: &[Incoming]) -> Result<Known> {
        let mut known = Known::default();
        let mut uids: HashMap<(&str, u32), Vec<u32>> = HashMap::new();
        for item in items {
            if let SourceLocation::Imap { uidvalidity, uid } = item.location {
                uids.entry((item.mailbox.as_str(), uidvalidity))
                    .or_default()
                    .push(uid);
            }
        }
        for ((mailbox, uidvalidity), uids) in uids {
            for chunk in uids.chunks(CHUNK) {
                // Only integers are formatted into the SQL.
                let list: Vec<String> = chunk.iter().map(u32::to_string).collect();
                let rows: Vec<(i64, i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT l.uid, d.id, d.reference FROM message_locations l
                     JOIN drafts d ON d.id = l.draft_id
                     WHERE l.mailbox = $1 AND l.uidvalidity = $2 AND l.uid IN ({})",
                    list.join(",")
                )))
                .bind(mailbox)
                .bind(i64::from(uidvalidity))
                .fetch_all(&mut **tx)
                .await?;
                for (uid, id, reference) in rows {
                    let key = (mailbox.to_string(), uidvalidity, uid as u32);
                    known.by_uid.insert(key, (id, reference));
                }
            }
        }

        let shas: Vec<&str> = items
            .iter()
            .filter_map(|i| i.raw_sha256.as_deref())
            .collect();
        // A draft's own bytes win over bytes kept with an event.
        for sql in [
            "SELECT raw_sha256, id, reference FROM drafts WHERE raw_sha256 IN",
            "SELECT e.raw_sha256, d.id, d.reference FROM events e
             JOIN drafts d ON d.id = e.draft_id WHERE e.raw_sha256 IN",
        ] {
            let rows: Vec<(String, i64, String)> = select_in(tx, sql, &shas).await?;
            for (sha, id, reference) in rows {
                known.by_sha.entry(sha).or_insert((id, reference));
            }
        }

        let ids: Vec<&str> = items
            .iter()
            .filter_map(|i| i.parsed.submission.message_id.as_deref())
            .collect();
        let sql = "SELECT message_id, from_address, id, reference FROM drafts WHERE message_id IN";
        let rows: Vec<(String, Option<String>, i64, String)> = select_in(tx, sql, &ids).await?;
        for (message_id, from, id, reference) in rows {
            known
                .by_message_id
                .insert((message_id, from), (id, reference));
        }
        Ok(known)
    }

    pub(super) fn by_uid(&self, mailbox: &str, uidvalidity: u32, uid: u32) -> Option<Found> {
        self.by_uid
            .get(&(mailbox.to_string(), uidvalidity, uid))
            .cloned()
    }

    pub(super) fn by_sha(&self, sha: &str) -> Option<Found> {
        self.by_sha.get(sha).cloned()
    }

    pub(super) fn by_message_id(&self, message_id: &str, from: Option<&str>) -> Option<Found> {
        self.by_message_id
            .get(&(message_id.to_string(), from.map(str::to_string)))
            .cloned()
    }

    /// Bytes now stored for `found` (as the draft's or kept with an event).
    pub(super) fn note_sha(&mut self, sha: &str, found: &Found) {
        self.by_sha
            .entry(sha.to_string())
            .or_insert_with(|| found.clone());
    }

    pub(super) fn note_message_id(&mut self, message_id: &str, from: Option<&str>, found: &Found) {
        self.by_message_id
            .entry((message_id.to_string(), from.map(str::to_string)))
            .or_insert_with(|| found.clone());
    }
}

/// `sql` followed by ` ($1, …, $n)`.
fn in_list(sql: &str, n: usize) -> String {
    let params: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("{sql} ({})", params.join(", "))
}

async fn select_in<R>(tx: &mut Transaction<'_>, sql: &str, keys: &[&str]) -> Result<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let mut found = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let mut query = sqlx::query_as(AssertSqlSafe(in_list(sql, chunk.len())));
        for key in chunk {
            query = query.bind(*key);
        }
        found.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(found)
}

/// A batch being committed: what the store knows of it, and what it will
/// write at the end.
pub(super) struct Batch {
    pub(super) known: Known,
    pub(super) later: Later,
}

/// Events and message locations of a batch, written by a few multi-row
/// INSERTs just before the batch commits rather than one statement each.
/// Nothing in the batch reads them back: lookups go through [`Known`].
#[derive(Default)]
pub(super) struct Later {
    /// draft id, kind, detail, raw sha256 kept with the event
    events: Vec<(i64, &'static str, serde_json::Value, Option<String>)>,
    /// mailbox, uidvalidity, uid, draft id
    locations: Vec<(String, u32, u32, i64)>,
    /// The day's reference counter: the batch takes its row once (which
    /// locks it until commit), counts on in memory, writes the last back.
    counter: Option<Counter>,
}

struct Counter {
    day: String,
    stored: i64,
    last: i64,
}

impl Later {
    pub(super) fn event(
        &mut self,
        draft_id: i64,
        kind: &'static str,
        detail: serde_json::Value,
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

    pub(super) async fn write(
        self,
        tx: &mut Transaction<'_>,
        actor: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        for chunk in self.events.chunks(CHUNK / 6) {
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
        for chunk in self.locations.chunks(CHUNK / 5) {
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

/// `sql` followed by `rows` tuples of `columns` parameters: ` ($1, $2), ($3, $4)`.
pub(super) fn values(sql: &str, rows: usize, columns: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!("{sql} {}", tuples.join(", "))
}
