//! Raw messages, the record: stored once per sha256, before any row refers
//! to them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::Db;
use super::bind::values;
use super::known::Known;
use crate::store::{Incoming, RawContent, Result, SourceLocation};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

/// The raw bytes of every message not stored yet, in a few multi-row
/// statements before any row refers to them. Every outcome but "seen again by
/// UID or bytes" keeps its message's bytes, and those are exactly the messages
/// `known` (kept current through the batch) recognises.
pub(super) async fn insert_raws(
    tx: &mut Transaction<'_>,
    known: &Known,
    items: &[Incoming],
    now: DateTime<Utc>,
) -> Result<()> {
    // Round trips cost more than rows, but every bound blob is copied once
    // more: keep a statement's parameters small.
    const MAX_ROWS: usize = 64;
    const MAX_BYTES: usize = 1 << 20;
    let mut queued = HashSet::new();
    let fresh: Vec<(&str, &[u8])> = items
        .iter()
        .filter_map(|item| {
            let (Some(sha), RawContent::Full(bytes)) = (item.raw_sha256.as_deref(), &item.raw)
            else {
                return None;
            };
            if let SourceLocation::Imap { uidvalidity, uid } = item.location
                && known.by_uid(&item.mailbox, uidvalidity, uid).is_some()
            {
                return None;
            }
            (known.by_sha(sha).is_none() && queued.insert(sha)).then_some((sha, bytes.as_slice()))
        })
        .collect();
    let mut rest = fresh.as_slice();
    while !rest.is_empty() {
        let mut bytes = 0;
        let rows = rest
            .iter()
            .take(MAX_ROWS)
            .take_while(|(_, raw)| {
                bytes += raw.len();
                bytes <= MAX_BYTES
            })
            .count()
            .max(1);
        let (chunk, tail) = rest.split_at(rows);
        rest = tail;
        let sql = values(
            "INSERT INTO raw_messages (sha256, size, bytes, stored_at) VALUES",
            chunk.len(),
            4,
        ) + " ON CONFLICT (sha256) DO NOTHING";
        // Not cached: a cached statement would hold its last bound blobs.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for (sha, raw) in chunk {
            query = query.bind(*sha).bind(raw.len() as i64).bind(*raw).bind(now);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
