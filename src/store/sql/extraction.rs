//! Documents read after the commit: the messages stored with
//! `extraction_pending`, and their derived columns once every document has
//! been read.

use sqlx::AssertSqlSafe;

use super::rows::rewrite_derived;
use super::thread::rewrite_follow_up;
use super::{BEGIN_WRITE, Engine, FOR_UPDATE};
use crate::message::Parsed;
use crate::store::{ExtractionOf, PendingExtraction, Result};

impl Engine {
    /// One at a time: a pending message may be as large as any, and its
    /// documents take seconds to read anyway.
    pub async fn next_pending_extraction(&self) -> Result<Option<PendingExtraction>> {
        let row: Option<(String, i64, String)> = sqlx::query_as(
            "SELECT kind, id, raw_sha256 FROM (
                 SELECT 'draft' AS kind, id, raw_sha256 FROM drafts
                 WHERE extraction_pending = 1 AND raw_sha256 IS NOT NULL
                 UNION ALL
                 SELECT 'follow_up' AS kind, id, raw_sha256 FROM follow_ups
                 WHERE extraction_pending = 1
             ) pending ORDER BY kind, id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some((kind, id, sha)) = row else {
            return Ok(None);
        };
        Ok(Some(PendingExtraction {
            of: if kind == "draft" {
                ExtractionOf::Draft(id)
            } else {
                ExtractionOf::FollowUp(id)
            },
            raw: self.stored_raw(&sha).await?,
        }))
    }

    /// Rewrites the derived columns from the full reading and clears the
    /// flag. Status, quarantine reason and editors' work stay as they are;
    /// a message `reparse` (or another instance) finished meanwhile is
    /// left alone.
    pub async fn finish_extraction(&self, of: ExtractionOf, parsed: &Parsed) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        match of {
            ExtractionOf::Draft(id) => {
                let stored: Option<Option<String>> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT quarantine_reason FROM drafts
                     WHERE id = $1 AND extraction_pending = 1 {}",
                    FOR_UPDATE
                )))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(reason) = stored else {
                    return Ok(());
                };
                let parsed = Parsed {
                    quarantine: reason,
                    ..parsed.clone()
                };
                rewrite_derived(&mut tx, id, &parsed).await?;
            }
            ExtractionOf::FollowUp(id) => {
                let pending: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT id FROM follow_ups WHERE id = $1 AND extraction_pending = 1 {}",
                    FOR_UPDATE
                )))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if pending.is_none() {
                    return Ok(());
                }
                rewrite_follow_up(&mut tx, id, parsed).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
