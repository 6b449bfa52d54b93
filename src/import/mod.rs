//! `slushpile import`: an mbox file or a Maildir brought into the store as
//! drafts, with the idempotence of live mail (the same bytes or Message-ID
//! never make a second draft) and never an acknowledgement. Each committed
//! batch stores how far the archive has been read, in the same transaction,
//! so an interrupted import resumes where it stopped.

pub mod mbox;
mod source;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::ingest::{Committed, Ingestor, Pipeline};
use crate::store::{DraftKey, IngestOutcome, MailboxProgress, StoreError};
use source::{Item, Messages};

/// Why acknowledgements are suppressed for imported mail: the contributor
/// wrote long ago, to an address that may have answered then.
pub const NO_ACK_REASON: &str = "imported from an archive (slushpile import)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Mbox,
    Maildir,
}

impl ArchiveKind {
    fn name(self) -> &'static str {
        match self {
            ArchiveKind::Mbox => "mbox",
            ArchiveKind::Maildir => "maildir",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How far an import has come, for a progress display.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub messages: u64,
    pub bytes: u64,
    pub total_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub location: String,
    pub reference: String,
    pub reason: String,
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Messages skipped because an earlier run committed them.
    pub resumed_after: u64,
    pub new: u64,
    pub duplicates: u64,
    pub follow_ups: u64,
    pub quarantined: Vec<Quarantined>,
    /// Stopped by a signal: the committed part is kept and a re-run resumes.
    pub interrupted: bool,
}

pub struct Import<'a> {
    pub ingestor: &'a Ingestor,
    /// The source name recorded on the drafts.
    pub mailbox: &'a str,
    pub dry_run: bool,
    /// Set by a signal handler: stop reading, finish what was handed over.
    pub stop: &'a AtomicBool,
}

