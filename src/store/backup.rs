//! Backups of an SQLite store and its packs, restores, and what `verify`
//! reports. A backup is consistent: a snapshot of the database (`VACUUM
//! INTO`, one read transaction) and, of each pack it names, exactly the
//! committed length it records. Packs are append-only and sealed ones never
//! change, so copying them after the snapshot gives the same bytes — unless
//! a compaction deleted one meanwhile, and then the backup starts over.
//! PostgreSQL keeps everything in the database: pg_dump backs it up.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::packs::PackDir;
use super::{Result, Store, StoreError};

/// The database's name inside a backup directory; its packs sit beside it.
pub const BACKUP_DB: &str = "slushpile.db";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub messages: u64,
    pub bytes: u64,
    pub damaged: Vec<Damage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub sha256: String,
    pub what: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub packs: u64,
    pub pack_bytes: u64,
    pub database_bytes: u64,
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> StoreError + '_ {
    move |source| StoreError::Pack {
        path: path.display().to_string(),
        source,
    }
}

/// Copies the first `length` bytes of `from` into a new private file `to`,
/// durably.
fn copy_prefix(from: &Path, to: &Path, length: u64) -> io::Result<()> {
    let mut source = fs::File::open(from)?.take(length);
    let mut target = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    let copied = io::copy(&mut source, &mut target)?;
    if copied != length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "{} holds {copied} of its {length} committed bytes",
                from.display()
            ),
        ));
    }
    target.flush()?;
    target.sync_all()
}

fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Copies the packs a database at `db` names, up to their committed
/// lengths, from `from` into the packs beside `db`.
pub(super) async fn copy_packs(db: &Path, from: &PackDir) -> Result<(u64, u64)> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .map_err(|source| StoreError::Open {
            url: db.display().to_string(),
            source,
        })?;
    let packs: Vec<(i64, i64)> = sqlx::query_as("SELECT id, length FROM packs ORDER BY id")
        .fetch_all(&pool)
        .await?;
    pool.close().await;
    let to = PackDir::beside(db);
    private_dir(to.path()).map_err(io_error(to.path()))?;
    let mut bytes = 0;
    for (pack, length) in &packs {
        let target = to.file(*pack);
        copy_prefix(&from.file(*pack), &target, *length as u64).map_err(io_error(&target))?;
        bytes += *length as u64;
    }
    fs::File::open(to.path())
        .and_then(|d| d.sync_all())
        .map_err(io_error(to.path()))?;
    Ok((packs.len() as u64, bytes))
}

impl Store {
    /// Writes a consistent backup into `dir`, which must be new or empty.
    pub async fn backup(&self, dir: &Path) -> Result<BackupReport> {
        let packs = self.sqlite_packs()?;
        if dir.exists() && fs::read_dir(dir).map_err(io_error(dir))?.next().is_some() {
            return Err(StoreError::Invalid(format!(
                "{} is not empty: a backup goes into a new directory",
                dir.display()
            )));
        }
        private_dir(dir).map_err(io_error(dir))?;
        let db = dir.join(BACKUP_DB);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.snapshot_into(&db).await?;
            match copy_packs(&db, &packs).await {
                Ok((packs, pack_bytes)) => {
                    let database_bytes = fs::metadata(&db).map_err(io_error(&db))?.len();
                    return Ok(BackupReport {
                        packs,
                        pack_bytes,
                        database_bytes,
                    });
                }
                // A compaction replaced a pack after the snapshot: the
                // snapshot names bytes that moved, so take a new one.
                Err(StoreError::Pack { source, .. })
                    if source.kind() == io::ErrorKind::NotFound && attempt < 5 =>
                {
                    let _ = fs::remove_file(&db);
                    let _ = fs::remove_dir_all(PackDir::beside(&db).path());
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn sqlite_packs(&self) -> Result<PackDir> {
        super::sqlite_file(&self.url)
            .map(|db| PackDir::beside(&db))
            .ok_or_else(|| {
                StoreError::Invalid(
                    "backup and restore are for an SQLite store: back PostgreSQL up with pg_dump \
                     (deploy/README.md)"
                        .into(),
                )
            })
    }
}

/// Puts the backup in `dir` where the SQLite store `url` lives, which must
/// not exist yet; the caller opens and verifies it.
pub async fn restore(dir: &Path, url: &str) -> Result<PathBuf> {
    let target = super::sqlite_file(url).ok_or_else(|| {
        StoreError::Invalid(
            "restore is for an SQLite store: restore PostgreSQL with pg_restore".into(),
        )
    })?;
    let source = dir.join(BACKUP_DB);
    if !source.exists() {
        return Err(StoreError::Invalid(format!(
            "{} holds no backup ({BACKUP_DB} is missing)",
            dir.display()
        )));
    }
    if target.exists() {
        return Err(StoreError::Invalid(format!(
            "{} exists: restore into a new place, or move the old store away first",
            target.display()
        )));
    }
    if let Some(parent) = target.parent() {
        private_dir(parent).map_err(io_error(parent))?;
    }
    let length = fs::metadata(&source).map_err(io_error(&source))?.len();
    copy_prefix(&source, &target, length).map_err(io_error(&target))?;
    copy_packs(&target, &PackDir::beside(&source)).await?;
    Ok(target)
}
