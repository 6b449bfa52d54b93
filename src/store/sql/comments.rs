//! The editors' discussion of a draft: append-only comments, kept in the
//! history as `commented` events with their author and time, so they are
//! copied, exported and purged with the rest of it.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::engine::db_time;
use super::events::insert_event;
use super::workflow::lock_draft;
use super::{BEGIN_WRITE, Engine};
use crate::desk;
use crate::draft::EventView;
use crate::store::{ChangeError, DraftKey};
use crate::workflow::Actor;

impl Engine {
    /// Adds `actor`'s comment to the draft's discussion.
    pub async fn comment(
        &self,
        key: &DraftKey,
        actor: &Actor,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<EventView, ChangeError> {
        let now = db_time(now);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let (id, status, _) = lock_draft(&mut tx, key).await?;
        desk::may_comment(status, text)?;
        let detail = json!({ "text": text.trim() });
        insert_event(&mut tx, id, now, "commented", &actor.name, &detail, None).await?;
        tx.commit().await?;
        Ok(EventView {
            at: now.with_timezone(&self.tz).fixed_offset(),
            kind: "commented".into(),
            actor: actor.name.clone(),
            detail,
        })
    }
}
