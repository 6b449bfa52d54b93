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
    /// The processing period: drafts older without a decision are overdue.
    response_within: std::time::Duration,
}

pub fn router(health: Arc<Health>, store: Store, response_within: std::time::Duration) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(Ops {
            health,
            store,
            response_within,
        })
}

async fn metrics(State(ops): State<Ops>) -> impl IntoResponse {
    let by_status = ops.store.count_by_status().await.unwrap_or_default();
    let backlog = ops.store.ack_backlog().await.unwrap_or(0);
    let period = chrono::Duration::from_std(ops.response_within).unwrap_or_default();
    let overdue = ops
        .store
        .count_overdue(chrono::Utc::now() - period)
        .await
        .unwrap_or(0);
    let mut text = ops.health.metrics(&by_status, backlog);
    text.push_str(&format!(
        "# HELP slushpile_drafts_overdue Drafts with no decision by the end of the processing period (general.response_within).\n\
         # TYPE slushpile_drafts_overdue gauge\nslushpile_drafts_overdue {overdue}\n"
    ));
    let now = chrono::Utc::now();
    if let Ok(stats) = ops.store.statistics(now, now - period).await {
        text.push_str(&crate::health::desk_metrics(&stats));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
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
