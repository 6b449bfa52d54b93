//! The rules that make pack files (`store::packs`) as safe as rows: appends
//! happen inside a write transaction at the committed length recorded in
//! `packs`, durable before that transaction commits; compaction copies a
//! pack's live messages elsewhere, commits, and only then deletes the old
//! file; on opening, whatever no commit covers is cut off or deleted. Only
//! an SQLite store with a file has packs; the statements are compiled for
//! both backends like the rest of `sql/`.

use super::{BEGIN_WRITE, Engine};
use crate::store::packs::{PACK_LIMIT, PackDir, blocking};
use crate::store::{Result, StoreError};

type Transaction<'c> = sqlx::Transaction<'c, super::Db>;

/// A compaction or a move copies at most this much per step.
const STEP_BYTES: usize = 16 << 20;

pub(super) fn pack_error(packs: &PackDir, pack: i64) -> impl Fn(std::io::Error) -> StoreError {
    let path = packs.file(pack).display().to_string();
    move |source| StoreError::Pack {
        path: path.clone(),
        source,
    }
}

/// Appends `blobs` to the newest pack (a new one when it is full or is
/// `avoid`), durably, and records its new length in `tx`; returns where each
/// went. `tx` holds SQLite's write lock, so no other process appends
/// meanwhile; if it never commits, the next append overwrites the bytes.
pub(super) async fn place(
    tx: &mut Transaction<'_>,
    packs: &PackDir,
    blobs: &[&[u8]],
    avoid: Option<i64>,
) -> Result<Vec<(i64, i64)>> {
    let newest: Option<(i64, i64)> =
        sqlx::query_as("SELECT id, length FROM packs ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let (pack, start) = match newest {
        Some((id, length)) if length < PACK_LIMIT as i64 && Some(id) != avoid => (id, length),
        other => {
            let id = other.map_or(1, |(id, _)| id + 1);
            sqlx::query("INSERT INTO packs (id, length) VALUES ($1, 0)")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            (id, 0)
        }
    };
    let end =
        blocking(|| packs.append(pack, start as u64, blobs)).map_err(pack_error(packs, pack))?;
    sqlx::query("UPDATE packs SET length = $2 WHERE id = $1")
        .bind(pack)
        .bind(end as i64)
        .execute(&mut **tx)
        .await?;
    let mut offset = start;
    Ok(blobs
        .iter()
        .map(|blob| {
            let at = (pack, offset);
            offset += blob.len() as i64;
            at
        })
        .collect())
}

/// Takes rows from the front of `rest` up to `limit` bytes (at least one).
fn step<T>(rest: &[T], size: impl Fn(&T) -> i64, limit: usize) -> usize {
    let mut total = 0;
    rest.iter()
        .take_while(|row| {
            total += size(row) as usize;
            total <= limit
        })
        .count()
        .max(1)
        .min(rest.len())
}

impl Engine {
    /// After opening for writing: what a killed process left in the packs
    /// is cut off, and raw messages an older version kept in the database
    /// move into packs (nothing to do where the bytes stay in the database).
    pub async fn prepare_packs(&self) -> Result<()> {
        self.reclaim_packs().await?;
        self.move_into_packs().await?;
        Ok(())
    }

    /// After a purge, the purged bytes leave every file of the store: packs
    /// holding them are rewritten without them, then the backend erases
    /// the deleted rows' old versions (`erase_dead_rows`).
    pub async fn erase_freed(&self) -> Result<()> {
        self.compact_packs().await?;
        self.erase_dead_rows().await
    }

