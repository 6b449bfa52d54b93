//! The append-only history every change to a draft writes.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Db;
use crate::store::{Result, SourceLocation};

type Transaction<'c> = sqlx::Transaction<'c, Db>;

pub(super) async fn insert_event(
    tx: &mut Transaction<'_>,
    draft_id: i64,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &serde_json::Value,
    raw_sha256: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (draft_id, at, kind, actor, detail, raw_sha256) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(draft_id)
    .bind(at)
    .bind(kind)
    .bind(actor)
    .bind(detail.to_string())
    .bind(raw_sha256)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Where a message was seen, as events record it.
pub(super) fn location_json(location: &SourceLocation) -> serde_json::Value {
    match location {
        SourceLocation::Imap { uidvalidity, uid } => {
            json!({ "uidvalidity": uidvalidity, "uid": uid })
        }
        SourceLocation::File(name) => json!({ "file": name }),
    }
}
