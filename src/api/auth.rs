//! Who is asking: editors' bearer tokens for the API, session cookies for
//! the web page. Both go through the throttle.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use chrono::Utc;

use super::Api;
use super::error::ApiError;
use crate::workflow::Actor;

/// An authenticated editor (API: `Authorization: Bearer sp_…`).
pub struct Editor(pub Actor);

pub fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip())
}

/// Checks a token on behalf of `ip`, applying the throttle to a token
/// that fails (no token at all is simply not logged in, and counts for
/// nobody).
pub async fn authenticate(api: &Api, ip: IpAddr, token: &str) -> Result<Actor, ApiError> {
    if token.trim().is_empty() {
        return Err(ApiError::unauthorized());
    }
    let key = (ip, crate::auth::parse_token(token).map(|(id, _)| id));
    if let Err(retry) = api.throttle.check(key, Instant::now()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failures",
            format!(
                "too many failed attempts with this editor's token from this address: try again in {} s",
                retry.as_secs().max(1)
            ),
        ));
    }
    match api.store.authenticate(token, Utc::now()).await? {
        Some(actor) => {
            api.throttle.succeeded(key);
            Ok(actor)
        }
        None => {
            let delay = api.throttle.failed(key, Instant::now());
            tracing::warn!(%ip, "editor authentication failed");
            tokio::time::sleep(delay).await;
            Err(ApiError::unauthorized())
        }
    }
}

impl FromRequestParts<Api> for Editor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        authenticate(api, client_ip(parts), token).await.map(Editor)
    }
}