    /// Rewrites every pack that holds bytes no row refers to any more (a
    /// purge, or one interrupted before its compaction): its live messages
    /// are copied to the newest pack, the rows point there, and after the
    /// commit the old file is deleted — the purged bytes with it.
    pub(super) async fn compact_packs(&self) -> Result<u64> {
        let Some(packs) = &self.packs else {
            return Ok(0);
        };
        let mut compacted = 0;
        loop {
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
            let dead: Option<(i64, i64)> = sqlx::query_as(
                "SELECT p.id, p.length FROM packs p
                 WHERE p.length > (SELECT COALESCE(SUM(r.size), 0) FROM raw_messages r
                                   WHERE r.pack = p.id)
                 ORDER BY p.id LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let Some((pack, _)) = dead else {
                return Ok(compacted);
            };
            let live: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT sha256, pack_offset, size FROM raw_messages
                 WHERE pack = $1 ORDER BY pack_offset",
            )
            .bind(pack)
            .fetch_all(&mut *tx)
            .await?;
            let mut rest = live.as_slice();
            while !rest.is_empty() {
                let (chunk, tail) = rest.split_at(step(rest, |r| r.2, STEP_BYTES));
                rest = tail;
                let bytes = chunk
                    .iter()
                    .map(|(_, offset, size)| {
                        blocking(|| packs.read(pack, *offset as u64, *size as usize))
                            .map_err(pack_error(packs, pack))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let slices: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
                let placed = place(&mut tx, packs, &slices, Some(pack)).await?;
                for ((sha, _, _), (to, offset)) in chunk.iter().zip(placed) {
                    relocate(&mut tx, sha, to, offset).await?;
                }
            }
            sqlx::query("DELETE FROM packs WHERE id = $1")
                .bind(pack)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            blocking(|| packs.remove(pack)).map_err(pack_error(packs, pack))?;
            compacted += 1;
        }
    }

    /// On opening: cuts each pack back to its committed length (a batch
    /// killed between its fdatasync and its commit), deletes files no row
    /// names (a compaction killed between its commit and the deletion),
    /// then finishes any compaction a purge left undone.
    pub(super) async fn reclaim_packs(&self) -> Result<()> {
        let Some(packs) = &self.packs else {
            return Ok(());
        };
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let committed: Vec<(i64, i64)> = sqlx::query_as("SELECT id, length FROM packs")
            .fetch_all(&mut *tx)
            .await?;
        let on_disk = blocking(|| packs.list()).map_err(|source| StoreError::Pack {
            path: packs.path().display().to_string(),
            source,
        })?;
        for (pack, length) in on_disk {
            match committed.iter().find(|(id, _)| *id == pack) {
                Some((_, committed)) if length > *committed as u64 => {
                    blocking(|| packs.truncate(pack, *committed as u64))
                }
                Some(_) => Ok(()),
                None => blocking(|| packs.remove(pack)),
            }
            .map_err(pack_error(packs, pack))?;
        }
        tx.rollback().await?;
        self.compact_packs().await?;
        Ok(())
    }

    /// Moves raw messages an older version stored in the database into
    /// packs, a few MB per transaction, so an interrupted move resumes
    /// where it stopped; returns how many moved. SQLite's secure_delete
    /// zeroes the pages they leave, VACUUM gives the space back, and the
    /// checkpoint takes the old pages out of the WAL too.
    pub(super) async fn move_into_packs(&self) -> Result<u64> {
        let Some(packs) = &self.packs else {
            return Ok(0);
        };
        let mut moved = 0;
        loop {
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT sha256, size FROM raw_messages WHERE pack IS NULL LIMIT 256",
            )
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            let chunk = &rows[..step(&rows, |r| r.1, STEP_BYTES)];
            let mut bytes = Vec::with_capacity(chunk.len());
            for (sha, _) in chunk {
                let raw: Vec<u8> =
                    sqlx::query_scalar("SELECT bytes FROM raw_messages WHERE sha256 = $1")
                        .bind(sha)
                        .fetch_one(&mut *tx)
                        .await?;
                bytes.push(raw);
            }
            let slices: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
            let placed = place(&mut tx, packs, &slices, None).await?;
            for ((sha, _), (pack, offset)) in chunk.iter().zip(placed) {
                relocate(&mut tx, sha, pack, offset).await?;
            }
            tx.commit().await?;
            moved += chunk.len() as u64;
            tracing::info!(moved, "raw messages moved into packs");
        }
        if moved > 0 {
            // Another process holding the database open makes VACUUM fail;
            // the freed pages are zeroed already, only the file stays large.
            if let Err(e) = sqlx::query("VACUUM").execute(&self.pool).await {
                tracing::warn!(error = %e, "the database keeps its size until a later VACUUM");
            }
            self.erase_dead_rows().await?;
        }
        Ok(moved)
    }
}

async fn relocate(tx: &mut Transaction<'_>, sha: &str, pack: i64, offset: i64) -> Result<()> {
    sqlx::query(
        "UPDATE raw_messages SET pack = $2, pack_offset = $3, bytes = X'' WHERE sha256 = $1",
    )
    .bind(sha)
    .bind(pack)
    .bind(offset)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
