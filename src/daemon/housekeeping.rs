//! Periodic upkeep of the queue: claims whose lease ran out go back to
//! `new` (with an event, even when nobody is looking at the queue), and
//! the `[retention]` policy purges old rejected and archived drafts.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::config::Retention;
use crate::store::Store;

const EVERY: Duration = Duration::from_secs(60);

pub async fn run(store: Store, retention: Retention, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        match store.expire_leases(Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(drafts = n, "claims expired: drafts back in the queue"),
            Err(error) => tracing::warn!(%error, "expiring claims failed; will retry"),
        }
        if retention.rejected_after.is_none() && retention.archived_after.is_none() {
            continue;
        }
        match store
            .purge_expired(
                retention.rejected_after,
                retention.archived_after,
                Utc::now(),
            )
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(drafts = n, "retention: purged rejected / archived drafts"),
            Err(error) => tracing::warn!(%error, "retention purge failed; will retry"),
        }
    }
}
