//! The editors' HTTP side: the JSON API under `/api/v1` and the web page,
//! served together on `[api] listen`. Every response carries a strict
//! Content-Security-Policy; no CORS headers are sent, so browsers keep
//! other origins out.

mod auth;
mod downloads;
mod error;
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

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

#[derive(Clone)]
pub struct Api {
    store: Store,
    settings: Arc<Settings>,
    throttle: Arc<throttle::Throttle>,
}

struct Settings {
    lease: Duration,
    session_ttl: Duration,
    secure_cookies: bool,
}

impl Api {
    pub fn new(store: Store, config: &Config) -> Api {
        let api = config.api.as_ref();
        Api {
            store,
            settings: Arc::new(Settings {
                lease: config.general.claim_lease,
                session_ttl: api.map_or(Duration::from_secs(12 * 3600), |a| a.session_ttl),
                secure_cookies: api.is_some_and(|a| a.secure_cookies()),
            }),
            throttle: Arc::default(),
        }
    }
}

pub fn router(api: Api) -> Router {
    Router::new()
        .merge(v1::routes())
        .merge(web::routes())
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
