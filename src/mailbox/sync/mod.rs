//! One connected mailbox: select, fetch what is new in UID batches, commit,
//! then act on the server; between syncs wait in IDLE or sleep.

mod fetch;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use fetch::Handover;

use super::actions::{Actions, Helper};
use super::connect::{self, ImapSession, ServerInfo, drain_unsolicited, timed};
use super::uidset::{self, UidSize};
use super::{Backoff, MailboxError};
use crate::config::{AfterIngest, MailboxConfig};
use crate::health::Tally;
use crate::ingest::{Committed, Ingestor, Pipeline};
use crate::store::Lease;

/// How many batches one UID FETCH command covers.
const FETCH_BATCHES: usize = 16;

/// Servers drop IDLE after 30 minutes of silence (RFC 2177): re-issue before.
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);

pub type SyncReport = Tally;

/// Connect, sync, wait for news, repeat — until shutdown (Ok) or an error.
pub(super) async fn serve(
    config: &MailboxConfig,
    ingestor: &Ingestor,
    shutdown: &mut watch::Receiver<bool>,
    backoff: &mut Backoff,
    lease: &mut Lease,
) -> Result<(), MailboxError> {
    let health = &ingestor.health;
    health.phase(&config.name, "connecting");
    let (mut session, info) = connect::open(config).await?;
    tracing::info!(server = %config.host, idle = info.idle, r#move = info.move_ext, "connected");
    health.connected(&config.name);
    let mut syncer = Syncer::new(config, ingestor, &info);
    loop {
        if !lease.is_held().await {
            let _ = tokio::time::timeout(config.io_timeout, session.logout()).await;
            return Err(MailboxError::LeaseLost);
        }
        health.phase(&config.name, "syncing");
        let report = syncer.run(&mut session, shutdown).await?;
        health.synced(&config.name, &report);
        backoff.reset();
        if report != SyncReport::default() {
            report.log("synced");
        }
        if *shutdown.borrow() {
            break;
        }
        if syncer.news.swap(false, Ordering::Relaxed) {
            // The server announced mail during the sync; IDLE would not
            // announce it again.
            continue;
        }
        if config.idle && info.idle {
            health.phase(&config.name, "idle");
            session = match idle(session, config, shutdown).await? {
                Some(session) => session,
                None => return Ok(()),
            };
        } else {
            health.phase(&config.name, "polling");
            tokio::select! {
                _ = tokio::time::sleep(config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        if *shutdown.borrow() {
            break;
        }
    }
    let _ = tokio::time::timeout(config.io_timeout, session.logout()).await;
    Ok(())
}

/// Waits in IDLE until the server reports a change, the renewal time passes
/// or shutdown is requested; ends IDLE with DONE in every case.
async fn idle(
    session: ImapSession,
    config: &MailboxConfig,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<ImapSession>, MailboxError> {
    let server = &config.host;
    let mut handle = session.idle();
    timed(config, "IDLE", handle.init()).await?;
    {
        // A quiet mailbox still proves it is alive before `stall_after`.
        let renew = IDLE_RENEW.min(config.stall_after / 2);
        let (wait, _stop) = handle.wait_with_timeout(renew);
        tokio::select! {
            result = wait => { result.map_err(|e| MailboxError::protocol(server, "IDLE", e))?; }
            _ = shutdown.changed() => {}
        }
    }
    let mut session = timed(config, "DONE", handle.done()).await?;
    drain_unsolicited(&mut session);
    if *shutdown.borrow() {
        let _ = tokio::time::timeout(config.io_timeout, session.logout()).await;
        return Ok(None);
    }
    Ok(Some(session))
}

pub(super) struct Syncer<'a> {
    config: &'a MailboxConfig,
    ingestor: &'a Ingestor,
    actions: Actions,
    /// Set when the server announces new mail after the sync started.
    news: Arc<AtomicBool>,
}

impl<'a> Syncer<'a> {
    pub(super) fn new(
        config: &'a MailboxConfig,
        ingestor: &'a Ingestor,
        info: &'a ServerInfo,
    ) -> Self {
        let news = Arc::new(AtomicBool::new(false));
        let limit = ingestor.settings.limits.max_message_bytes;
        Syncer {
            config,
            ingestor,
            actions: Actions::new(config, info, limit, news.clone()),
            news,
        }
    }

    fn drain(&self, session: &mut ImapSession) {
        if drain_unsolicited(session) {
            self.news.store(true, Ordering::Relaxed);
        }
    }

    pub(super) async fn run(
        &mut self,
        session: &mut ImapSession,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<SyncReport, MailboxError> {
        let config = self.config;
        let store = &self.ingestor.store;
        let selected = timed(config, "SELECT", session.select(&config.folder)).await?;
        // The scan below covers everything announced so far.
        drain_unsolicited(session);
        self.news.store(false, Ordering::Relaxed);
        let uidvalidity = selected.uid_validity.ok_or_else(|| {
            MailboxError::protocol(&config.host, "SELECT", "server sent no UIDVALIDITY")
        })?;
        let mut report = SyncReport::default();
        if selected.exists == 0 {
            return Ok(report);
        }
        let high = match store.mailbox_progress(&config.name).await? {
            Some(p) if p.uidvalidity == uidvalidity => p.last_uid,
            Some(p) => {
                tracing::warn!(
                    old = p.uidvalidity,
                    new = uidvalidity,
                    "UIDVALIDITY changed: rescanning the folder"
                );
                0
            }
            None => 0,
        };
        // With move/delete the folder holds only unprocessed mail, so scan it
        // all: that also finds messages committed before a crash but not moved.
        let first = if config.after_ingest == AfterIngest::Seen {
            high + 1
        } else {
            1
        };
        let sizes = self.sizes(session, first).await?;
        let uids: Vec<u32> = sizes.iter().map(|(uid, _)| *uid).collect();
        let known: HashSet<u32> = store
            .known_uids(&config.name, uidvalidity, &uids)
            .await?
            .into_iter()
            .collect();
        let (leftover, fresh): (Vec<UidSize>, Vec<UidSize>) =
            sizes.into_iter().partition(|(uid, _)| known.contains(uid));
        if !leftover.is_empty() {
            tracing::info!(
                count = leftover.len(),
                "finishing server actions of already committed messages"
            );
            report.leftovers = leftover.len() as u64;
            let uids: Vec<u32> = leftover.iter().map(|(uid, _)| *uid).collect();
            store
                .note_seen_uids(&config.name, uidvalidity, &uids)
                .await?;
            self.actions.act(session, &leftover).await?;
        }

        let limits = &self.ingestor.settings.limits;
        // A too-big message counts for its header size only in batching.
        let weights: Vec<UidSize> = fresh
            .iter()
            .map(|&(uid, size)| {
                (
                    uid,
                    if size > limits.max_message_bytes {
                        0
                    } else {
                        size
                    },
                )
            })
            .collect();
        // Three stages overlap: batch k commits on the committer task while
        // batch k+1 parses on a blocking thread and batch k+2 downloads.
        // Commits stay in order, and a batch is acted on only once its commit
        // has returned. A backlog is acted on over a helper connection, so
        // the server's moves do not pause the download either.
        let (count, bytes) = (limits.batch_messages, limits.batch_bytes);
        let backlog = uidset::batches(&weights, count, bytes).len() > 1;
        let helper = if backlog && config.second_connection {
            self.actions.helper(uidvalidity).await
        } else {
            None
        };
        let (pipeline, mut committed) = Pipeline::start(self.ingestor, &config.name, &config.name);
        let mut handover = Handover {
            pipeline,
            uidvalidity,
            high,
            limits: (count, bytes),
        };
        let mut helper_stopped = false;
        // One UID FETCH serves many batches: each command costs the server a
        // look at the whole folder (Dovecot rescans a Maildir), so commands
        // are few and their answers are cut into batches as they arrive.
        let commands = uidset::batches(
            &weights,
            count.saturating_mul(FETCH_BATCHES),
            bytes.saturating_mul(FETCH_BATCHES as u64),
        );
        'commands: for range in commands {
            if *shutdown.borrow() {
                break;
            }
            while let Ok(done) = committed.try_recv() {
                if !self
                    .act(session, helper.as_ref(), done, &mut report)
                    .await?
                {
                    helper_stopped = true;
                    break 'commands;
                }
            }
            if !self
                .download(session, &fresh[range], &mut handover, shutdown)
                .await?
            {
                break; // The committer stopped on an error, reported below.
            }
        }
        // Closes the queue (a reserved permit holds it open too).
        drop(handover);
        while !helper_stopped && let Some(done) = committed.recv().await {
            helper_stopped = !self
                .act(session, helper.as_ref(), done, &mut report)
                .await?;
        }
        if let Some(helper) = helper {
            helper.finish().await?;
        }
        Ok(report)
    }

    /// Counts a committed batch and has it acted on; false when the helper
    /// connection has stopped (its error comes from `Helper::finish`).
    async fn act(
        &mut self,
        session: &mut ImapSession,
        helper: Option<&Helper>,
        done: Committed<UidSize>,
        report: &mut SyncReport,
    ) -> Result<bool, MailboxError> {
        let (batch, outcomes) = done?;
        report.add(&outcomes);
        match helper {
            Some(helper) => Ok(helper.act(batch).await),
            None => self.actions.act(session, &batch).await.map(|()| true),
        }
    }
}
