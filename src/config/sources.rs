//! `[[mailbox]]` and `[[maildir]]`: where submissions come from.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::oauth::{AuthMethod, OAuthConfig};
use super::secret::PasswordSource;
use super::{Secret, duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    Implicit,
    Starttls,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AfterIngest {
    Move,
    Seen,
    Delete,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub name: String,
    pub host: String,
    pub port: Option<u16>,
    #[serde(default = "default_tls")]
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    /// "password" (LOGIN with `password_*`), "xoauth2" or "oauthbearer"
    /// (an access token from the `oauth` table).
    #[serde(default)]
    pub auth: AuthMethod,
    pub oauth: Option<OAuthConfig>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub password_credential: Option<String>,
    #[serde(default = "default_folder")]
    pub folder: String,
    #[serde(default = "default_after_ingest")]
    pub after_ingest: AfterIngest,
    #[serde(default = "default_move_to")]
    pub move_to: String,
    #[serde(default = "default_reject_to")]
    pub reject_to: String,
    #[serde(default = "default_true")]
    pub idle: bool,
    /// Act on a backlog (move, flag, delete) over a second login so the
    /// download does not pause; off for providers that allow one session.
    #[serde(default = "default_true")]
    pub second_connection: bool,
    #[serde(
        default = "default_poll_interval",
        deserialize_with = "duration::deserialize"
    )]
    pub poll_interval: Duration,
    /// How long to wait for one IMAP response before treating the
    /// connection as dead.
    #[serde(
        default = "default_io_timeout",
        deserialize_with = "duration::deserialize"
    )]
    pub io_timeout: Duration,
    /// A mailbox with no successful sync for this long is reported stalled
    /// (/readyz, metrics, STATUS, one warning).
    #[serde(
        default = "default_stall_after",
        deserialize_with = "duration::deserialize"
    )]
    pub stall_after: Duration,
    /// Resolved at load time from one of the `password_*` keys.
    #[serde(skip)]
    pub password: Option<Secret>,
}

impl MailboxConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            Tls::Implicit => 993,
            Tls::Starttls | Tls::None => 143,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaildirConfig {
    pub name: String,
    pub path: PathBuf,
    /// Maildir that committed messages are moved into; default `<path>/.Ingested`.
    pub processed: Option<PathBuf>,
    #[serde(
        default = "default_poll_interval",
        deserialize_with = "duration::deserialize"
    )]
    pub poll_interval: Duration,
    #[serde(
        default = "default_stall_after",
        deserialize_with = "duration::deserialize"
    )]
    pub stall_after: Duration,
}

impl MaildirConfig {
    pub fn processed_dir(&self) -> PathBuf {
        self.processed
            .clone()
            .unwrap_or_else(|| self.path.join(".Ingested"))
    }
}

fn default_tls() -> Tls {
    Tls::Implicit
}

fn default_folder() -> String {
    "INBOX".into()
}

fn default_after_ingest() -> AfterIngest {
    AfterIngest::Move
}

fn default_move_to() -> String {
    "Ingested".into()
}

fn default_reject_to() -> String {
    "Rejected".into()
}

fn default_true() -> bool {
    true
}

fn default_poll_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_stall_after() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_io_timeout() -> Duration {
    Duration::from_secs(120)
}

impl<'a> From<&'a MailboxConfig> for PasswordSource<'a> {
    fn from(m: &'a MailboxConfig) -> Self {
        PasswordSource {
            prefix: "password",
            file: m.password_file.as_deref(),
            env: m.password_env.as_deref(),
            credential: m.password_credential.as_deref(),
        }
    }
}