impl Import<'_> {
    pub async fn run(
        &self,
        kind: ArchiveKind,
        path: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Summary, ImportError> {
        let path = std::path::absolute(path).map_err(|e| read_error(path, e))?;
        // Keyed by the archive, not by `mailbox`: the same name may serve
        // several archives.
        let key = format!("import:{}:{}", kind.name(), path.display());
        let mut messages = Messages::open(kind, &path).await?;
        let mut shown = Progress {
            total_bytes: messages.total_bytes,
            ..Progress::default()
        };
        let mut summary = Summary::default();
        if !self.dry_run {
            self.resume(kind, &path, &key, &mut messages, &mut shown)
                .await?;
            summary.resumed_after = shown.messages;
        }
        progress(shown);
        if self.dry_run {
            self.dry_run(&mut messages, &mut shown, &mut summary, progress)
                .await?;
        } else {
            self.commit(&key, &mut messages, &mut shown, &mut summary, progress)
                .await?;
        }
        summary.interrupted = self.stop.load(Ordering::Relaxed);
        if !summary.interrupted {
            // Messages are counted without the mbox's `From ` lines and
            // quoting: the whole archive has been read now.
            shown.bytes = shown.total_bytes;
            progress(shown);
        }
        Ok(summary)
    }

    /// Skips what an earlier run of this archive committed, when the
    /// archive still starts with the same messages; else starts over (the
    /// store still recognises each message it has).
    async fn resume(
        &self,
        kind: ArchiveKind,
        path: &Path,
        key: &str,
        messages: &mut Messages,
        shown: &mut Progress,
    ) -> Result<(), ImportError> {
        let Some(done) = self.ingestor.store.mailbox_progress(key).await? else {
            return Ok(());
        };
        let max = self.ingestor.settings.limits.max_message_bytes;
        for _ in 0..done.last_uid {
            match messages.next(max).await? {
                Some(item) => shown.bytes += item.size,
                None => break,
            }
        }
        if messages.fingerprint == done.uidvalidity && messages.read == u64::from(done.last_uid) {
            shown.messages = messages.read;
            tracing::info!(archive = %path.display(), after = messages.read, "resuming");
        } else {
            tracing::warn!(archive = %path.display(), "the archive changed since the last run: reading it all again");
            *messages = Messages::open(kind, path).await?;
            shown.bytes = 0;
        }
        Ok(())
    }

    async fn commit(
        &self,
        key: &str,
        messages: &mut Messages,
        shown: &mut Progress,
        summary: &mut Summary,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ImportError> {
        let (mut pipeline, mut committed) = Pipeline::start(self.ingestor, self.mailbox, key);
        let mut result = Ok(());
        while !self.stop.load(Ordering::Relaxed) {
            let (batch, tags) = match self.next_batch(messages).await {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            let position = MailboxProgress {
                uidvalidity: messages.fingerprint,
                last_uid: u32::try_from(messages.read).unwrap_or(u32::MAX),
            };
            let sent = pipeline.send(tags, batch, Some(position)).await;
            while let Ok(done) = committed.try_recv() {
                self.tally(done, shown, summary, progress).await?;
            }
            if !sent {
                break;
            }
        }
        drop(pipeline);
        while let Some(done) = committed.recv().await {
            self.tally(done, shown, summary, progress).await?;
        }
        result
    }

    /// Parses and counts without writing anything.
    async fn dry_run(
        &self,
        messages: &mut Messages,
        shown: &mut Progress,
        summary: &mut Summary,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ImportError> {
        let mut seen = HashSet::new();
        while !self.stop.load(Ordering::Relaxed) {
            let Some((batch, tags)) = self.next_batch(messages).await? else {
                break;
            };
            let items = self.ingestor.parse(self.mailbox, batch).await?;
            let hashes: Vec<String> = items.iter().filter_map(|i| i.raw_sha256.clone()).collect();
            let stored: HashSet<String> = self
                .ingestor
                .store
                .known_raws(&hashes)
                .await?
                .into_iter()
                .collect();
            for (item, (location, size)) in items.iter().zip(tags) {
                let duplicate = item
                    .raw_sha256
                    .as_ref()
                    .is_some_and(|h| stored.contains(h) || !seen.insert(h.clone()));
                if duplicate {
                    summary.duplicates += 1;
                } else if let Some(reason) = &item.parsed.quarantine {
                    summary.quarantined.push(Quarantined {
                        location,
                        reference: String::new(),
                        reason: reason.clone(),
                    });
                } else {
                    summary.new += 1;
                }
                shown.messages += 1;
                shown.bytes += size;
            }
            progress(*shown);
        }
        Ok(())
    }

    /// The next batch, within `batch_messages` and `batch_bytes`, with each
    /// message's location and size as its tag.
    async fn next_batch(
        &self,
        messages: &mut Messages,
    ) -> Result<Option<(Vec<crate::ingest::Fetched>, Vec<(String, u64)>)>, ImportError> {
        let limits = &self.ingestor.settings.limits;
        let (mut batch, mut tags, mut bytes) = (Vec::new(), Vec::new(), 0u64);
        while batch.len() < limits.batch_messages && bytes < limits.batch_bytes {
            let Some(Item { fetched, size }) = messages.next(limits.max_message_bytes).await?
            else {
                break;
            };
            bytes += size;
            tags.push((fetched.location.name(), size));
            batch.push(fetched);
        }
        Ok((!batch.is_empty()).then_some((batch, tags)))
    }

    async fn tally(
        &self,
        done: Committed<(String, u64)>,
        shown: &mut Progress,
        summary: &mut Summary,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ImportError> {
        let (tags, outcomes) = done?;
        for ((location, size), outcome) in tags.into_iter().zip(outcomes) {
            shown.messages += 1;
            shown.bytes += size;
            match outcome {
                IngestOutcome::Created {
                    quarantined: false, ..
                } => summary.new += 1,
                IngestOutcome::Created {
                    draft_id,
                    reference,
                    quarantined: true,
                } => {
                    let draft = self.ingestor.store.draft(&DraftKey::Id(draft_id)).await?;
                    summary.quarantined.push(Quarantined {
                        location,
                        reference,
                        reason: draft.and_then(|d| d.quarantine_reason).unwrap_or_default(),
                    });
                }
                IngestOutcome::SeenAgain { .. } => summary.duplicates += 1,
                IngestOutcome::FollowUp { .. } => summary.follow_ups += 1,
            }
        }
        progress(*shown);
        Ok(())
    }
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> ImportError {
    ImportError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
