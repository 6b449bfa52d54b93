//! SQLite, the embedded default: one machine, one instance.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::packs::PackDir;
use super::{Result, StoreError};

pub(super) type Db = sqlx::Sqlite;

/// Multi-row statements use anonymous `?` parameters: SQLite's parser looks
/// each `$N` up in the list of names seen so far (quadratic in a
/// 10,000-parameter INSERT), and `sqlite3_bind_parameter_name`, which sqlx
/// calls for every parameter it binds, scans that list again.
pub(super) const NUMBERED_PARAMS: bool = false;

/// SQLite runs one writer at a time: a claiming UPDATE is already exclusive.
pub(super) const SKIP_LOCKED: &str = "";
pub(super) const FOR_UPDATE: &str = "";
/// Before a column: check this term row by row rather than search an index
/// for it (SQLite's unary `+`). The queue's status and kind-of-mail terms
/// match most drafts, and without statistics SQLite would pick their index
/// and sort every match, where reading the sort column's index (which
/// carries both) answers a page at once.
pub(super) const UNINDEXED: &str = "+";

/// A batch reads before it writes: take the write lock at BEGIN, so a
/// concurrent writer makes it wait (busy_timeout) instead of failing with
/// SQLITE_BUSY on the upgrade.
pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Draft ids for a batch: SQLite has one writer, and the batch holds the
/// write lock, so it counts on from the highest id ever used (AUTOINCREMENT
/// never reuses one; explicit ids advance its counter).
pub(super) const RESERVE_DRAFT_IDS: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
     SELECT i + MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'drafts'), 0),
                    COALESCE((SELECT MAX(id) FROM drafts), 0)) FROM n";

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

// The SQL is shared with the PostgreSQL backend: the same files, compiled
// once per `Db`.
#[path = "sql/batch.rs"]
mod batch;
#[path = "sql/bind.rs"]
mod bind;
#[path = "sql/comments.rs"]
mod comments;
#[path = "sql/copy.rs"]
mod copy;
#[path = "sql/desk.rs"]
mod desk;
#[path = "sql/editors.rs"]
mod editors;
#[path = "sql/engine.rs"]
mod engine;
#[path = "sql/events.rs"]
mod events;
#[path = "sql/extraction.rs"]
mod extraction;
#[path = "sql/handover.rs"]
mod handover;
#[path = "sql/known.rs"]
mod known;
#[path = "sql/later.rs"]
mod later;
#[path = "sql/letters.rs"]
mod letters;
#[path = "sql/listing.rs"]
mod listing;
#[path = "sql/outbox.rs"]
mod outbox;
#[path = "sql/packs.rs"]
mod packs;
#[path = "sql/query.rs"]
mod query;
#[path = "sql/raw.rs"]
mod raw;
#[path = "sql/reparse.rs"]
mod reparse;
#[path = "sql/rows.rs"]
mod rows;
#[path = "sql/statistics.rs"]
mod statistics;
#[path = "sql/thread.rs"]
mod thread;
#[path = "sql/verify.rs"]
mod verify;
#[path = "sql/workflow.rs"]
mod workflow;

pub use engine::Engine;

/// Opens (creating the file and its directory when missing) without migrating.
pub(super) async fn open(url: &str, tz: Tz, actor: String) -> Result<Engine> {
    let open_error = |source| StoreError::Open {
        url: url.to_string(),
        source,
    };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(open_error)?
        .create_if_missing(true)
        // WAL lets readers (editors, the CLI) work while a batch commits;
        // synchronous=FULL makes a commit durable before we touch the server.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Bodies, HTML and search text fill overflow pages (raw messages
        // live in packs): 16 KiB pages take a quarter of the write calls of
        // the 4 KiB default (a new store only; an existing one keeps its
        // page size).
        .page_size(16 * 1024)
        // Room for every shape of a batch's statements (`bind::shaped_chunks`).
        .statement_cache_capacity(256)
        .busy_timeout(Duration::from_secs(10))
        // A purged submission's text must not stay in freed pages.
        .pragma("secure_delete", "on");
    let path = options.get_filename();
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| open_error(sqlx::Error::Io(e)))?;
    }
    let packs = (path != Path::new(":memory:")).then(|| PackDir::beside(path));
    if packs.is_some() {
        create_private(path).map_err(|e| open_error(sqlx::Error::Io(e)))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        // A connection to a local file does not go stale: no ping (a round
        // trip to its worker thread) before every use.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(open_error)?;
    Ok(Engine::new(pool, tz, actor, packs))
}

/// A new database holds raw submissions and session tokens: it is created
/// readable by its owner alone, whatever the umask (SQLite gives its -wal
/// and -shm files the database file's mode). An existing one is left as
/// it is.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

/// The database file an SQLite URL names (None for another backend or an
/// in-memory database).
pub(super) fn file_of(url: &str) -> Option<PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    (path != Path::new(":memory:")).then(|| path.to_path_buf())
}

impl Engine {
    /// Explicit ids inserted by `store copy` already advance SQLite's
    /// AUTOINCREMENT counters: nothing to do.
    pub async fn after_import(&self) -> Result<()> {
        Ok(())
    }

    /// A consistent copy of the database in a new file (one read
    /// transaction, so ingestion goes on meanwhile).
    pub async fn snapshot_into(&self, path: &Path) -> Result<()> {
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// After a purge (`erase_freed`): the rows' old text, already zeroed in
    /// the database's pages (secure_delete), is still in earlier WAL frames
    /// until a checkpoint copies the WAL back and truncates it, which waits
    /// for readers to finish.
    pub(super) async fn erase_dead_rows(&self) -> Result<()> {
        for attempt in 1..=50 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.pool)
                .await?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
        }
        Err(StoreError::Unfinished(
            "the purge is committed, but readers kept the WAL from being truncated: \
             its old frames are erased at the next purge"
                .into(),
        ))
    }
}
