//! The editors' HTTP side: the JSON API under `/api/v1` and the web page,
//! served together on `[api] listen`. Every response carries a strict
//! Content-Security-Policy; no CORS headers are sent, so browsers keep
//! other origins out.

mod auth;
mod downloads;
mod error;
mod listing;
mod live;
mod throttle;
mod v1;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tokio::sync::watch;

pub use v1::OPENAPI;

use crate::config::Config;
use crate::store::Store;

/// Scripts from this origin only (the live-update script), and its event
/// stream; nothing inline, nothing from elsewhere.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Clone)]
pub struct Api {
    store: Store,
    settings: Arc<Settings>,
    throttle: Arc<throttle::Throttle>,
    live: Arc<live::Live>,
}

struct Settings {
    lease: Duration,
    session_ttl: Duration,
    secure_cookies: bool,
    /// The processing period: drafts without a decision after it are overdue.
    response_within: Duration,
    /// Whose `X-Forwarded-For` names the client (`api.trusted_proxies`).
    trusted_proxies: Vec<crate::config::Cidr>,
    /// Letters to contributors, when `[ack]` and `[smtp]` are configured:
    /// the templates editors start from.
    letters: Option<Letters>,
}

struct Letters {
    templates: crate::ack::template::Templates,
    sender: crate::ack::compose::Sender,
}

impl Api {
    pub fn new(store: Store, config: &Config) -> Api {
        let api = config.api.as_ref();
        let letters = match (&config.ack, &config.smtp) {
            (Some(ack), Some(smtp)) if ack.enabled => {
                // The daemon refused to start on broken templates already.
                match crate::ack::template::Templates::load(&ack.templates) {
                    Ok(templates) => Some(Letters {
                        templates,
                        sender: crate::ack::compose::Sender::from_config(config, smtp, ack),
                    }),
                    Err(error) => {
                        tracing::error!(%error, "letters are off on the editors' page");
                        None
                    }
                }
            }
            _ => None,
        };
        Api {
            store,
            settings: Arc::new(Settings {
                lease: config.general.claim_lease,
                session_ttl: api.map_or(Duration::from_secs(12 * 3600), |a| a.session_ttl),
                secure_cookies: api.is_some_and(|a| a.secure_cookies()),
                response_within: config.general.response_within,
                trusted_proxies: api.map_or_else(Vec::new, |a| a.trusted_proxies.clone()),
                letters,
            }),
            throttle: Arc::default(),
            live: Arc::default(),
        }
    }

    /// The end of the processing period for drafts received now.
    fn overdue_before(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
            - chrono::Duration::from_std(self.settings.response_within).unwrap_or_default()
    }

    /// The letter a decision sends: enabled when letters are configured.
    fn letter_plan(
        &self,
        no_letter: bool,
        subject: Option<String>,
        body: Option<String>,
        note: Option<String>,
    ) -> crate::store::LetterPlan {
        let given = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
        crate::store::LetterPlan {
            enabled: self.settings.letters.is_some(),
            no_letter,
            subject: given(subject),
            body: given(body),
            note: given(note),
        }
    }
}

pub fn router(api: Api) -> Router {
    Router::new()
        .merge(v1::routes())
        .merge(web::routes())
        .route("/live", axum::routing::get(live::stream))
        .fallback(|| async { error::ApiError::not_found("such page or endpoint") })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(api)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Binds before anything starts, so a wrong address fails the start naming
/// its config key (`api.listen`, `ops.listen`).
pub async fn bind(listen: SocketAddr, key: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} ({key}): {e}"))
}

/// Serves `router` until `shutdown` turns true; client addresses are passed
/// to handlers (the throttle counts failures per address).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(error) = axum::serve(listener, service)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(%error, "HTTP listener failed");
    }
}
