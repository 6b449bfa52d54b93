//! The download stage of a sync: the folder's UIDs and sizes, then the
//! messages themselves, cut into batches for the commit pipeline as the
//! server's answer arrives.

use std::collections::HashSet;

use futures::TryStreamExt;
use tokio::sync::watch;

use super::Syncer;
use crate::ingest::{Fetched, FetchedBody, Pipeline};
use crate::mailbox::MailboxError;
use crate::mailbox::connect::{ImapSession, timed};
use crate::mailbox::uidset::{self, UidSize};
use crate::store::{MailboxProgress, SourceLocation};

impl Syncer<'_> {
    /// UID and size of every message from `first` on, in UID order.
    pub(super) async fn sizes(
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
    pub(super) async fn download(
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
                if !handover.pipeline.reserve().await {
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

/// Hands downloaded batches to the commit pipeline, in UID order, each with
/// the mailbox position it reaches.
pub(super) struct Handover<'a> {
    pub(super) pipeline: Pipeline<'a, UidSize>,
    pub(super) uidvalidity: u32,
    /// The highest UID handed over so far (or known before the sync).
    pub(super) high: u32,
    /// `batch_messages`, `batch_bytes`.
    pub(super) limits: (usize, u64),
}

impl Handover<'_> {
    /// False when the committer has stopped.
    async fn send(&mut self, batch: Vec<(UidSize, Fetched)>) -> bool {
        let (messages, fetched): (Vec<UidSize>, Vec<Fetched>) = batch.into_iter().unzip();
        self.high = messages
            .iter()
            .map(|(uid, _)| *uid)
            .fold(self.high, u32::max);
        let progress = MailboxProgress {
            uidvalidity: self.uidvalidity,
            last_uid: self.high,
        };
        self.pipeline.send(messages, fetched, Some(progress)).await
    }
}
