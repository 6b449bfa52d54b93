//! Documents read after the commit. A batch reads documents for at most
//! `[extract] inline_timeout` before it is committed; a message whose
//! documents were not all read by then is stored with `extraction_pending`
//! (its draft says 正文提取中), and this task reads it again in full, within
//! `timeout` and `message_timeout`, on a blocking thread. So the mail behind
//! a slow message is stored without waiting for it, and the slow one still
//! gets every document read.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::message::extract::ExtractLimits;
use crate::message::{self, ParseOptions, Parsed};
use crate::store::{Store, StoreError};

/// How long the task sleeps when nothing wakes it: a commit wakes it at
/// once, this only catches messages left by a stopped daemon.
const IDLE: Duration = Duration::from_secs(60);

/// Reads pending messages until `stop`; `wake` is notified by commits that
/// left some.
pub async fn run(
    store: Store,
    options: ParseOptions,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = drain(&store, &options, Some(&stop)).await {
            tracing::warn!(error = %e, "reading documents after the commit failed; retrying later");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(IDLE) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Reads every pending message now (one at a time); returns how many.
pub async fn drain(
    store: &Store,
    options: &ParseOptions,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<u64, StoreError> {
    let mut done = 0;
    while !stop.is_some_and(|s| *s.borrow()) {
        let Some(pending) = store.next_pending_extraction().await? else {
            break;
        };
        let options = ParseOptions {
            defer_extraction_at: None,
            extract: options.extract.clone().map(rest_of_the_budget),
            ..options.clone()
        };
        let parsed = tokio::task::spawn_blocking(move || read_in_full(&pending.raw, &options))
            .await
            .map_err(|e| StoreError::Corrupt(format!("document reader task failed: {e}")))?;
        store.finish_extraction(pending.of, &parsed).await?;
        tracing::info!(of = ?pending.of, "documents read after the commit");
        done += 1;
    }
    Ok(done)
}

/// The message's documents share one `message_timeout`, and the batch
/// already spent up to `inline_timeout` of it on them: the full reading
/// gets what is left, so a message costs no more than `message_timeout`.
fn rest_of_the_budget(limits: ExtractLimits) -> ExtractLimits {
    ExtractLimits {
        message_timeout: limits.message_timeout.saturating_sub(limits.inline_timeout),
        ..limits
    }
}

/// The message with every document read. Should the full reading fail
/// where the inline one did not (a reader panicking), the message is
/// stored as it parses without documents rather than losing what it had.
fn read_in_full(raw: &[u8], options: &ParseOptions) -> Parsed {
    let parsed = message::parse(raw, options);
    if parsed.quarantine.is_none() {
        return parsed;
    }
    let without_documents = ParseOptions {
        extract: None,
        ..options.clone()
    };
    message::parse(raw, &without_documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_reading_gets_what_the_batch_left_of_the_message_time() {
        let limits = ExtractLimits {
            message_timeout: Duration::from_secs(10),
            inline_timeout: Duration::from_secs(1),
            ..ExtractLimits::default()
        };
        assert_eq!(
            rest_of_the_budget(limits).message_timeout,
            Duration::from_secs(9)
        );
    }
}
