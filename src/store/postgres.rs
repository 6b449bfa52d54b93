//! PostgreSQL: the production and multi-instance backend.

use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

use super::{Result, StoreError};

pub(super) type Db = sqlx::Postgres;

/// Several senders share the outbox; each skips rows another is claiming.
/// PostgreSQL numbers its parameters (`$1`); it has no anonymous ones.
pub(super) const NUMBERED_PARAMS: bool = true;

pub(super) const SKIP_LOCKED: &str = "FOR UPDATE SKIP LOCKED";
/// A transition reads a draft, decides, then writes it: the row is locked
/// in between so two editors cannot both act on what they read.
pub(super) const FOR_UPDATE: &str = "FOR UPDATE";
/// PostgreSQL plans the queue's terms from its statistics (see sqlite.rs).
pub(super) const UNINDEXED: &str = "";

/// Row locks and unique indexes already order concurrent batches.
pub(super) const BEGIN_WRITE: &str = "BEGIN";

/// Draft ids for a batch, from the identity sequence other instances share
/// (ids a batch does not use are gaps, as after any rollback).
pub(super) const RESERVE_DRAFT_IDS: &str =
    "SELECT nextval(pg_get_serial_sequence('drafts', 'id')) FROM generate_series(1, $1)";

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

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

fn options(url: &str) -> Result<PgConnectOptions> {
    PgConnectOptions::from_str(url).map_err(|source| StoreError::Open {
        url: redact(url),
        source,
    })
}

pub(super) async fn open(url: &str, tz: Tz, actor: String) -> Result<Engine> {
    let options = options(url)?.application_name(&format!("slushpile {actor}"));
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Open {
            url: redact(url),
            source,
        })?;
    Ok(Engine::new(pool, tz, actor, None))
}

impl Engine {
    /// `store copy` inserts explicit ids, which identity sequences do not
    /// see: move them past the copied rows.
    pub async fn after_import(&self) -> Result<()> {
        for table in ["drafts", "events", "editors", "follow_ups", "letters"] {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// After a purge (`erase_freed`): a deleted row stays in its table's files as a dead
    /// tuple, and a plain VACUUM only marks its space free. VACUUM FULL
    /// rewrites each table that held the submission (TOAST and indexes
    /// included) into new files and deletes the old ones. It locks each
    /// table while it runs, which on a large store is seconds to minutes.
    /// PostgreSQL's own WAL and archives keep the rows until they are
    /// recycled: deploy/README.md says what that means for backups.
    pub(super) async fn erase_dead_rows(&self) -> Result<()> {
        sqlx::query(
            "VACUUM FULL raw_messages, drafts, attachments, events, follow_ups, letters, acks",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A session-level advisory lock on its own connection: PostgreSQL releases
/// it the moment that connection ends, so a killed holder loses it at once
/// and another instance takes over on its next attempt.
pub struct PgLease {
    conn: PgConnection,
}

impl PgLease {
    pub(super) async fn try_acquire(url: &str, key: &str, actor: &str) -> Result<Option<PgLease>> {
        let options = options(url)?.application_name(&format!("slushpile {actor} lease {key}"));
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(|source| StoreError::Open {
                url: redact(url),
                source,
            })?;
        let granted: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                .bind(format!("slushpile:{key}"))
                .fetch_one(&mut conn)
                .await?;
        if granted {
            Ok(Some(PgLease { conn }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Still ours? False once the connection (and so the lock) is gone.
    pub(super) async fn check(&mut self) -> bool {
        self.conn.ping().await.is_ok()
    }

    pub(super) async fn release(self) {
        let _ = self.conn.close().await;
    }
}

/// The URL without its password (user-info or `?password=`), for logs and
/// error messages.
pub(super) fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}
