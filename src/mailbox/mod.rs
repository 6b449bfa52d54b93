//! IMAP I/O: connect, fetch new messages in pipelined UID batches, commit
//! them, and only then move/flag/expunge them on the server; IDLE or poll.

mod actions;
mod connect;
mod sync;
mod tls;
pub mod uidset;
mod words;

use std::time::Duration;

use tokio::sync::watch;
use tracing::Instrument;

pub use connect::ServerInfo;
pub use sync::SyncReport;

use crate::config::MailboxConfig;
use crate::ingest::Ingestor;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("cannot connect to {server}: {reason}")]
    Connect { server: String, reason: String },
    #[error("TLS with {server} failed: {reason}")]
    Tls { server: String, reason: String },
    #[error("login to {server} as {username} failed: {reason}")]
    Login {
        server: String,
        username: String,
        reason: String,
    },
    #[error("{server}: {command} failed: {reason}")]
    Protocol {
        server: String,
        command: &'static str,
        reason: String,
    },
    #[error("mailbox `{mailbox}`: {error}")]
    OAuth {
        mailbox: String,
        #[source]
        error: crate::oauth::OAuthError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("lost the mailbox lease (database session ended): another instance may take over")]
    LeaseLost,
}

impl MailboxError {
    pub(crate) fn protocol(
        server: &str,
        command: &'static str,
        error: impl std::fmt::Display,
    ) -> Self {
        MailboxError::Protocol {
            server: server.to_string(),
            command,
            reason: words::server_words(&error.to_string()),
        }
    }

    /// Wrong credentials do not fix themselves: retry slowly, never in a hot loop.
    pub fn is_auth(&self) -> bool {
        match self {
            MailboxError::Login { .. } => true,
            MailboxError::OAuth { error, .. } => !error.is_transient(),
            _ => false,
        }
    }
}

/// What `slushpile check` learns about a mailbox without changing anything.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub info: ServerInfo,
    pub folder_messages: u32,
    /// Folders `after_ingest` / too-big mail would go to, and whether they exist.
    pub targets: Vec<(String, bool)>,
}

/// Connects, logs in, sends ID, examines the folder (read-only) and looks
/// up the target folders; logs out. Never creates, moves or flags anything.
pub async fn inspect(config: &MailboxConfig) -> Result<Inspection, MailboxError> {
    use futures::TryStreamExt;
    let (mut session, info) = connect::open(config).await?;
    let server = format!("{}:{}", config.host, config.port());
    let examined = tokio::time::timeout(config.io_timeout, session.examine(&config.folder))
        .await
        .map_err(|_| MailboxError::protocol(&server, "EXAMINE", "timed out"))?
        .map_err(|e| {
            MailboxError::protocol(
                &server,
                "EXAMINE",
                format!("folder `{}`: {e}", config.folder),
            )
        })?;
    let mut targets = Vec::new();
    let wanted = match config.after_ingest {
        crate::config::AfterIngest::Move => vec![config.move_to.clone(), config.reject_to.clone()],
        _ => vec![config.reject_to.clone()],
    };
    for folder in wanted {
        let listed: Vec<_> = session
            .list(None, Some(&folder))
            .await
            .map_err(|e| MailboxError::protocol(&server, "LIST", e))?
            .try_collect()
            .await
            .map_err(|e| MailboxError::protocol(&server, "LIST", e))?;
        targets.push((folder, !listed.is_empty()));
    }
    let _ = tokio::time::timeout(config.io_timeout, session.logout()).await;
    Ok(Inspection {
        info,
        folder_messages: examined.exists,
        targets,
    })
}

/// Connects, ingests everything new once, applies `after_ingest`, logs out.
pub async fn sync_once(
    config: &MailboxConfig,
    ingestor: &Ingestor,
) -> Result<SyncReport, MailboxError> {
    // One poller per mailbox holds for `run --once` too (a cron job beside a daemon).
    let Some(lease) = ingestor.store.try_lease(&config.name).await? else {
        tracing::info!(mailbox = %config.name, "another instance holds the mailbox lease: skipped");
        return Ok(SyncReport::default());
    };
    let result = async {
        let (mut session, info) = connect::open(config).await?;
        let (_never, mut shutdown) = watch::channel(false);
        let report = sync::Syncer::new(config, ingestor, &info)
            .run(&mut session, &mut shutdown)
            .await?;
        let _ = tokio::time::timeout(config.io_timeout, session.logout()).await;
        Ok(report)
    }
    .await;
    lease.release().await;
    result
}

/// Runs one mailbox until `shutdown` turns true: take the mailbox's lease
/// (so one instance polls it), sync, IDLE (or sleep), and reconnect with
/// exponential backoff and jitter after any failure. An instance without
/// the lease retries it every `lease_retry`: that bounds takeover after the
/// holder dies.
pub async fn run(
    config: MailboxConfig,
    ingestor: Ingestor,
    lease_retry: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let span = tracing::info_span!("mailbox", mailbox = %config.name);
    async move {
        let mut backoff = Backoff::default();
        let mut waiting_logged = false;
        while !*shutdown.borrow() {
            let delay = match ingestor.store.try_lease(&config.name).await {
                Ok(Some(mut lease)) => {
                    tracing::info!("holding the mailbox lease");
                    waiting_logged = false;
                    let result = sync::serve(&config, &ingestor, &mut shutdown, &mut backoff, &mut lease).await;
                    lease.release().await;
                    match result {
                        Ok(()) => break,
                        Err(error) => {
                            let delay = if error.is_auth() { backoff.next_auth() } else { backoff.next() };
                            tracing::error!(%error, retry_in_s = delay.as_secs(), "mailbox failed");
                            if matches!(error, MailboxError::OAuth { .. }) {
                                ingestor.health.oauth_failed(&config.name);
                            }
                            ingestor.health.failed(&config.name, &error.to_string());
                            delay
                        }
                    }
                }
                Ok(None) => {
                    ingestor.health.standby(&config.name);
                    if !waiting_logged {
                        tracing::info!("another instance holds the mailbox lease: standing by");
                        waiting_logged = true;
                    }
                    lease_retry
                }
                Err(error) => {
                    let delay = backoff.next();
                    tracing::error!(%error, retry_in_s = delay.as_secs(), "cannot take the mailbox lease");
                    ingestor.health.failed(&config.name, &error.to_string());
                    delay
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("mailbox stopped");
    }
    .instrument(span)
    .await
}

/// Exponential backoff with ±20 % jitter so many instances do not retry in step.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    failures: u32,
}

impl Backoff {
    const FIRST: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(300);
    const AUTH_FIRST: Duration = Duration::from_secs(60);
    const AUTH_MAX: Duration = Duration::from_secs(1800);

    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    fn next(&mut self) -> Duration {
        self.step(Self::FIRST, Self::MAX)
    }

    fn next_auth(&mut self) -> Duration {
        self.step(Self::AUTH_FIRST, Self::AUTH_MAX)
    }

    fn step(&mut self, first: Duration, max: Duration) -> Duration {
        let base = first.saturating_mul(1 << self.failures.min(16)).min(max);
        self.failures += 1;
        base.mul_f64(0.8 + 0.4 * fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_bounded_and_auth_is_slow() {
        let mut b = Backoff::default();
        let first = b.next();
        assert!(first >= Duration::from_millis(800) && first <= Duration::from_millis(1200));
        for _ in 0..30 {
            assert!(b.next() <= Backoff::MAX.mul_f64(1.2));
        }
        b.reset();
        assert!(b.next_auth() >= Duration::from_secs(48));
    }
}
