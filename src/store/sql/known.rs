//! What the store already holds of a batch, looked up for the whole batch
//! in a few queries instead of three per message: the round trips to the
//! database, not the work, dominated committing small messages. Drafts
//! created while the batch commits are added as they are made, so a
//! duplicate inside one batch is recognised too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::Db;
use super::bind::{CHUNK, params, shaped_chunks};
use crate::store::{Decision, Incoming, Result, SourceLocation};

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
    /// Acknowledgements pending or sent to an address within the rate
    /// window, counted on as the batch queues more.
    recent_acks: HashMap<String, i64>,
}

impl Known {
    pub(super) async fn prefetch(
        tx: &mut Transaction<'_>,
        items: &[Incoming],
        now: DateTime<Utc>,
    ) -> Result<Known> {
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
            for chunk in shaped_chunks(&uids, CHUNK) {
                let sql = format!(
                    "SELECT l.uid, d.id, d.reference FROM message_locations l
                     JOIN drafts d ON d.id = l.draft_id
                     WHERE l.mailbox = $1 AND l.uidvalidity = $2 AND l.uid IN ({})",
                    params(3, chunk.len())
                );
                let mut query = sqlx::query_as::<_, (i64, i64, String)>(AssertSqlSafe(sql))
                    .bind(mailbox)
                    .bind(i64::from(uidvalidity));
                for uid in chunk {
                    query = query.bind(i64::from(*uid));
                }
                let rows = query.fetch_all(&mut **tx).await?;
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
        // A draft's own Message-ID wins over a follow-up's.
        for sql in [
            "SELECT message_id, from_address, id, reference FROM drafts WHERE message_id IN",
            "SELECT f.message_id, f.from_address, d.id, d.reference FROM follow_ups f
             JOIN drafts d ON d.id = f.draft_id WHERE f.message_id IN",
        ] {
            let rows: Vec<(String, Option<String>, i64, String)> = select_in(tx, sql, &ids).await?;
            for (message_id, from, id, reference) in rows {
                known
                    .by_message_id
                    .entry((message_id, from))
                    .or_insert((id, reference));
            }
        }
        known.recent_acks = recent_acks(tx, items, now).await?;
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

    /// Whether one more acknowledgement to `address` stays within `limit`;
    /// if so it is counted.
    pub(super) fn take_ack(&mut self, address: &str, limit: u32) -> std::result::Result<(), i64> {
        let recent = self.recent_acks.entry(address.to_string()).or_default();
        if *recent >= i64::from(limit) {
            return Err(*recent);
        }
        *recent += 1;
        Ok(())
    }

    pub(super) fn note_message_id(&mut self, message_id: &str, from: Option<&str>, found: &Found) {
        self.by_message_id
            .entry((message_id.to_string(), from.map(str::to_string)))
            .or_insert_with(|| found.clone());
    }
}

/// Acknowledgements queued or sent within the rate window to each address
/// the batch would acknowledge. A batch comes from one configuration, so
/// its plans share one window.
async fn recent_acks(
    tx: &mut Transaction<'_>,
    items: &[Incoming],
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>> {
    let mut window = None;
    let mut addresses: Vec<&str> = Vec::new();
    for plan in items.iter().filter_map(|i| i.ack.as_ref()) {
        if let (Decision::Send, Some(to)) = (&plan.decision, &plan.to) {
            window = Some(plan.limits.rate_window);
            addresses.push(&to.address);
        }
    }
    let mut counts = HashMap::new();
    let Some(window) = window else {
        return Ok(counts);
    };
    addresses.sort_unstable();
    addresses.dedup();
    let since = now - chrono::Duration::from_std(window).unwrap_or_default();
    for chunk in shaped_chunks(&addresses, CHUNK) {
        let sql = format!(
            "SELECT to_address, COUNT(*) FROM acks WHERE created_at > $1
             AND status IN ('pending', 'sent') AND to_address IN ({}) GROUP BY to_address",
            params(2, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql)).bind(since);
        for address in chunk {
            query = query.bind(*address);
        }
        counts.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(counts)
}

/// `sql` followed by ` ($1, …, $n)`.
fn in_list(sql: &str, n: usize) -> String {
    format!("{sql} ({})", params(1, n))
}

async fn select_in<R>(tx: &mut Transaction<'_>, sql: &str, keys: &[&str]) -> Result<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let mut found = Vec::new();
    for chunk in shaped_chunks(keys, CHUNK) {
        let mut query = sqlx::query_as(AssertSqlSafe(in_list(sql, chunk.len())));
        for key in chunk {
            query = query.bind(*key);
        }
        found.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(found)
}
