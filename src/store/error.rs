//! What can go wrong in the store, and which of it is worth retrying.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store URL `{0}` is not supported: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open store {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// Committed, but a step after the commit must be tried again.
    #[error("{0}")]
    Unfinished(String),
    #[error("pack file {path}: {source}")]
    Pack {
        path: String,
        source: std::io::Error,
    },
}

impl StoreError {
    /// Busy / locked / unreachable: worth retrying later, as an MTA would.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Open { .. } | StoreError::Unfinished(_) => true,
            StoreError::Query(e) => {
                matches!(
                    e,
                    sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
                ) || e.as_database_error().is_some_and(|d| {
                    d.message().contains("locked")
                        || d.message().contains("busy")
                        || d.is_unique_violation()
                })
            }
            // A full or failing disk may recover; a pack cut short or
            // gone is damage, not a reason to retry.
            StoreError::Pack { source, .. } => !matches!(
                source.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::InvalidData
            ),
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
