//! `[smtp]` and `[ack]`: how acknowledgements are sent and to whom.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{Secret, Tls, duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Smtp,
    /// One .eml file per acknowledgement in `directory` (demo, debugging).
    File,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    #[serde(default = "default_transport")]
    pub transport: TransportKind,
    pub host: Option<String>,
    /// Default 465 for tls = "implicit", 587 for "starttls", 25 for "none".
    pub port: Option<u16>,
    #[serde(default = "default_tls")]
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    /// "password", or "xoauth2" / "oauthbearer" with the `oauth` table.
    #[serde(default)]
    pub auth: super::AuthMethod,
    pub oauth: Option<super::OAuthConfig>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub password_credential: Option<String>,
    /// The submissions address acknowledgements come from.
    pub from: String,
    /// Display name for `from`, e.g. "《旗幟》編輯部".
    pub from_name: Option<String>,
    /// For the file transport.
    pub directory: Option<PathBuf>,
    #[serde(
        default = "default_timeout",
        deserialize_with = "duration::deserialize"
    )]
    pub timeout: Duration,
    #[serde(skip)]
    pub password: Option<Secret>,
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            Tls::Implicit => 465,
            Tls::Starttls => 587,
            Tls::None => 25,
        })
    }

    /// The domain of `from`, used for our Message-IDs.
    pub fn domain(&self) -> &str {
        self.from
            .rsplit_once('@')
            .map_or("localhost", |(_, domain)| domain)
    }
}

/// The language a contributor is written to in: Traditional or Simplified
/// Chinese, or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
pub enum Language {
    #[serde(rename = "zh-Hant")]
    ZhHant,
    /// `zh` is what configs written before zh-Hant existed say.
    #[serde(rename = "zh-Hans", alias = "zh")]
    ZhHans,
    #[serde(rename = "en")]
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::ZhHant, Language::ZhHans, Language::En];

    /// BCP 47, as in template file names (`ack.zh-Hant.txt`).
    pub fn code(self) -> &'static str {
        match self {
            Language::ZhHant => "zh-Hant",
            Language::ZhHans => "zh-Hans",
            Language::En => "en",
        }
    }

    pub fn is_chinese(self) -> bool {
        self != Language::En
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AckConfig {
    pub enabled: bool,
    /// Directory holding the letters' templates: `KIND.LANG.txt` for the
    /// kinds ack, accept, revise, decline, status and withdrawn, in zh-Hant,
    /// zh-Hans and en.
    pub templates: PathBuf,
    /// Used when the submission's language is not clearly Traditional or
    /// Simplified Chinese or English.
    pub default_language: Language,
    /// The first retry after a transient failure; each next one waits twice
    /// as long, up to an hour.
    #[serde(deserialize_with = "duration::deserialize")]
    pub retry_initial: Duration,
    /// A sender claims due acknowledgements for this long; if it dies, another
    /// instance sends them after it (its own restart releases them at once).
    /// Longer than any send can take.
    #[serde(deserialize_with = "duration::deserialize")]
    pub claim: Duration,
    /// Retrying stops, and the acknowledgement is marked failed, this long
    /// after the submission was stored.
    #[serde(deserialize_with = "duration::deserialize")]
    pub expire_after: Duration,
    /// Older submissions (by Date, else INTERNALDATE) are not acknowledged,
    /// so connecting an old mailbox never mails its backlog.
    #[serde(deserialize_with = "duration::deserialize")]
    pub skip_older_than: Duration,
    /// At most this many acknowledgements per sender per `rate_window`.
    pub rate_limit: u32,
    #[serde(deserialize_with = "duration::deserialize")]
    pub rate_window: Duration,
    /// Acknowledge quarantined records too.
    pub acknowledge_quarantined: bool,
    /// The receiving provider's authserv-id: only the topmost
    /// Authentication-Results header, and only with this id, is trusted.
    pub authserv_id: Option<String>,
    /// Acknowledge only senders whose DMARC (or SPF/DKIM) passed.
    pub only_authenticated: bool,
    /// Addresses or `@domain`s that are always acknowledged (rate limit aside)…
    pub allow: Vec<String>,
    /// … and never (the draft is stored and flagged).
    pub deny: Vec<String>,
}

impl Default for AckConfig {
    fn default() -> Self {
        AckConfig {
            enabled: true,
            templates: PathBuf::from("templates"),
            default_language: Language::ZhHant,
            retry_initial: Duration::from_secs(30),
            claim: Duration::from_secs(300),
            expire_after: Duration::from_secs(3 * 86_400),
            skip_older_than: Duration::from_secs(7 * 86_400),
            rate_limit: 3,
            rate_window: Duration::from_secs(86_400),
            acknowledge_quarantined: false,
            authserv_id: None,
            only_authenticated: false,
            allow: Vec::new(),
            deny: Vec::new(),
        }
    }
}

fn default_transport() -> TransportKind {
    TransportKind::Smtp
}
fn default_tls() -> Tls {
    Tls::Starttls
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}
