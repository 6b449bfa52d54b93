//! The source-independent step: raw bytes → parsed [`Incoming`] records →
//! one committed batch. IMAP, Maildir and `slushpile ingest` all use it.

use chrono::{DateTime, FixedOffset};

use crate::config::{Config, Limits};
use crate::message::{self, ParseOptions};
use crate::store::{
    Incoming, IngestOutcome, MailboxProgress, RawContent, SourceLocation, Store, StoreError,
};

#[derive(Clone)]
pub struct Ingestor {
    pub store: Store,
    pub options: ParseOptions,
    pub limits: Limits,
}

/// A message as a source hands it over.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub location: SourceLocation,
    pub internal_date: Option<DateTime<FixedOffset>>,
    pub body: FetchedBody,
}

#[derive(Debug, Clone)]
pub enum FetchedBody {
    Full(Vec<u8>),
    /// Over `limits.max_message_bytes`: only headers were read.
    TooBig {
        headers: Vec<u8>,
        size: u64,
    },
}

impl Ingestor {
    pub fn new(store: Store, config: &Config) -> Self {
        let options = ParseOptions {
            max_parts: config.limits.max_parts,
            max_depth: config.limits.max_depth,
            own_addresses: config.general.own_addresses.clone(),
        };
        Ingestor {
            store,
            options,
            limits: config.limits.clone(),
        }
    }

    /// Parses (on a blocking thread: it is CPU work) and commits one batch.
    pub async fn ingest(
        &self,
        mailbox: &str,
        batch: Vec<Fetched>,
        progress: Option<MailboxProgress>,
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let (options, limits, name) = (
            self.options.clone(),
            self.limits.clone(),
            mailbox.to_string(),
        );
        let items = tokio::task::spawn_blocking(move || {
            batch
                .into_iter()
                .map(|f| prepare(&name, f, &options, &limits))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("parser task failed: {e}")))?;
        for item in &items {
            if let Some(reason) = &item.parsed.quarantine {
                tracing::warn!(
                    location = ?item.location,
                    message_id = item.parsed.submission.message_id.as_deref().unwrap_or(""),
                    reason = %reason,
                    "quarantining message"
                );
            }
        }
        let outcomes = self
            .store
            .commit_batch(&items, progress.map(|p| (mailbox, p)))
            .await?;
        for (item, outcome) in items.iter().zip(&outcomes) {
            tracing::debug!(
                location = ?item.location,
                message_id = item.parsed.submission.message_id.as_deref().unwrap_or(""),
                ?outcome,
                "committed"
            );
        }
        Ok(outcomes)
    }
}

/// Pure: one fetched message → the record to commit. Too-big and hostile
/// messages become quarantined records here rather than being skipped.
pub fn prepare(
    mailbox: &str,
    fetched: Fetched,
    options: &ParseOptions,
    limits: &Limits,
) -> Incoming {
    let (raw, parsed) = match fetched.body {
        FetchedBody::Full(bytes) if bytes.len() as u64 > limits.max_message_bytes => {
            let size = bytes.len() as u64;
            let headers = header_section(&bytes).to_vec();
            let mut parsed = message::parse(&headers, options);
            parsed.quarantine = Some(too_big(size, limits));
            (RawContent::HeadersOnly { headers, size }, parsed)
        }
        FetchedBody::Full(bytes) => {
            let parsed = message::parse(&bytes, options);
            (RawContent::Full(bytes), parsed)
        }
        FetchedBody::TooBig { headers, size } => {
            let mut parsed = message::parse(&headers, options);
            parsed.quarantine = Some(too_big(size, limits));
            (RawContent::HeadersOnly { headers, size }, parsed)
        }
    };
    Incoming {
        mailbox: mailbox.to_string(),
        location: fetched.location,
        raw,
        internal_date: fetched.internal_date,
        parsed,
    }
}

fn too_big(size: u64, limits: &Limits) -> String {
    format!(
        "too_big: {size} bytes > limit {} bytes (only headers kept)",
        limits.max_message_bytes
    )
}

/// The bytes up to and including the blank line that ends the header section.
pub fn header_section(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap_or(raw.len());
    &raw[..end.min(raw.len())]
}
