//! What happens on the server to committed messages (`after_ingest`): on the
//! syncing connection, or, for a backlog, on a second connection of its own so
//! that moving batch k overlaps with downloading batch k+1.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::TryStreamExt;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::MailboxError;
use super::connect::{self, ImapSession, ServerInfo, drain_unsolicited, timed};
use super::uidset::{self, UidSize};
use crate::config::{AfterIngest, MailboxConfig};

/// Batches waiting for the helper connection; the downloader waits when the
/// helper falls this far behind.
const HELPER_QUEUE: usize = 64;

/// Batches that queued up while the helper's last command ran are acted on
/// in one command, up to this many messages: each MOVE or STORE is a
/// transaction that rewrites index files of the whole folder on the server
/// (Dovecot's uidlist, for one), so fewer, larger ones cost it far less.
const MAX_MERGED: usize = 5000;

#[derive(Clone)]
pub(super) struct Actions {
    config: MailboxConfig,
    info: ServerInfo,
    max_message_bytes: u64,
    /// Folders known to exist on the server, so each is created at most once.
    folders: HashSet<String>,
    /// Set when the server announces new mail on either connection.
    news: Arc<AtomicBool>,
}

/// A second connection on the same folder, acting on batches in the order
/// they were committed.
pub(super) struct Helper {
    queue: mpsc::Sender<Vec<UidSize>>,
    task: tokio::task::JoinHandle<Result<(), MailboxError>>,
}

impl Helper {
    /// Queues a committed batch; false when the helper has stopped (its
    /// error comes from [`Helper::finish`]).
    pub(super) async fn act(&self, batch: Vec<UidSize>) -> bool {
        self.queue.send(batch).await.is_ok()
    }

    /// Waits until every queued batch has been acted on.
    pub(super) async fn finish(self) -> Result<(), MailboxError> {
        drop(self.queue);
        self.task
            .await
            .map_err(|e| MailboxError::protocol("helper connection", "task", e))?
    }
}

impl Actions {
    pub(super) fn new(
        config: &MailboxConfig,
        info: &ServerInfo,
        max_message_bytes: u64,
        news: Arc<AtomicBool>,
    ) -> Self {
        Actions {
            config: config.clone(),
            info: info.clone(),
            max_message_bytes,
            folders: HashSet::new(),
            news,
        }
    }

    fn drain(&self, session: &mut ImapSession) {
        if drain_unsolicited(session) {
            self.news.store(true, Ordering::Relaxed);
        }
    }

    /// Opens the helper connection and selects the folder. None — act on the
    /// syncing connection instead — when it cannot be opened or the folder's
    /// UIDVALIDITY differs from the one the batches were fetched under.
    pub(super) async fn helper(&self, uidvalidity: u32) -> Option<Helper> {
        let config = &self.config;
        let opened = async {
            let (mut session, _) = connect::open(config).await?;
            let selected = timed(config, "SELECT", session.select(&config.folder)).await?;
            drain_unsolicited(&mut session);
            Ok::<_, MailboxError>((session, selected.uid_validity))
        };
        let mut session = match opened.await {
            Ok((session, Some(v))) if v == uidvalidity => session,
            Ok((mut session, _)) => {
                tracing::warn!("helper connection sees another UIDVALIDITY: acting inline");
                let _ = tokio::time::timeout(config.io_timeout, session.logout()).await;
                return None;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot open a helper connection: acting inline");
                return None;
            }
        };
        let (queue, mut batches) = mpsc::channel::<Vec<UidSize>>(HELPER_QUEUE);
        let mut actions = self.clone();
        let task = tokio::spawn(
            async move {
                while let Some(mut batch) = batches.recv().await {
                    while batch.len() < MAX_MERGED
                        && let Ok(more) = batches.try_recv()
                    {
                        batch.extend(more);
                    }
                    actions.act(&mut session, &batch).await?;
                }
                let timeout = actions.config.io_timeout;
                let _ = tokio::time::timeout(timeout, session.logout()).await;
                Ok(())
            }
            .instrument(tracing::Span::current()),
        );
        Some(Helper { queue, task })
    }

    /// The configured server action for committed messages; too-big ones go
    /// to `reject_to` whatever `after_ingest` says.
    pub(super) async fn act(
        &mut self,
        session: &mut ImapSession,
        messages: &[UidSize],
    ) -> Result<(), MailboxError> {
        let limit = self.max_message_bytes;
        let (rejected, accepted): (Vec<UidSize>, Vec<UidSize>) =
            messages.iter().partition(|(_, size)| *size > limit);
        let uids = |set: Vec<UidSize>| set.into_iter().map(|(uid, _)| uid).collect::<Vec<_>>();
        let (rejected, accepted) = (uids(rejected), uids(accepted));
        if !rejected.is_empty() {
            let target = self.config.reject_to.clone();
            self.move_to(session, &rejected, &target).await?;
        }
        if accepted.is_empty() {
            return Ok(());
        }
        match self.config.after_ingest {
            AfterIngest::Move => {
                let target = self.config.move_to.clone();
                self.move_to(session, &accepted, &target).await
            }
            AfterIngest::Seen => {
                self.store_flags(session, &accepted, "+FLAGS.SILENT (\\Seen)")
                    .await
            }
            AfterIngest::Delete => {
                self.store_flags(session, &accepted, "+FLAGS.SILENT (\\Deleted)")
                    .await?;
                self.expunge(session, &accepted).await
            }
        }
    }

    async fn move_to(
        &mut self,
        session: &mut ImapSession,
        uids: &[u32],
        folder: &str,
    ) -> Result<(), MailboxError> {
        self.ensure_folder(session, folder).await?;
        let set = uidset::format(uids);
        if self.info.move_ext {
            timed(&self.config, "UID MOVE", session.uid_mv(&set, folder)).await?;
        } else {
            timed(&self.config, "UID COPY", session.uid_copy(&set, folder)).await?;
            self.store_flags(session, uids, "+FLAGS.SILENT (\\Deleted)")
                .await?;
            self.expunge(session, uids).await?;
        }
        self.drain(session);
        Ok(())
    }

    async fn store_flags(
        &self,
        session: &mut ImapSession,
        uids: &[u32],
        flags: &str,
    ) -> Result<(), MailboxError> {
        let set = uidset::format(uids);
        timed(&self.config, "UID STORE", async {
            session
                .uid_store(&set, flags)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        self.drain(session);
        Ok(())
    }

    async fn expunge(&self, session: &mut ImapSession, uids: &[u32]) -> Result<(), MailboxError> {
        let set = uidset::format(uids);
        if self.info.uidplus {
            timed(&self.config, "UID EXPUNGE", async {
                session
                    .uid_expunge(&set)
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        } else {
            // Without UIDPLUS this also removes other \Deleted messages in the
            // folder: the best plain IMAP allows.
            timed(&self.config, "EXPUNGE", async {
                session.expunge().await?.try_collect::<Vec<_>>().await
            })
            .await?;
        }
        self.drain(session);
        Ok(())
    }

    async fn ensure_folder(
        &mut self,
        session: &mut ImapSession,
        folder: &str,
    ) -> Result<(), MailboxError> {
        if self.folders.contains(folder) {
            return Ok(());
        }
        let listed: Vec<_> = timed(&self.config, "LIST", async {
            session
                .list(None, Some(folder))
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        if listed.is_empty() {
            tracing::info!(folder, "creating folder");
            timed(&self.config, "CREATE", session.create(folder)).await?;
        }
        self.drain(session);
        self.folders.insert(folder.to_string());
        Ok(())
    }
}
