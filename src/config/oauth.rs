//! `auth = "xoauth2" | "oauthbearer"` and the `oauth` table of a
//! `[[mailbox]]` or of `[smtp]`: where access tokens come from. Providers
//! that turned Basic auth off (Gmail, Microsoft 365) accept only these.

use std::path::PathBuf;

use serde::Deserialize;

use super::Secret;
use super::secret::PasswordSource;

/// How slushpile logs in to IMAP or SMTP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// LOGIN (IMAP) / AUTH PLAIN or LOGIN (SMTP) with `password_*`.
    #[default]
    Password,
    /// SASL XOAUTH2 with an OAuth2 access token (Gmail, Microsoft 365).
    Xoauth2,
    /// SASL OAUTHBEARER (RFC 7628) with an OAuth2 access token.
    Oauthbearer,
}

impl AuthMethod {
    pub fn is_oauth(self) -> bool {
        self != AuthMethod::Password
    }

    /// The SASL mechanism name.
    pub fn mechanism(self) -> &'static str {
        match self {
            AuthMethod::Password => "PLAIN",
            AuthMethod::Xoauth2 => "XOAUTH2",
            AuthMethod::Oauthbearer => "OAUTHBEARER",
        }
    }
}

/// An OAuth2 client holding a refresh token: access tokens are obtained
/// (and renewed before they expire) from `token_url`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// The provider's token endpoint, e.g. https://oauth2.googleapis.com/token.
    pub token_url: String,
    pub client_id: String,
    /// Public clients (e.g. Thunderbird-style registrations) have none.
    pub client_secret_file: Option<PathBuf>,
    pub client_secret_env: Option<String>,
    pub client_secret_credential: Option<String>,
    pub refresh_token_file: Option<PathBuf>,
    pub refresh_token_env: Option<String>,
    pub refresh_token_credential: Option<String>,
    /// Extra trusted root (PEM) for the token endpoint.
    pub ca_file: Option<PathBuf>,
    /// Resolved at load time from `client_secret_*`.
    #[serde(skip)]
    pub client_secret: Option<Secret>,
    /// Resolved at load time from `refresh_token_*`.
    #[serde(skip)]
    pub refresh_token: Option<Secret>,
}

impl OAuthConfig {
    pub(super) fn client_secret_source(&self) -> PasswordSource<'_> {
        PasswordSource {
            prefix: "client_secret",
            file: self.client_secret_file.as_deref(),
            env: self.client_secret_env.as_deref(),
            credential: self.client_secret_credential.as_deref(),
        }
    }

    pub(super) fn refresh_token_source(&self) -> PasswordSource<'_> {
        PasswordSource {
            prefix: "refresh_token",
            file: self.refresh_token_file.as_deref(),
            env: self.refresh_token_env.as_deref(),
            credential: self.refresh_token_credential.as_deref(),
        }
    }

    pub(super) fn paths_mut(&mut self) -> impl Iterator<Item = &mut PathBuf> {
        [
            self.client_secret_file.as_mut(),
            self.refresh_token_file.as_mut(),
            self.ca_file.as_mut(),
        ]
        .into_iter()
        .flatten()
    }
}
