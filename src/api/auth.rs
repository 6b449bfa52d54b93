//! Who is asking: editors' bearer tokens for the API, session cookies for
//! the web page. Both go through the throttle.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;

use super::Api;
use super::error::ApiError;
use super::throttle;
use crate::config::Cidr;
use crate::workflow::Actor;

/// An authenticated editor (API: `Authorization: Bearer sp_…`).
pub struct Editor(pub Actor);

/// Who is asking: the connecting address, or, when that is a trusted
/// reverse proxy, the nearest address in `X-Forwarded-For` that is not one
/// (the ones further left could be written by the client itself).
pub fn client_ip(api: &Api, parts: &Parts) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
    forwarded_client(&api.settings.trusted_proxies, peer, &parts.headers)
}

pub fn forwarded_client(trusted: &[Cidr], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            // Garbage from the client's side of the chain: stop at the last
            // address a trusted proxy vouched for.
            Err(_) => break,
        }
    }
    client
}

/// Checks a token on behalf of `ip`, applying the throttle to a token
/// that fails (no token at all is simply not logged in, and counts for
/// nobody). While someone's failures have locked a key out, the right
/// token still gets in, after a short delay; wrong ones are refused.
pub async fn authenticate(api: &Api, ip: IpAddr, token: &str) -> Result<Actor, ApiError> {
    if token.trim().is_empty() {
        return Err(ApiError::unauthorized());
    }
    let key = (ip, crate::auth::parse_token(token).map(|(id, _)| id));
    let locked = api.throttle.check(key, Instant::now()).err();
    if locked.is_some() {
        tokio::time::sleep(throttle::LOCKED_DELAY).await;
    }
    match (api.store.authenticate(token, Utc::now()).await?, locked) {
        (Some(actor), None) => {
            api.throttle.succeeded(key);
            Ok(actor)
        }
        // The lockout stays for whoever caused it.
        (Some(actor), Some(_)) => Ok(actor),
        (None, Some(retry)) => {
            tracing::warn!(%ip, "editor authentication failed while locked out");
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_failures",
                format!(
                    "too many failed attempts with this editor's token from this address: try again in {} s",
                    retry.as_secs().max(1)
                ),
            ))
        }
        (None, None) => {
            let delay = api.throttle.failed(key, Instant::now());
            tracing::warn!(%ip, "editor authentication failed");
            tokio::time::sleep(delay).await;
            Err(ApiError::unauthorized())
        }
    }
}

/// The client's address as `client_ip` reads it, for handlers.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<Api> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(api, parts)))
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
        authenticate(api, client_ip(api, parts), token)
            .await
            .map(Editor)
    }
}
