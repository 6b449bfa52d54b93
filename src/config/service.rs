//! The service's own sections: `[general]`, `[store]`, `[limits]`,
//! `[extract]`, `[log]`, `[api]`, `[ops]` and `[retention]`.

use std::time::Duration;

use serde::Deserialize;

use super::duration;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// e.g. "127.0.0.1:8080"; put a TLS reverse proxy in front for editors
    /// outside the machine.
    pub listen: std::net::SocketAddr,
    /// The address editors use, e.g. "https://slush.example.org". An https
    /// address marks the session cookie `Secure`.
    pub public_url: Option<String>,
    /// How long a web login lasts.
    #[serde(
        default = "default_session_ttl",
        deserialize_with = "duration::deserialize"
    )]
    pub session_ttl: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (addresses
    /// or ranges such as 10.0.0.0/8). From anyone else the header is
    /// ignored: the login throttle counts the connecting address.
    #[serde(default)]
    pub trusted_proxies: Vec<super::Cidr>,
}

impl ApiConfig {
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

fn default_session_ttl() -> Duration {
    Duration::from_secs(12 * 3600)
}

/// Withdrawn work should not be kept for ever: rejected and archived drafts
/// can be purged (raw message and everything derived) after a while.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    pub rejected_after: Option<Duration>,
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    pub archived_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsConfig {
    /// e.g. "127.0.0.1:9187"
    pub listen: std::net::SocketAddr,
    /// Replaced by each source's `stall_after`; still accepted so that an
    /// old config loads, and named in a warning at start.
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    pub ready_window: Option<Duration>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct General {
    /// IANA zone used for references (`SP-YYYYMMDD-NNNN`) and displayed times.
    pub time_zone: String,
    /// The publication's own addresses: mail from them is classified
    /// `own_address` (never a submission to acknowledge).
    pub own_addresses: Vec<String>,
    /// Editors' addresses: a message from one of them that forwards another
    /// (as an attachment) is credited to the original sender.
    pub forwarders: Vec<String>,
    /// Names this process in logs and events.
    pub instance: Option<String>,
    /// With several instances on PostgreSQL, how often one without a
    /// mailbox's lease tries to take it: the bound on takeover after the
    /// holder dies.
    #[serde(deserialize_with = "duration::deserialize")]
    pub lease_retry: Duration,
    /// How long an editor holds a claimed draft before it goes back to `new`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub claim_lease: Duration,
    /// The processing period promised to contributors: the acknowledgement
    /// states it, status answers give its end, and drafts without a
    /// decision by then are overdue.
    #[serde(deserialize_with = "duration::deserialize")]
    pub response_within: Duration,
}

impl Default for General {
    fn default() -> Self {
        Self {
            time_zone: "Asia/Shanghai".into(),
            own_addresses: Vec::new(),
            forwarders: Vec::new(),
            instance: None,
            lease_retry: Duration::from_secs(5),
            claim_lease: Duration::from_secs(2 * 3600),
            response_within: Duration::from_secs(30 * 86_400),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://relative/or/absolute.db` (relative to the config file) or
    /// `postgres://user@host/db` (add `?sslmode=verify-full` for TLS).
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Larger messages are not downloaded: they become quarantined records
    /// holding headers and size only.
    pub max_message_bytes: u64,
    pub max_parts: usize,
    pub max_depth: usize,
    /// One transaction commits at most this many messages …
    pub batch_messages: usize,
    /// … or this many bytes, whichever comes first.
    pub batch_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 25 * 1024 * 1024,
            max_parts: 256,
            max_depth: 12,
            batch_messages: 500,
            // With raw bytes in packs a commit costs mostly its fsyncs, not
            // its bytes: 4 MiB batches ingest 20 % faster than 2 MiB for 7 MB
            // more peak RSS; 8 MiB go past 64 MB (scripts/bench
            // --baseline-env SLUSHPILE_LIMITS__BATCH_BYTES=…, alternating
            // runs, bench/profile.md).
            batch_bytes: 4 * 1024 * 1024,
        }
    }
}

/// The article text of .docx/.odt/.doc/.pdf/.rtf attachments, read while
/// parsing, within these bounds (a document over them gets a note).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Extract {
    pub enabled: bool,
    /// Per document.
    #[serde(deserialize_with = "duration::deserialize")]
    pub timeout: Duration,
    /// For all the documents of one message together.
    #[serde(deserialize_with = "duration::deserialize")]
    pub message_timeout: Duration,
    /// For a batch's documents before it is committed; those left are read
    /// right after the commit.
    #[serde(deserialize_with = "duration::deserialize")]
    pub inline_timeout: Duration,
    /// What a document may inflate to (zip entries, PDF streams).
    pub max_inflated_bytes: u64,
    /// Text kept per document.
    pub max_text_bytes: usize,
}

impl Default for Extract {
    fn default() -> Self {
        let limits = crate::message::extract::ExtractLimits::default();
        Self {
            enabled: true,
            timeout: limits.timeout,
            message_timeout: limits.message_timeout,
            inline_timeout: limits.inline_timeout,
            max_inflated_bytes: limits.max_inflated,
            max_text_bytes: limits.max_text,
        }
    }
}

impl Extract {
    pub fn limits(&self) -> Option<crate::message::extract::ExtractLimits> {
        self.enabled
            .then(|| crate::message::extract::ExtractLimits {
                max_inflated: self.max_inflated_bytes,
                max_text: self.max_text_bytes,
                timeout: self.timeout,
                message_timeout: self.message_timeout,
                inline_timeout: self.inline_timeout,
                ..Default::default()
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
    /// Structured fields straight into the systemd journal. Chosen
    /// automatically when $JOURNAL_STREAM says stderr is the journal.
    Journald,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `slushpile=debug`; `RUST_LOG` wins.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}
