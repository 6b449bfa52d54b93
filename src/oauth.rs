//! OAuth2 access tokens for SASL XOAUTH2 / OAUTHBEARER: the refresh-token
//! grant against the provider's token endpoint, and a cache so that every
//! connection (IMAP, its helper, SMTP) reuses a token until shortly before
//! it expires. Tokens and secrets never reach a log or an error message.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::{AuthMethod, OAuthConfig, Secret};

/// Renew this long before the provider's expiry: a token must outlive the
/// login it is sent in.
const RENEW_BEFORE: Duration = Duration::from_secs(120);
/// When the provider does not say (`expires_in` missing).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, thiserror::Error)]
#[error("OAuth2 token refresh at {url} failed: {reason}")]
pub struct OAuthError {
    pub url: String,
    /// The provider's `error` and `error_description`, or what went wrong
    /// on the way there.
    pub reason: String,
    transient: bool,
}

impl OAuthError {
    /// A network failure or a 5xx may pass; `invalid_grant` (revoked or
    /// expired refresh token) or `invalid_client` will not.
    pub fn is_transient(&self) -> bool {
        self.transient
    }
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    renew_at: Instant,
}

/// Keyed by a hash of the endpoint, client and refresh token: the same
/// account shares one token across connections and reloads.
static CACHE: LazyLock<Mutex<HashMap<[u8; 32], Cached>>> = LazyLock::new(Default::default);

fn cache_key(oauth: &OAuthConfig) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [
        oauth.token_url.as_str(),
        oauth.client_id.as_str(),
        oauth.refresh_token.as_ref().map_or("", |t| t.expose()),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize().into()
}

/// A valid access token: the cached one, or a new one from the endpoint.
pub async fn access_token(oauth: &OAuthConfig) -> Result<Secret, OAuthError> {
    let key = cache_key(oauth);
    let cached = lock().get(&key).cloned();
    if let Some(cached) = cached
        && Instant::now() < cached.renew_at
    {
        return Ok(cached.token);
    }
    let (token, lifetime) = refresh(oauth).await?;
    let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_BEFORE);
    lock().insert(
        key,
        Cached {
            token: token.clone(),
            renew_at,
        },
    );
    Ok(token)
}

/// Drops a token the server refused, so that the next login asks for a new one.
pub fn forget(oauth: &OAuthConfig) {
    lock().remove(&cache_key(oauth));
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<[u8; 32], Cached>> {
    CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    error_description: Option<String>,
}

async fn refresh(oauth: &OAuthConfig) -> Result<(Secret, Duration), OAuthError> {
    let url = oauth.token_url.clone();
    let fail = |reason: String, transient: bool| OAuthError {
        url: url.clone(),
        reason,
        transient,
    };
    let client = http_client(oauth).map_err(|reason| fail(reason, false))?;
    let refresh_token = oauth.refresh_token.as_ref().map_or("", |t| t.expose());
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", oauth.client_id.as_str()),
    ];
    if let Some(secret) = &oauth.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = client
        .post(&oauth.token_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        // reqwest's message names the URL, never the form.
        .map_err(|e| {
            fail(
                format!("cannot reach the endpoint: {}", with_causes(&e)),
                true,
            )
        })?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| fail(format!("reading the answer: {}", with_causes(&e)), true))?;
    if !status.is_success() {
        let reason = match serde_json::from_str::<ErrorResponse>(&text) {
            Ok(e) => match e.error_description {
                Some(description) => format!("{}: {description}", e.error),
                None => e.error,
            },
            Err(_) => format!("HTTP {status}"),
        };
        let transient = status.is_server_error() || status.as_u16() == 429;
        return Err(fail(reason, transient));
    }
    let token: TokenResponse = serde_json::from_str(&text)
        .map_err(|e| fail(format!("the answer is not a token response: {e}"), true))?;
    let lifetime = token
        .expires_in
        .map_or(DEFAULT_LIFETIME, Duration::from_secs);
    Ok((Secret::new(token.access_token), lifetime))
}

/// reqwest's own message hides why ("error sending request"): add the causes.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn http_client(oauth: &OAuthConfig) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .https_only(!oauth.token_url.starts_with("http://"))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = &oauth.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read oauth.ca_file {}: {e}", path.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| format!("oauth.ca_file {}: {e}", path.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}

/// The SASL initial response for `method` (RFC 7628 for OAUTHBEARER;
/// Google's and Microsoft's documented format for XOAUTH2).
pub fn initial_response(
    method: AuthMethod,
    user: &str,
    token: &str,
    host: &str,
    port: u16,
) -> String {
    match method {
        AuthMethod::Oauthbearer => {
            format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
        }
        AuthMethod::Xoauth2 | AuthMethod::Password => {
            format!("user={user}\x01auth=Bearer {token}\x01\x01")
        }
    }
}

/// What the client answers to the server's error challenge, which ends
/// the exchange with a failure: an empty line for XOAUTH2, `%x01` for
/// OAUTHBEARER (RFC 7628 §3.2.3).
pub fn error_acknowledgement(method: AuthMethod) -> &'static [u8] {
    match method {
        AuthMethod::Oauthbearer => b"\x01",
        AuthMethod::Xoauth2 | AuthMethod::Password => b"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_responses_follow_each_mechanism() {
        assert_eq!(
            initial_response(
                AuthMethod::Xoauth2,
                "editor@example.org",
                "ya29.t",
                "imap.example.org",
                993
            ),
            "user=editor@example.org\x01auth=Bearer ya29.t\x01\x01"
        );
        assert_eq!(
            initial_response(
                AuthMethod::Oauthbearer,
                "editor@example.org",
                "t",
                "imap.example.org",
                993
            ),
            "n,a=editor@example.org,\x01host=imap.example.org\x01port=993\x01auth=Bearer t\x01\x01"
        );
        assert_eq!(error_acknowledgement(AuthMethod::Oauthbearer), b"\x01");
    }

    #[test]
    fn the_cache_is_per_account_and_a_refused_token_is_forgotten() {
        let account = |refresh: &str| OAuthConfig {
            token_url: "https://oauth2.example.org/token".into(),
            client_id: "client".into(),
            client_secret_file: None,
            client_secret_env: None,
            client_secret_credential: None,
            refresh_token_file: None,
            refresh_token_env: None,
            refresh_token_credential: None,
            ca_file: None,
            client_secret: None,
            refresh_token: Some(Secret::new(refresh)),
        };
        let (a, b) = (account("refresh-a"), account("refresh-b"));
        assert_ne!(cache_key(&a), cache_key(&b));
        lock().insert(
            cache_key(&a),
            Cached {
                token: Secret::new("cached"),
                renew_at: Instant::now() + Duration::from_secs(60),
            },
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // No request is made while the cached token is fresh.
        let token = runtime.block_on(access_token(&a)).unwrap();
        assert_eq!(token.expose(), "cached");
        forget(&a);
        assert!(!lock().contains_key(&cache_key(&a)));
    }
}
