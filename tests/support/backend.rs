//! Which store backend an integration test runs against.
//!
//! SQLite by default; `SLUSHPILE_TEST_BACKEND=postgres` runs the same tests
//! against a fresh database on this process's private PostgreSQL (see
//! [`super::postgres::shared`]). scripts/test runs the backend-parametrised
//! suites both ways.

use std::path::Path;

use super::postgres::shared;

pub const BACKEND_VAR: &str = "SLUSHPILE_TEST_BACKEND";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend chosen by `$SLUSHPILE_TEST_BACKEND`. Panics on an unknown
/// value rather than quietly testing SQLite twice.
pub fn test_backend() -> Backend {
    match std::env::var(BACKEND_VAR).as_deref() {
        Err(std::env::VarError::NotPresent) | Ok("" | "sqlite") => Backend::Sqlite,
        Ok("postgres" | "postgresql") => Backend::Postgres,
        Ok(other) => panic!("{BACKEND_VAR}={other:?}: expected \"sqlite\" or \"postgres\""),
        Err(e) => panic!("{BACKEND_VAR}: {e}"),
    }
}

/// Store URL for a test whose scratch files live in `dir`: a SQLite file
/// there, or a new, empty PostgreSQL database.
/// [`test_store_url`] for tests without a runtime of their own.
pub fn test_store_url_blocking(dir: &Path) -> String {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(test_store_url(dir))
}

pub async fn test_store_url(dir: &Path) -> String {
    match test_backend() {
        Backend::Sqlite => format!("sqlite://{}/slushpile.db", dir.display()),
        Backend::Postgres => shared().await.create_database().await,
    }
}
