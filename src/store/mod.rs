//! The store: one backend-neutral interface over sqlx. Callers pass and get
//! domain types only, so a second backend can be added behind [`Store`]
//! without touching them.

mod batch;
mod query;
mod reparse;
mod rows;

use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use batch::{Incoming, IngestOutcome, MailboxProgress, RawContent, SeenAgain, SourceLocation};
pub use query::{DraftFilter, DraftKey};
pub use reparse::ReparseReport;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store URL `{0}` is not supported: expected sqlite://PATH")]
    UnsupportedUrl(String),
    #[error("cannot open store {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Busy / locked / unreachable: worth retrying later, as an MTA would.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Open { .. } => true,
            StoreError::Query(e) => {
                matches!(
                    e,
                    sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
                ) || e
                    .as_database_error()
                    .is_some_and(|d| d.message().contains("locked") || d.message().contains("busy"))
            }
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    tz: Tz,
    /// Who acts on the store, written into events (`instance` or `cli`).
    actor: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

impl Store {
    /// Opens (creating the file when missing) without migrating.
    pub async fn open(url: &str, tz: Tz, actor: impl Into<String>) -> Result<Store> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        let open_error = |source| StoreError::Open {
            url: url.to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open_error)?
            .create_if_missing(true)
            // WAL lets readers (editors, the CLI) work while a batch commits;
            // synchronous=FULL keeps a commit durable before we touch the server.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| open_error(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        Ok(Store {
            pool,
            tz,
            actor: actor.into(),
        })
    }

    /// Opens and applies pending migrations: what `run` and `ingest` use.
    pub async fn open_migrated(url: &str, tz: Tz, actor: impl Into<String>) -> Result<Store> {
        let store = Self::open(url, tz, actor).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
