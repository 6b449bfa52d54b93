//! Reading drafts back: lists, details, raw bytes and history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::bind::{CHUNK, params};
use super::engine::db_time;
use super::rows::{ACK_COLUMNS, DRAFT_COLUMNS, ack_from_row, attachment_from_row, draft_from_row};
use super::{Db, Engine};
use crate::draft::{AckView, AttachmentView, DraftView, EventView};
use crate::store::{DraftKey, MailboxProgress, Result, StoreError};

/// The statuses awaiting the editors' decision, as an SQL list: what the
/// processing period runs on (`DraftStatus::awaits_decision`).
pub(super) const AWAITING_DECISION: &str =
    "'new', 'claimed', 'sent_for_signoff', 'withdrawal_requested'";

impl Engine {
    pub async fn body_html(&self, draft_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT body_html FROM drafts WHERE id = $1")
                .bind(draft_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    /// Drafts by id, in queue order, with a few queries for all of them.
    pub(super) async fn drafts_by_ids(&self, ids: &[i64]) -> Result<Vec<DraftView>> {
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            rows.extend(
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {DRAFT_COLUMNS} FROM drafts WHERE id IN ({})",
                    sql_list(chunk)
                )))
                .fetch_all(&self.pool)
                .await?,
            );
        }
        let mut drafts = self.views(&rows).await?;
        drafts.sort_by_key(|d| (d.received_at, d.id));
        Ok(drafts)
    }

    /// Draft rows with their attachments and acknowledgement, fetched for
    /// all of them at once rather than per draft.
    pub(super) async fn views(
        &self,
        rows: &[<Db as sqlx::Database>::Row],
    ) -> Result<Vec<DraftView>> {
        let ids: Vec<i64> = rows
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?;
        let mut attachments = self.attachments_of(&ids).await?;
        let mut acks = self.acks_of(&ids).await?;
        let mut threads = self.threads_of(&ids).await?;
        let mut letters = self.letters_of(&ids).await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get("id")?;
                let mut draft = draft_from_row(
                    row,
                    self.tz,
                    attachments.remove(&id).unwrap_or_default(),
                    acks.remove(&id),
                )?;
                draft.thread = threads.remove(&id).unwrap_or_default();
                draft.letters = letters.remove(&id).unwrap_or_default();
                Ok(draft)
            })
            .collect()
    }

    async fn acks_of(&self, ids: &[i64]) -> Result<HashMap<i64, AckView>> {
        let mut by_draft = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = sql_list(chunk);
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {ACK_COLUMNS} FROM acks WHERE draft_id IN ({list})"
            )))
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                by_draft.insert(row.try_get("draft_id")?, ack_from_row(row, self.tz)?);
            }
        }
        Ok(by_draft)
    }

    /// Attachments of many drafts in a few queries, not one per draft.
    async fn attachments_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<AttachmentView>>> {
        let mut by_draft: HashMap<i64, Vec<AttachmentView>> = HashMap::new();
        // Chunked to stay under SQLite's bound-parameter limit.
        for chunk in ids.chunks(500) {
            let list = sql_list(chunk);
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT draft_id, idx, path, filename, content_type, size, sha256, incomplete,
                 article_text, extraction_note FROM attachments
                 WHERE draft_id IN ({list}) ORDER BY draft_id, idx"
            )))
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                by_draft
                    .entry(row.try_get("draft_id")?)
                    .or_default()
                    .push(attachment_from_row(row)?);
            }
        }
        Ok(by_draft)
    }

    pub async fn draft(&self, key: &DraftKey) -> Result<Option<DraftView>> {
        let Some(row) = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = $1 OR reference = $2"
        )))
        .bind(match key {
            DraftKey::Id(id) => Some(*id),
            DraftKey::Reference(_) => None,
        })
        .bind(match key {
            DraftKey::Reference(r) => Some(r.as_str()),
            DraftKey::Id(_) => None,
        })
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(self.views(&[row]).await?.pop())
    }

    /// The exact bytes as received; for a message too big to download, the
    /// header section (the one record without its full raw message).
    pub async fn raw(&self, draft_id: i64) -> Result<Option<Vec<u8>>> {
        let row: Option<(Option<String>, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT raw_sha256, raw_headers FROM drafts WHERE id = $1")
                .bind(draft_id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            None => Ok(None),
            Some((Some(sha), _)) => self.stored_raw(&sha).await.map(Some),
            Some((None, Some(headers))) => Ok(Some(headers)),
            Some((None, None)) => Err(StoreError::Corrupt(format!(
                "draft {draft_id} has no raw message"
            ))),
        }
    }

    pub async fn events(&self, draft_id: i64) -> Result<Vec<EventView>> {
        let rows = sqlx::query(
            "SELECT at, kind, actor, detail FROM events WHERE draft_id = $1 ORDER BY id",
        )
        .bind(draft_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let at: DateTime<Utc> = row.try_get("at")?;
                let detail: String = row.try_get("detail")?;
                Ok(EventView {
                    at: at.with_timezone(&self.tz).fixed_offset(),
                    kind: row.try_get("kind")?,
                    actor: row.try_get("actor")?,
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                })
            })
            .collect()
    }

    pub async fn mailbox_progress(&self, mailbox: &str) -> Result<Option<MailboxProgress>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = $1")
                .bind(mailbox)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(uidvalidity, last_uid)| MailboxProgress {
            uidvalidity: uidvalidity as u32,
            last_uid: last_uid as u32,
        }))
    }

    /// Of `uids`, those already committed for this mailbox and UIDVALIDITY.
    pub async fn known_uids(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<Vec<u32>> {
        let mut known = Vec::new();
        // Chunked to stay under SQLite's bound-parameter limit.
        for chunk in uids.chunks(500) {
            let list = sql_list(chunk);
            let rows: Vec<(i64,)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT uid FROM message_locations WHERE mailbox = $1 AND uidvalidity = $2 AND uid IN ({list})"
            )))
            .bind(mailbox)
            .bind(i64::from(uidvalidity))
            .fetch_all(&self.pool)
            .await?;
            known.extend(rows.into_iter().map(|(uid,)| uid as u32));
        }
        Ok(known)
    }

    /// Of `hashes` (hex sha256), those whose raw message is stored.
    pub async fn known_raws(&self, hashes: &[String]) -> Result<Vec<String>> {
        let mut known = Vec::new();
        for chunk in hashes.chunks(CHUNK) {
            let sql = format!(
                "SELECT sha256 FROM raw_messages WHERE sha256 IN ({})",
                params(1, chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for hash in chunk {
                query = query.bind(hash);
            }
            known.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(known)
    }

    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) FROM drafts GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Drafts received before `before` and still awaiting a decision.
    pub async fn count_overdue(&self, before: DateTime<Utc>) -> Result<i64> {
        Ok(sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM drafts WHERE status IN ({}) AND received_at < $1",
            AWAITING_DECISION
        )))
        .bind(db_time(before))
        .fetch_one(&self.pool)
        .await?)
    }

    /// The newest event's id: every change to a draft writes one.
    pub async fn change_marker(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn count_drafts(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM drafts")
            .fetch_one(&self.pool)
            .await?)
    }
}

/// A LIKE pattern matching `text` anywhere, any case (the searched columns
/// are lower-cased when written), with LIKE's own wildcards taken literally.
pub(super) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Numbers for an `IN (…)` list. Only integers are ever formatted into SQL;
/// anything else is bound.
pub(super) fn sql_list<T: std::fmt::Display>(values: &[T]) -> String {
    values
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
