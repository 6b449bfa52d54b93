//! A local Maildir as a source: read `new/` and `cur/`, commit, then move
//! each committed file into the processed Maildir. Re-reading a file after a
//! crash is harmless: the store recognises the same bytes.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tracing::Instrument;

use crate::config::MaildirConfig;
use crate::health::Tally;
use crate::ingest::{Fetched, FetchedBody, Ingestor};
use crate::store::{SourceLocation, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MaildirError {
    #[error("maildir {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MaildirError + '_ {
    move |source| MaildirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub type MaildirReport = Tally;

/// Ingests every message currently in the Maildir, one batch at a time.
pub async fn sync_once(
    config: &MaildirConfig,
    ingestor: &Ingestor,
) -> Result<MaildirReport, MaildirError> {
    // A Maildir that went away is a failed sync (the stall alarm follows),
    // never an empty one to create.
    if !tokio::fs::metadata(&config.path)
        .await
        .map_err(io(&config.path))?
        .is_dir()
    {
        return Err(io(&config.path)(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        )));
    }
    let processed = config.processed_dir();
    for sub in ["tmp", "new", "cur"] {
        let dir = processed.join(sub);
        tokio::fs::create_dir_all(&dir).await.map_err(io(&dir))?;
    }
    let files = list(&config.path).await?;
    let mut report = MaildirReport::default();
    let limits = &ingestor.settings.limits;
    for chunk in files.chunks(limits.batch_messages) {
        let mut batch = Vec::with_capacity(chunk.len());
        for path in chunk {
            batch.push(read(path, limits.max_message_bytes).await?);
        }
        let outcomes = ingestor.ingest(&config.name, batch, None).await?;
        report.add(&outcomes);
        // Committed: only now may the files move.
        for path in chunk {
            let name = path.file_name().unwrap_or_default();
            let target = processed.join("cur").join(name);
            tokio::fs::rename(path, &target).await.map_err(io(path))?;
        }
    }
    Ok(report)
}

/// Polls the Maildir until shutdown.
pub async fn run(config: MaildirConfig, ingestor: Ingestor, mut shutdown: watch::Receiver<bool>) {
    let span = tracing::info_span!("maildir", mailbox = %config.name);
    async move {
        while !*shutdown.borrow() {
            match sync_once(&config, &ingestor).await {
                Ok(report) => {
                    if report != MaildirReport::default() {
                        report.log("synced");
                    }
                    // The phase first: `synced` ends the first attempt, and
                    // READY and the watchdog's first STATUS follow at once.
                    ingestor.health.phase(&config.name, "polling");
                    ingestor.health.synced(&config.name, &report);
                }
                Err(error) => {
                    tracing::error!(%error, "maildir sync failed");
                    ingestor.health.failed(&config.name, &error.to_string());
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    .instrument(span)
    .await
}

pub(crate) async fn list(root: &Path) -> Result<Vec<PathBuf>, MaildirError> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        let dir = root.join(sub);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(&dir)(e)),
        };
        while let Some(entry) = entries.next_entry().await.map_err(io(&dir))? {
            let name = entry.file_name();
            if entry.file_type().await.map_err(io(&dir))?.is_file()
                && !name.to_string_lossy().starts_with('.')
            {
                files.push(entry.path());
            }
        }
    }
    // Maildir names start with the delivery time: sorting keeps arrival order.
    files.sort();
    Ok(files)
}

pub(crate) async fn read(path: &Path, max_bytes: u64) -> Result<Fetched, MaildirError> {
    let metadata = tokio::fs::metadata(path).await.map_err(io(path))?;
    let internal_date = metadata
        .modified()
        .ok()
        .map(|t| DateTime::<Utc>::from(t).fixed_offset());
    let location = SourceLocation::File(
        path.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
    );
    let body = if metadata.len() > max_bytes {
        FetchedBody::TooBig {
            headers: read_headers(path).await?,
            size: metadata.len(),
        }
    } else {
        FetchedBody::Full(tokio::fs::read(path).await.map_err(io(path))?)
    };
    Ok(Fetched {
        location,
        internal_date,
        body,
    })
}

/// Reads only the header section of a huge file, so memory stays flat.
async fn read_headers(path: &Path) -> Result<Vec<u8>, MaildirError> {
    use tokio::io::AsyncReadExt;
    const MAX_HEADER: u64 = 1024 * 1024;
    let file = tokio::fs::File::open(path).await.map_err(io(path))?;
    let mut head = Vec::new();
    file.take(MAX_HEADER)
        .read_to_end(&mut head)
        .await
        .map_err(io(path))?;
    let end = crate::message::header_section(&head).len();
    head.truncate(end);
    Ok(head)
}
