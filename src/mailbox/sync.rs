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
        let (jobs, mut committed) = committer(self.ingestor.clone(), config.name.clone());
        let mut handover = Handover {
            jobs,
            ingestor: self.ingestor,
            mailbox: &config.name,
            uidvalidity,
            high,
            permit: None,
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

    /// Downloads `messages` with at most two pipelined commands — headers
    /// only for messages over the size limit, then full bodies — and hands
    /// them to the committer in batches as they arrive. False when the
    /// committer has stopped. A message missing from the answer (expunged by
    /// someone else meanwhile) is simply not committed, nor acted on.
    async fn download(
        &self,
        session: &mut ImapSession,
        messages: &[UidSize],
        handover: &mut Handover<'_>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<bool, MailboxError> {
        let config = self.config;
        let limit = self.ingestor.settings.limits.max_message_bytes;
        let (too_big, normal): (Vec<_>, Vec<_>) =
            messages.iter().partition(|(_, size)| *size > limit);
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        for (set, query, whole) in [
            (
                &too_big,
                "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])",
                false,
            ),
            (&normal, "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[])", true),
        ] {
            if set.is_empty() || *shutdown.borrow() {
                continue;
            }
            let uids: HashSet<u32> = set.iter().map(|(uid, _)| *uid).collect();
            let set = uidset::format(&set.iter().map(|(uid, _)| *uid).collect::<Vec<_>>());
            let mut stream = timed(config, "UID FETCH", session.uid_fetch(&set, query)).await?;
            let mut received = 0;
            loop {
                // Reading goes on only while the committer has room for the
                // batch being read: until then the answer waits in the socket,
                // not in our memory.
                if !handover.reserve().await {
                    return Ok(false);
                }
                // The timeout is per response: a command may run for minutes.
                let Some(f) = timed(config, "UID FETCH", stream.try_next()).await? else {
                    break;
                };
                // After a shutdown request the rest of the answer is read and
                // dropped: those messages stay on the server for next time.
                if *shutdown.borrow() {
                    continue;
                }
                let Some(uid) = f.uid.filter(|uid| uids.contains(uid)) else {
                    continue;
                };
                let size = f.size.map_or(0, u64::from);
                // An unsolicited FETCH (another client changed flags)
                // carries no section: it is not the message.
                let body = match (whole, f.body(), f.header()) {
                    (true, Some(body), _) => FetchedBody::Full(body.to_vec()),
                    (false, _, Some(headers)) => FetchedBody::TooBig {
                        headers: headers.to_vec(),
                        size,
                    },
                    _ => continue,
                };
                let weight = match &body {
                    FetchedBody::Full(bytes) => bytes.len() as u64,
                    FetchedBody::TooBig { .. } => 0,
                };
                let (max_count, max_bytes) = handover.limits;
                if !batch.is_empty()
                    && (batch.len() >= max_count || batch_bytes + weight > max_bytes)
                {
                    if !handover.send(std::mem::take(&mut batch)).await {
                        return Ok(false);
                    }
                    batch_bytes = 0;
                }
                batch_bytes += weight;
                let location = SourceLocation::Imap {
                    uidvalidity: handover.uidvalidity,
                    uid,
                };
                let fetched = Fetched {
                    location,
                    internal_date: f.internal_date(),
                    body,
                };
                batch.push(((uid, size), fetched));
                received += 1;
            }
            drop(stream);
            self.drain(session);
            if received < uids.len() && !*shutdown.borrow() {
                tracing::warn!(
                    expected = uids.len(),
                    got = received,
                    "server returned fewer messages than asked"
                );
            }
        }
        Ok(batch.is_empty() || handover.send(batch).await)
    }
}

/// Hands downloaded batches to the committer, in UID order, each with the
/// mailbox position it reaches.
struct Handover<'a> {
    jobs: mpsc::Sender<CommitJob>,
    ingestor: &'a Ingestor,
    mailbox: &'a str,
    uidvalidity: u32,
    /// The highest UID handed over so far (or known before the sync).
    high: u32,
    /// The committer's room for the next batch, once reserved.
    permit: Option<mpsc::OwnedPermit<CommitJob>>,
    /// `batch_messages`, `batch_bytes`.
    limits: (usize, u64),
}

impl Handover<'_> {
    /// Waits until the committer can take another batch; false when it has
    /// stopped.
    async fn reserve(&mut self) -> bool {
        if self.permit.is_none() {
            self.permit = self.jobs.clone().reserve_owned().await.ok();
        }
        self.permit.is_some()
    }

    /// Starts parsing the batch at once and queues it for commit; false
    /// when the committer has stopped.
    async fn send(&mut self, batch: Vec<(UidSize, Fetched)>) -> bool {
        if !self.reserve().await {
            return false;
        }
        let (messages, fetched): (Vec<UidSize>, Vec<Fetched>) = batch.into_iter().unzip();
        self.high = messages
            .iter()
            .map(|(uid, _)| *uid)
            .fold(self.high, u32::max);
        let progress = MailboxProgress {
            uidvalidity: self.uidvalidity,
            last_uid: self.high,
        };
        let parse = self.ingestor.parse(self.mailbox, fetched);
        match self.permit.take() {
            Some(permit) => {
                permit.send((messages, progress, parse));
                true
            }
            None => false,
        }
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
