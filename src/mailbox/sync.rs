//! One connected mailbox: select, fetch what is new in UID batches, commit,
//! then act on the server; between syncs wait in IDLE or sleep.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

use super::actions::{Actions, Helper};
use super::connect::{self, ImapSession, ServerInfo};
use super::{Backoff, MailboxError, uidset};
use crate::config::{AfterIngest, MailboxConfig};
use crate::ingest::{Fetched, FetchedBody, Ingestor, ParseTask, Tally};
use crate::store::{IngestOutcome, Lease, MailboxProgress, SourceLocation, StoreError};

/// A message's UID and RFC822.SIZE.
pub(super) type UidSize = (u32, u64);

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
            tracing::info!(?report, "synced");
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
        let (wait, _stop) = handle.wait_with_timeout(IDLE_RENEW);
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
        let mut high = match store.mailbox_progress(&config.name).await? {
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
        let batches = uidset::batches(&weights, limits.batch_messages, limits.batch_bytes);
        let helper = match batches.len() {
            0 | 1 => None,
            _ => self.actions.helper(uidvalidity).await,
        };
        let (jobs, mut committed) = committer(self.ingestor.clone(), config.name.clone());
        let mut helper_stopped = false;
        'batches: for range in batches {
            if *shutdown.borrow() {
                break;
            }
            while let Ok(done) = committed.try_recv() {
                if !self
                    .act(session, helper.as_ref(), done, &mut report)
                    .await?
                {
                    helper_stopped = true;
                    break 'batches;
                }
            }
            let batch = &fresh[range];
            let fetched = self.fetch(session, uidvalidity, batch).await?;
            // Only what the server really sent is committed, so only that may
            // be acted on and counted as reached: a message missing from the
            // answer stays where it is for the next sync.
            let got: HashSet<u32> = fetched
                .iter()
                .filter_map(|f| match f.location {
                    SourceLocation::Imap { uid, .. } => Some(uid),
                    SourceLocation::File(_) => None,
                })
                .collect();
            let batch: Vec<UidSize> = batch
                .iter()
                .filter(|(uid, _)| got.contains(uid))
                .copied()
                .collect();
            high = batch.iter().map(|(uid, _)| *uid).fold(high, u32::max);
            let progress = MailboxProgress {
                uidvalidity,
                last_uid: high,
            };
            let parse = self.ingestor.parse(&config.name, fetched);
            if jobs.send((batch, progress, parse)).await.is_err() {
                break; // The committer stopped on an error, reported below.
            }
        }
        drop(jobs);
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
        done: Committed,
        report: &mut SyncReport,
    ) -> Result<bool, MailboxError> {
        let (batch, outcomes) = done?;
        report.add(&outcomes);
        match helper {
            Some(helper) => Ok(helper.act(batch).await),
            None => self.actions.act(session, &batch).await.map(|()| true),
        }
    }

    /// UID and size of every message from `first` on, in UID order.
    async fn sizes(
        &self,
        session: &mut ImapSession,
        first: u32,
    ) -> Result<Vec<UidSize>, MailboxError> {
        // Each response is reduced to its UID and size as it arrives: async-imap
        // keeps a buffer of at least 4 KiB per response, so collecting the
        // responses would cost memory in proportion to the mailbox.
        let mut sizes: Vec<UidSize> = Vec::new();
        timed(self.config, "UID FETCH", async {
            let mut stream = session
                .uid_fetch(format!("{first}:*"), "(UID RFC822.SIZE)")
                .await?;
            while let Some(f) = stream.try_next().await? {
                // `N:*` always includes the highest UID, even when it is below N.
                if let (Some(uid), Some(size)) = (f.uid, f.size)
                    && uid >= first
                {
                    sizes.push((uid, u64::from(size)));
                }
            }
            Ok(())
        })
        .await?;
        self.drain(session);
        sizes.sort_unstable();
        Ok(sizes)
    }

    /// Downloads one batch with at most two pipelined commands: full bodies,
    /// and headers only for messages over the size limit.
    async fn fetch(
        &self,
        session: &mut ImapSession,
        uidvalidity: u32,
        batch: &[UidSize],
    ) -> Result<Vec<Fetched>, MailboxError> {
        let limit = self.ingestor.settings.limits.max_message_bytes;
        let (too_big, normal): (Vec<_>, Vec<_>) = batch.iter().partition(|(_, size)| *size > limit);
        let mut out = Vec::with_capacity(batch.len());
        for (set, query, whole) in [
            (&normal, "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[])", true),
            (
                &too_big,
                "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])",
                false,
            ),
        ] {
            if set.is_empty() {
                continue;
            }
            let uids: Vec<u32> = set.iter().map(|(uid, _)| *uid).collect();
            let set = uidset::format(&uids);
            // Each response becomes a `Fetched` as it arrives, so the batch
            // is held once rather than as responses and copies together.
            timed(self.config, "UID FETCH", async {
                let mut stream = session.uid_fetch(&set, query).await?;
                while let Some(f) = stream.try_next().await? {
                    let Some(uid) = f.uid else { continue };
                    if !uids.contains(&uid) {
                        continue;
                    }
                    // An unsolicited FETCH (another client changed flags)
                    // carries no section: it is not the message.
                    let body = match (whole, f.body(), f.header()) {
                        (true, Some(body), _) => FetchedBody::Full(body.to_vec()),
                        (false, _, Some(headers)) => FetchedBody::TooBig {
                            headers: headers.to_vec(),
                            size: f.size.map_or(0, u64::from),
                        },
                        _ => continue,
                    };
                    let location = SourceLocation::Imap { uidvalidity, uid };
                    out.push(Fetched {
                        location,
                        internal_date: f.internal_date(),
                        body,
                    });
                }
                Ok(())
            })
            .await?;
            self.drain(session);
        }
        if out.len() < batch.len() {
            // A message expunged by someone else between SIZE and FETCH is
            // simply gone; everything we did get is still committed.
            tracing::warn!(
                expected = batch.len(),
                got = out.len(),
                "server returned fewer messages than asked"
            );
        }
        Ok(out)
    }
}

