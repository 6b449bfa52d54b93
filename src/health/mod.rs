//! What the running daemon knows about itself: per-source state for
//! systemd's STATUS= and /readyz, and counters for /metrics. Updated by the
//! sources, the ingest step and the outbox; read by the supervisor and the
//! ops endpoint. A source with no successful sync for its `stall_after` is
//! stalled: /readyz fails, a gauge says so, STATUS= names it and the
//! supervisor logs one warning per stall.

mod metrics;

pub use metrics::desk_metrics;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::store::IngestOutcome;

/// What a sync did, per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub ingested: u64,
    pub quarantined: u64,
    pub seen_again: u64,
    pub follow_ups: u64,
    /// IMAP: messages committed earlier whose server action was redone.
    pub leftovers: u64,
}

impl Tally {
    /// The sync's outcome in the log as plain fields
    /// (`ingested=3 quarantined=0 …`), never as a Rust value.
    pub fn log(&self, what: &str) {
        tracing::info!(
            ingested = self.ingested,
            quarantined = self.quarantined,
            seen_again = self.seen_again,
            follow_ups = self.follow_ups,
            leftovers = self.leftovers,
            "{what}"
        );
    }

    pub fn add(&mut self, outcomes: &[IngestOutcome]) {
        for outcome in outcomes {
            match outcome {
                IngestOutcome::Created {
                    quarantined: true, ..
                } => self.quarantined += 1,
                IngestOutcome::Created { .. } => self.ingested += 1,
                IngestOutcome::SeenAgain { .. } => self.seen_again += 1,
                IngestOutcome::FollowUp { .. } => self.follow_ups += 1,
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SourceState {
    /// What it is doing now: connecting, syncing, idle, polling, standby, failing.
    pub phase: &'static str,
    /// Its first connection attempt is over (succeeded or not).
    pub attempted: bool,
    pub last_success: Option<Instant>,
    pub last_error: Option<String>,
    pub tally: Tally,
    pub connects: u64,
    pub failures: u64,
    /// OAuth2 token refreshes that failed.
    pub oauth_failures: u64,
    pub stall_after: Duration,
    /// When tracking began: a source that never synced is stalled this long after.
    pub tracked_since: Option<Instant>,
    /// The current stall was already reported in the log.
    pub stall_reported: bool,
}

impl SourceState {
    /// How long it has gone without a successful sync, when that is longer
    /// than `stall_after`. A standby instance is doing its job by waiting.
    pub fn stalled_for(&self) -> Option<Duration> {
        if self.phase == "standby" {
            return None;
        }
        let since = self.last_success.or(self.tracked_since)?;
        let elapsed = since.elapsed();
        (elapsed > self.stall_after).then_some(elapsed)
    }
}

/// A source that just became stalled, for the supervisor's one warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stall {
    pub source: String,
    pub silent_for: Duration,
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    sources: BTreeMap<String, SourceState>,
    acks_sent: u64,
    acks_failed: u64,
    acks_suppressed: u64,
}

#[derive(Debug, Default)]
pub struct Health {
    inner: Mutex<Inner>,
    attempted: Notify,
}

impl Health {
    /// Starts tracking exactly these sources, each with its `stall_after`
    /// (again, after a reload: counters and the last success carry over).
    pub fn track(&self, sources: impl IntoIterator<Item = (String, Duration)>) {
        let mut inner = self.lock();
        let old = std::mem::take(&mut inner.sources);
        for (name, stall_after) in sources {
            let state = old.get(&name).cloned().unwrap_or_default();
            inner.sources.insert(
                name,
                SourceState {
                    phase: "starting",
                    attempted: false,
                    stall_after,
                    tracked_since: state.tracked_since.or_else(|| Some(Instant::now())),
                    ..state
                },
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere must not take health reporting down with it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn update(&self, source: &str, f: impl FnOnce(&mut SourceState)) {
        if let Some(state) = self.lock().sources.get_mut(source) {
            f(state);
        }
    }

    pub fn phase(&self, source: &str, phase: &'static str) {
        self.update(source, |s| s.phase = phase);
    }

    pub fn connected(&self, source: &str) {
        self.update(source, |s| {
            s.connects += 1;
            s.last_error = None;
        });
        self.attempt_over(source);
    }

    pub fn failed(&self, source: &str, error: &str) {
        self.update(source, |s| {
            s.failures += 1;
            s.phase = "failing";
            s.last_error = Some(error.to_string());
        });
        self.attempt_over(source);
    }

    pub fn oauth_failed(&self, source: &str) {
        self.update(source, |s| s.oauth_failures += 1);
    }

    /// Another instance holds the mailbox: nothing to connect to here.
    pub fn standby(&self, source: &str) {
        self.phase(source, "standby");
        self.attempt_over(source);
    }

    pub fn synced(&self, source: &str, tally: &Tally) {
        self.update(source, |s| {
            s.last_success = Some(Instant::now());
            s.stall_reported = false;
            s.tally.ingested += tally.ingested;
            s.tally.quarantined += tally.quarantined;
            s.tally.seen_again += tally.seen_again;
            s.tally.follow_ups += tally.follow_ups;
            s.tally.leftovers += tally.leftovers;
        });
        self.attempt_over(source);
    }

    fn attempt_over(&self, source: &str) {
        self.update(source, |s| s.attempted = true);
        self.attempted.notify_waiters();
    }

    pub fn ack_sent(&self) {
        self.lock().acks_sent += 1;
    }

    pub fn ack_failed(&self) {
        self.lock().acks_failed += 1;
    }

    pub fn acks_suppressed(&self, n: u64) {
        self.lock().acks_suppressed += n;
    }

    fn all_attempted(&self) -> bool {
        self.lock().sources.values().all(|s| s.attempted)
    }

    /// Returns once every tracked source finished its first connection attempt.
    pub async fn first_attempts(&self) {
        loop {
            let notified = self.attempted.notified();
            if self.all_attempted() {
                return;
            }
            notified.await;
        }
    }

    /// Sources that became stalled since the last call, each reported once
    /// until it syncs again.
    pub fn new_stalls(&self) -> Vec<Stall> {
        let mut inner = self.lock();
        let mut stalls = Vec::new();
        for (name, s) in &mut inner.sources {
            if let Some(silent_for) = s.stalled_for()
                && !s.stall_reported
            {
                s.stall_reported = true;
                stalls.push(Stall {
                    source: name.clone(),
                    silent_for,
                    last_error: s.last_error.clone(),
                });
            }
        }
        stalls
    }

    /// One line for systemd's STATUS=, e.g. "submissions: idle, 3 ingested".
    pub fn status_line(&self) -> String {
        let inner = self.lock();
        inner
            .sources
            .iter()
            .map(|(name, s)| {
                let mut line = format!("{name}: {}, {} ingested", s.phase, s.tally.ingested);
                if let Some(silent_for) = s.stalled_for() {
                    let _ = write!(line, ", STALLED: {}", stall_reason(s, silent_for));
                }
                line
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Ready when every source has synced successfully and none is stalled
    /// (a standby instance counts as ready: it is doing its job).
    pub fn readiness(&self) -> Result<(), String> {
        let inner = self.lock();
        let unready: Vec<String> = inner
            .sources
            .iter()
            .filter_map(|(name, s)| {
                if let Some(silent_for) = s.stalled_for() {
                    return Some(format!("{name}: stalled: {}", stall_reason(s, silent_for)));
                }
                let waiting = s.phase != "standby" && s.last_success.is_none();
                waiting.then(|| match &s.last_error {
                    Some(error) => format!("{name}: {error}"),
                    None => format!("{name}: no successful sync yet"),
                })
            })
            .collect();
        if unready.is_empty() {
            Ok(())
        } else {
            Err(unready.join("\n"))
        }
    }
}

fn stall_reason(s: &SourceState, silent_for: Duration) -> String {
    let mut reason = format!(
        "no successful sync for {}s (stall_after {}s)",
        silent_for.as_secs(),
        s.stall_after.as_secs()
    );
    if let Some(error) = &s.last_error {
        let _ = write!(reason, "; last error: {error}");
    }
    reason
}

#[cfg(test)]
mod tests;
