//! The source-independent step: raw bytes → parsed [`Incoming`] records →
//! one committed batch. IMAP, Maildir and `slushpile ingest` all use it.

mod pipeline;

pub use pipeline::{Committed, Pipeline};

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::ack::followup;
use crate::ack::policy::Policy;
use crate::config::{Config, Limits};
use crate::health::Health;
use crate::message::{self, ParseOptions};
use crate::store::{
    Decision, Incoming, IngestOutcome, MailboxProgress, RawContent, SourceLocation, Store,
    StoreError,
};

/// How messages are turned into records: parse limits and, when
/// acknowledgements are on, the policy deciding who gets one.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub options: ParseOptions,
    pub limits: Limits,
    pub ack: Option<Policy>,
    /// Set for archive imports: the plan is still recorded, but every
    /// acknowledgement is suppressed with this reason.
    pub suppress_acks: Option<String>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        let ack = config.ack.as_ref().filter(|ack| ack.enabled).map(|ack| {
            let mut own_addresses = config.general.own_addresses.clone();
            if let Some(smtp) = &config.smtp {
                own_addresses.push(smtp.from.to_lowercase());
            }
            Policy {
                config: ack.clone(),
                own_addresses,
            }
        });
        Settings {
            options: config.parse_options(),
            limits: config.limits.clone(),
            ack,
            suppress_acks: None,
        }
    }
}

#[derive(Clone)]
pub struct Ingestor {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// Woken when a batch queued acknowledgements, so they go out at once.
    pub outbox: Arc<Notify>,
    pub health: Arc<Health>,
}

/// A batch being parsed on a blocking thread.
pub struct ParseTask(tokio::task::JoinHandle<Vec<Incoming>>);

impl std::future::Future for ParseTask {
    type Output = Result<Vec<Incoming>, StoreError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.map_err(|e| StoreError::Corrupt(format!("parser task failed: {e}"))))
    }
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

impl FetchedBody {
    /// The message's size in bytes, also when only its headers were read.
    pub fn size(&self) -> u64 {
        match self {
            FetchedBody::Full(bytes) => bytes.len() as u64,
            FetchedBody::TooBig { size, .. } => *size,
        }
    }
}

impl Ingestor {
    pub fn new(store: Store, config: &Config) -> Self {
        Ingestor {
            store,
            settings: Arc::new(Settings::from_config(config)),
            outbox: Arc::new(Notify::new()),
            health: Arc::default(),
        }
    }

    /// Parses (on a blocking thread: it is CPU work) and commits one batch.
    pub async fn ingest(
        &self,
        mailbox: &str,
        batch: Vec<Fetched>,
        progress: Option<MailboxProgress>,
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let items = self.parse(mailbox, batch).await?;
        self.commit(items, progress.map(|p| (mailbox, p))).await
    }

    /// Starts parsing a batch on a blocking thread at once; the IMAP source
    /// parses batch k+1 while batch k commits.
    pub fn parse(&self, mailbox: &str, batch: Vec<Fetched>) -> ParseTask {
        let (settings, name) = (self.settings.clone(), mailbox.to_string());
        ParseTask(tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            batch
                .into_iter()
                .map(|f| prepare(&name, f, &settings, now))
                .collect::<Vec<_>>()
        }))
    }

    /// Commits parsed records in one transaction, with the source's new
    /// position under its key; wakes the outbox when acknowledgements were
    /// queued.
    pub async fn commit(
        &self,
        items: Vec<Incoming>,
        progress: Option<(&str, MailboxProgress)>,
    ) -> Result<Vec<IngestOutcome>, StoreError> {
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
        let outcomes = self.store.commit_batch(&items, progress).await?;
        if items
            .iter()
            .any(|i| i.ack.as_ref().is_some_and(|a| a.decision == Decision::Send))
        {
            self.outbox.notify_one();
        }
        let suppressed = items
            .iter()
            .filter(|i| i.ack.as_ref().is_some_and(|a| a.decision != Decision::Send));
        self.health.acks_suppressed(suppressed.count() as u64);
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

/// Pure (given `now`): one fetched message → the record to commit.
/// Too-big and hostile messages become quarantined records here rather than
/// being skipped; the acknowledgement decision is made here too.
pub fn prepare(
    mailbox: &str,
    fetched: Fetched,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Incoming {
    let (options, limits) = (&settings.options, &settings.limits);
    let (raw, parsed) = match fetched.body {
        FetchedBody::Full(bytes) if bytes.len() as u64 > limits.max_message_bytes => {
            let size = bytes.len() as u64;
            let headers = message::header_section(&bytes).to_vec();
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
    let headers = match &raw {
        RawContent::Full(bytes) => message::header_section(bytes),
        RawContent::HeadersOnly { headers, .. } => headers.as_slice(),
    };
    let follow_up_of = followup::referenced_drafts(headers, parsed.submission.subject.as_deref());
    let ack = settings.ack.as_ref().map(|policy| {
        let mut plan = policy.plan(
            headers,
            &parsed.submission,
            parsed.quarantine.is_some(),
            fetched.internal_date,
            now,
        );
        if let Some(reason) = &settings.suppress_acks
            && plan.decision == Decision::Send
        {
            plan.decision = Decision::Suppress(reason.clone());
        }
        plan
    });
    let raw_sha256 = match &raw {
        RawContent::Full(bytes) => Some(hex::encode(Sha256::digest(bytes))),
        RawContent::HeadersOnly { .. } => None,
    };
    Incoming {
        mailbox: mailbox.to_string(),
        raw_sha256,
        location: fetched.location,
        raw,
        internal_date: fetched.internal_date,
        parsed,
        ack,
        follow_up_of,
    }
}

fn too_big(size: u64, limits: &Limits) -> String {
    format!(
        "too_big: {size} bytes > limit {} bytes (only headers kept)",
        limits.max_message_bytes
    )
}
