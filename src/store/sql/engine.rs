//! The per-backend engine: a typed pool plus what every query needs.

use chrono::{DateTime, SubsecRound, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Db, MIGRATOR};
use crate::store::Result;
use crate::store::packs::PackDir;

#[derive(Clone)]
pub struct Engine {
    pub(super) pool: sqlx::Pool<Db>,
    pub(super) tz: Tz,
    /// Who acts on the store, written into events (`instance` or `cli`).
    pub(super) actor: String,
    /// The key of our Message-IDs' tags (`thread::thread_key`), read once.
    pub(super) thread_key: std::sync::Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// Where new raw messages go: pack files beside an SQLite database, or
    /// (None) the `raw_messages.bytes` column.
    pub(super) packs: Option<PackDir>,
}

impl Engine {
    pub(super) fn new(
        pool: sqlx::Pool<Db>,
        tz: Tz,
        actor: String,
        packs: Option<PackDir>,
    ) -> Engine {
        Engine {
            pool,
            tz,
            actor,
            thread_key: Default::default(),
            packs,
        }
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Migrations not applied yet (all of them on an empty database).
    pub async fn pending_migrations(&self) -> Result<usize> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .unwrap_or_default();
        Ok(MIGRATOR
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A timestamp as every backend stores it: PostgreSQL keeps microseconds,
/// so SQLite gets the same, and copies between them compare equal.
pub(super) fn db_time<Z: TimeZone>(t: DateTime<Z>) -> DateTime<Utc> {
    t.with_timezone(&Utc).trunc_subsecs(6)
}
