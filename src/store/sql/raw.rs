//! Raw messages, the record: stored once per sha256, before any row refers
//! to them, and read back. Where the bytes live is the engine's choice
//! (`Engine::packs`): pack files beside an SQLite database, or the
//! `bytes` column (PostgreSQL, shared by instances on several machines).
//! Everything else asks this module for a message by its hash.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::bind::values;
use super::known::Known;
use super::packs::{pack_error, place};
use super::{Db, Engine};
use crate::store::packs::{PackDir, blocking};
use crate::store::{Incoming, RawContent, Result, SourceLocation, StoreError};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

/// A raw message's row: its bytes (empty when in a pack), pack, offset, size.
type RawRow = (Vec<u8>, Option<i64>, Option<i64>, i64);

/// The raw bytes of every message not stored yet, in a few multi-row
/// statements before any row refers to them. Every outcome but "seen again by
/// UID or bytes" keeps its message's bytes, and those are exactly the messages
/// `known` (kept current through the batch) recognises.
pub(super) async fn insert_raws(
    tx: &mut Transaction<'_>,
    packs: Option<&PackDir>,
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
    if let Some(packs) = packs {
        return insert_packed(tx, packs, &fresh, now).await;
    }
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

/// The batch's new messages appended to a pack (one write each, one
/// fdatasync in all) and their rows pointing there, in one statement per
/// few hundred rows: no blob goes through SQLite.
async fn insert_packed(
    tx: &mut Transaction<'_>,
    packs: &PackDir,
    fresh: &[(&str, &[u8])],
    now: DateTime<Utc>,
) -> Result<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    let blobs: Vec<&[u8]> = fresh.iter().map(|(_, raw)| *raw).collect();
    let placed = place(tx, packs, &blobs, None).await?;
    let rows: Vec<_> = fresh.iter().zip(placed).collect();
    for chunk in rows.chunks(500) {
        let sql = values(
            "INSERT INTO raw_messages (sha256, size, bytes, stored_at, pack, pack_offset) VALUES",
            chunk.len(),
            6,
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for ((sha, raw), (pack, offset)) in chunk {
            query = query
                .bind(*sha)
                .bind(raw.len() as i64)
                .bind(&b""[..])
                .bind(now)
                .bind(*pack)
                .bind(*offset);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Engine {
    /// A raw message's exact bytes by its hash, from wherever they live.
    pub(super) async fn raw_bytes(&self, sha: &str) -> Result<Option<Vec<u8>>> {
        // A compaction may move the message between reading its row and
        // its pack: a pack gone meanwhile means read the row again.
        for _ in 0..3 {
            let row: Option<RawRow> = sqlx::query_as(
                "SELECT bytes, pack, pack_offset, size FROM raw_messages WHERE sha256 = $1",
            )
            .bind(sha)
            .fetch_optional(&self.pool)
            .await?;
            let (pack, offset, size) = match row {
                None => return Ok(None),
                Some((bytes, None, _, _)) => return Ok(Some(bytes)),
                Some((_, Some(pack), offset, size)) => (pack, offset, size),
            };
            let Some(packs) = &self.packs else {
                return Err(StoreError::Corrupt(format!(
                    "raw message {sha} is in pack {pack}, but this store has no packs"
                )));
            };
            let offset = offset.unwrap_or(0) as u64;
            match blocking(|| packs.read(pack, offset, size as usize)) {
                Ok(bytes) => return Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(pack_error(packs, pack)(e)),
            }
        }
        Err(StoreError::Corrupt(format!(
            "raw message {sha}: its pack file is missing"
        )))
    }

    /// The raw bytes a draft or follow-up names, or a corruption error.
    pub(super) async fn stored_raw(&self, sha: &str) -> Result<Vec<u8>> {
        self.raw_bytes(sha).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("raw message {sha} is referred to but not stored"))
        })
    }
}
