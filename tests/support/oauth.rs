//! A private OAuth2 provider on loopback: the token endpoint slushpile
//! refreshes at (RFC 6749 refresh-token grant), and the introspection
//! endpoint (RFC 7662) Dovecot's oauth2 passdb validates bearer tokens at.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "slushpile-test";
pub const CLIENT_SECRET: &str = "client-secret-do-not-log";

#[derive(Default)]
struct Provider {
    /// Refresh token → the user it was issued to.
    accounts: HashMap<String, String>,
    /// Access token → user.
    issued: HashMap<String, String>,
    refreshes: usize,
    lifetime_s: u64,
}

pub struct TokenServer {
    port: u16,
    provider: Arc<Mutex<Provider>>,
}

type Shared = Arc<Mutex<Provider>>;

impl TokenServer {
    pub async fn start() -> TokenServer {
        let provider = Arc::new(Mutex::new(Provider {
            lifetime_s: 3600,
            ..Provider::default()
        }));
        let app = Router::new()
            .route("/token", post(token))
            .route("/introspect", post(introspect))
            .with_state(provider.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        TokenServer { port, provider }
    }

    /// A refresh token that the provider honours, for `user`.
    pub fn add_account(&self, refresh_token: &str, user: &str) {
        self.lock()
            .accounts
            .insert(refresh_token.into(), user.into());
    }

    pub fn token_url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    pub fn introspection_url(&self) -> String {
        format!("http://127.0.0.1:{}/introspect", self.port)
    }

    pub fn refreshes(&self) -> usize {
        self.lock().refreshes
    }

    /// Every access token issued so far, to prove none reaches a log.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Provider> {
        self.provider.lock().unwrap()
    }
}

async fn token(
    State(provider): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let mut provider = provider.lock().unwrap();
    provider.refreshes += 1;
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("grant_type") != "refresh_token" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        );
    }
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"error": "invalid_client", "error_description": "The OAuth client was not found."}),
            ),
        );
    }
    let Some(user) = provider.accounts.get(field("refresh_token")).cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
            ),
        );
    };
    let access = format!("ya29.test-{}-{}", provider.refreshes, fastrand::u64(..));
    provider.issued.insert(access.clone(), user);
    let lifetime = provider.lifetime_s;
    (
        StatusCode::OK,
        Json(json!({"access_token": access, "token_type": "Bearer", "expires_in": lifetime})),
    )
}

async fn introspect(
    State(provider): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Json<Value> {
    let provider = provider.lock().unwrap();
    match form.get("token").and_then(|t| provider.issued.get(t)) {
        Some(user) => Json(json!({"active": true, "username": user})),
        None => Json(json!({"active": false})),
    }
}
