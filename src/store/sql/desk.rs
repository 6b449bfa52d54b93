//! Who holds a draft, on the store: assigning, renewing and taking over,
//! each decided by `crate::desk` on the locked row and recorded as an
//! event with who, from whom, to whom and why.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::engine::db_time;
use super::events::insert_event;
use super::workflow::{lease_end, lock_draft};
use super::{BEGIN_WRITE, Engine};
use crate::desk::{self, Hold, HoldChange};
use crate::draft::{DraftStatus, DraftView};
use crate::store::{ChangeError, DraftKey};
use crate::workflow::{Actor, WorkflowError};

impl Engine {
    /// Changes who holds a draft, if `crate::desk` lets `actor`; the new
    /// holder gets a fresh lease. Decided on the row as it is, lapsed
    /// lease included: that is what can be taken over.
    pub async fn change_hold(
        &self,
        key: &DraftKey,
        change: &HoldChange,
        actor: &Actor,
        why: Option<&str>,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<DraftView, ChangeError> {
        let now = db_time(now);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let (id, status, holder) = lock_draft(&mut tx, key).await?;
        let lease_until: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT lease_until FROM drafts WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let hold = Hold {
            status,
            holder: holder.as_deref(),
            lease_until,
        };
        let to = desk::decide_hold(&hold, change, actor, now)?;
        if let HoldChange::Assign { to } = change {
            let active: Option<i64> =
                sqlx::query_scalar("SELECT id FROM editors WHERE name = $1 AND revoked_at IS NULL")
                    .bind(to)
                    .fetch_optional(&mut *tx)
                    .await?;
            if active.is_none() {
                return Err(WorkflowError::UnknownEditor { name: to.clone() }.into());
            }
        }
        let until = lease_end(now, lease);
        sqlx::query(
            "UPDATE drafts SET status = $2, claimed_by = $3, lease_until = $4,
                 status_changed_at = CASE WHEN status = $2 THEN status_changed_at ELSE $5 END
             WHERE id = $1",
        )
        .bind(id)
        .bind(DraftStatus::Claimed.as_str())
        .bind(&to)
        .bind(until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let detail = json!({
            "from": holder,
            "to": to,
            "status": status.as_str(),
            "lease_until": until,
            "note": why.map(str::trim).filter(|w| !w.is_empty()),
        });
        insert_event(
            &mut tx,
            id,
            now,
            change.event_kind(),
            &actor.name,
            &detail,
            None,
        )
        .await?;
        tx.commit().await?;
        self.existing(id).await
    }
}
