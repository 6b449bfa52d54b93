//! The ops endpoint: Prometheus `/metrics`, `/healthz` (the process
//! answers) and `/readyz` (the store answers and every source synced
//! successfully, none stalled).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::health::Health;
use crate::store::Store;

#[derive(Clone)]
struct Ops {
    health: Arc<Health>,
    store: Store,
}

pub fn router(health: Arc<Health>, store: Store) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(Ops { health, store })
}

async fn metrics(State(ops): State<Ops>) -> impl IntoResponse {
    let by_status = ops.store.count_by_status().await.unwrap_or_default();
    let backlog = ops.store.ack_backlog().await.unwrap_or(0);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.health.metrics(&by_status, backlog),
    )
}

async fn readyz(State(ops): State<Ops>) -> impl IntoResponse {
    if let Err(error) = ops.store.count_drafts().await {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("store: {error}\n"));
    }
    match ops.health.readiness() {
        Ok(()) => (StatusCode::OK, "ready\n".to_string()),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}
