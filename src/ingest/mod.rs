//! The source-independent step: raw bytes → parsed [`Incoming`] records →
//! one committed batch. IMAP, Maildir and `slushpile ingest` all use it.

pub mod deferred;
mod pipeline;

pub use pipeline::{Committed, Pipeline};

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::ack::followup;
use crate::ack::policy::Policy;
use crate::config::{Config, Limits, OnFail};
use crate::health::Health;
use crate::message::auth_results::{self, AuthVerdict};
use crate::message::{self, ParseOptions};
use crate::sender_auth::Verifier;
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
    /// The provider whose Authentication-Results header is trusted when
    /// the verdict is not computed here.
    pub authserv_id: Option<String>,
    /// What a DMARC failure does.
    pub on_fail: OnFail,
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
            authserv_id: config.authserv_id().map(str::to_string),
            on_fail: config.auth.as_ref().map(|a| a.on_fail).unwrap_or_default(),
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
    /// DKIM / SPF / DMARC computed here (`[auth] verify`).
    pub verifier: Option<Arc<Verifier>>,
    /// Whether a batch stops reading documents after `[extract]
    /// inline_timeout` and leaves the rest to [`deferred::run`]; only the
    /// daemon, which runs that task, turns it on.
    pub defer_extraction: bool,
    /// Woken when a batch left documents to read after the commit.
    pub extraction: Arc<Notify>,
}

/// A batch being authenticated and parsed.
pub struct ParseTask(tokio::task::JoinHandle<Result<Vec<Incoming>, StoreError>>);

impl std::future::Future for ParseTask {
    type Output = Result<Vec<Incoming>, StoreError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.map_err(|e| StoreError::Corrupt(format!("parser task failed: {e}")))?)
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
        let verifier = config.auth.as_ref().filter(|a| a.verify).and_then(|auth| {
            Verifier::new(auth)
                .inspect_err(|e| tracing::error!("{e}: sender authentication is not computed"))
                .ok()
        });
        Ingestor {
            store,
            settings: Arc::new(Settings::from_config(config)),
            outbox: Arc::new(Notify::new()),
            health: Arc::default(),
            verifier: verifier.map(Arc::new),
            defer_extraction: false,
            extraction: Arc::new(Notify::new()),
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

    /// Starts on a batch at once: sender authentication (DNS lookups,
    /// when configured), then parsing on a blocking thread. The IMAP source
    /// prepares batch k+1 while batch k commits.
    pub fn parse(&self, mailbox: &str, batch: Vec<Fetched>) -> ParseTask {
        let (settings, name) = (self.settings.clone(), mailbox.to_string());
        let defer = self.defer_extraction;
        let verifier = self.verifier.clone();
        ParseTask(tokio::spawn(async move {
            let verdicts = match &verifier {
                Some(verifier) => {
                    let max = settings.limits.max_message_bytes;
                    let raws: Vec<Option<&[u8]>> = batch
                        .iter()
                        .map(|f| match &f.body {
                            FetchedBody::Full(raw) if raw.len() as u64 <= max => Some(&raw[..]),
                            _ => None,
                        })
                        .collect();
                    verifier.verify_all(&raws).await
                }
                None => vec![None; batch.len()],
            };
            let parse = tokio::task::spawn_blocking(move || {
                let settings = with_inline_deadline(settings, defer);
                let now = Utc::now();
                batch
                    .into_iter()
                    .zip(verdicts)
                    .map(|(f, verdict)| prepare_judged(&name, f, &settings, now, verdict))
                    .collect::<Vec<_>>()
            });
            parse
                .await
                .map_err(|e| StoreError::Corrupt(format!("parser task failed: {e}")))
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
        if items.iter().any(|i| i.parsed.submission.extraction_pending) {
            self.extraction.notify_one();
        }
        // An acknowledgement to send, or a follow-up that may have queued a
        // status answer.
        if items
            .iter()
            .any(|i| i.ack.as_ref().is_some_and(|a| a.decision == Decision::Send))
            || outcomes
                .iter()
                .any(|o| matches!(o, IngestOutcome::FollowUp { .. }))
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

/// The batch's settings, with the time its documents may take from now
/// when the rest is read after the commit.
fn with_inline_deadline(settings: Arc<Settings>, defer: bool) -> Arc<Settings> {
    let inline = settings.options.extract.as_ref().map(|l| l.inline_timeout);
    match inline.filter(|_| defer) {
        Some(inline) => {
            let mut deferring = (*settings).clone();
            deferring.options.defer_extraction_at = Some(std::time::Instant::now() + inline);
            Arc::new(deferring)
        }
        None => settings,
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
    prepare_judged(mailbox, fetched, settings, now, None)
}

/// [`prepare`] with the sender authentication verdict computed for the
/// message (`sender_auth`); without one, a trusted Authentication-Results
/// header gives it.
pub fn prepare_judged(
    mailbox: &str,
    fetched: Fetched,
    settings: &Settings,
    now: DateTime<Utc>,
    computed: Option<AuthVerdict>,
) -> Incoming {
    let (options, limits) = (&settings.options, &settings.limits);
    let (raw, mut parsed) = match fetched.body {
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
    let follow_up_of = followup::claims(headers, parsed.submission.subject.as_deref());
    let intent = followup::intent(
        parsed.submission.subject.as_deref(),
        &parsed.submission.body_text,
    );
    let sender_auth = computed.or_else(|| {
        let id = settings.authserv_id.as_deref()?;
        auth_results::trusted_in(headers, id)
    });
    if let Some(verdict) = &sender_auth
        && verdict.dmarc_failed()
        && settings.on_fail == OnFail::Quarantine
        && parsed.quarantine.is_none()
    {
        let why = verdict.detail.as_deref().unwrap_or(&verdict.authserv_id);
        parsed.quarantine = Some(format!(
            "{}dmarc=fail ({why})",
            auth_results::QUARANTINE_PREFIX
        ));
    }
    let ack = settings.ack.as_ref().map(|policy| {
        let mut plan = policy.plan(
            headers,
            &parsed.submission,
            parsed.quarantine.is_some(),
            fetched.internal_date,
            now,
            sender_auth.as_ref(),
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
        sender_auth,
        follow_up_of,
        intent,
    }
}

fn too_big(size: u64, limits: &Limits) -> String {
    format!(
        "too_big: {size} bytes > limit {} bytes (only headers kept)",
        limits.max_message_bytes
    )
}