type CommitJob = (Vec<UidSize>, MailboxProgress, ParseTask);
type Committed = Result<(Vec<UidSize>, Vec<IngestOutcome>), StoreError>;

/// Commits parsed batches one after the other, in the order they were
/// queued, and reports each; stops at the first failure, so no later batch
/// (and no later `last_uid`) is committed past one that was not. One batch
/// waits in the queue while another commits.
fn committer(
    ingestor: Ingestor,
    mailbox: String,
) -> (mpsc::Sender<CommitJob>, mpsc::UnboundedReceiver<Committed>) {
    let (jobs, mut queue) = mpsc::channel::<CommitJob>(1);
    let (done, committed) = mpsc::unbounded_channel();
    tokio::spawn(
        async move {
            while let Some((batch, progress, parse)) = queue.recv().await {
                let result = async {
                    let items = parse.await?;
                    ingestor.commit(&mailbox, items, Some(progress)).await
                }
                .await;
                let failed = result.is_err();
                if done.send(result.map(|outcomes| (batch, outcomes))).is_err() || failed {
                    break;
                }
            }
        }
        .instrument(tracing::Span::current()),
    );
    (jobs, committed)
}

/// Every IMAP command gets the mailbox's `io_timeout`: a dead connection
/// must turn into a reconnect, not a hang.
pub(super) async fn timed<T>(
    config: &MailboxConfig,
    command: &'static str,
    fut: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, MailboxError> {
    match tokio::time::timeout(config.io_timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(MailboxError::protocol(&config.host, command, e)),
        Err(_) => Err(MailboxError::protocol(
            &config.host,
            command,
            format!("no answer within {}s", config.io_timeout.as_secs()),
        )),
    }
}

/// async-imap queues untagged responses in a bounded channel and drops what
/// does not fit, so they are drained after every command; we learn the
/// mailbox's state by re-selecting, so only "new mail" matters.
/// Returns whether any of them announced new mail (EXISTS / RECENT), or the
/// channel was full: a move of many messages answers with an EXPUNGE each,
/// and an EXISTS after them may have been dropped.
pub(super) fn drain_unsolicited(session: &mut ImapSession) -> bool {
    let full = session.unsolicited_responses.is_full();
    let mut news = false;
    while let Ok(response) = session.unsolicited_responses.try_recv() {
        news |= matches!(
            response,
            UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
        );
    }
    news || full
}
