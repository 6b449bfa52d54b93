//! Live updates for the editors' pages. One watcher per server reads the
//! store's change marker (the newest history event: every change writes
//! one, whichever process or instance made it) twice a second, and each
//! open page's server-sent-event stream says `change` when it moves; the
//! page's script then fetches itself again and swaps the parts marked
//! `data-live`. Without JavaScript the pages work as before, by reload.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OnceCell, watch};

use super::Api;
use super::web::WebUser;
use crate::store::Store;

/// How often the watcher reads the marker: well inside the two seconds an
/// editor should wait to see new mail.
const POLL: Duration = Duration::from_millis(500);
/// Open streams at most; past it a page simply does not update live.
const MAX_STREAMS: usize = 200;

#[derive(Default)]
pub struct Live {
    marker: OnceCell<watch::Receiver<i64>>,
    streams: Arc<AtomicUsize>,
}

impl Live {
    /// The marker's receiver, the watcher started on first use.
    async fn subscribe(&self, store: &Store) -> watch::Receiver<i64> {
        self.marker
            .get_or_init(|| async {
                let first = store.change_marker().await.unwrap_or_default();
                let (tx, rx) = watch::channel(first);
                tokio::spawn(watch_store(store.clone(), tx));
                rx
            })
            .await
            .clone()
    }
}

async fn watch_store(store: Store, tx: watch::Sender<i64>) {
    let mut interval = tokio::time::interval(POLL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match store.change_marker().await {
            Ok(marker) => {
                tx.send_if_modified(|seen| std::mem::replace(seen, marker) != marker);
            }
            // Busy or unreachable: the pages wait for the next reading.
            Err(e) => tracing::debug!(error = %e, "live updates: store not read"),
        }
    }
}

/// Counts an open stream while it lives.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `GET /live`: `change` events for a logged-in editor's open page.
pub async fn stream(State(api): State<Api>, _: WebUser) -> Response {
    let live = &api.live;
    if live.streams.fetch_add(1, Ordering::Relaxed) >= MAX_STREAMS {
        live.streams.fetch_sub(1, Ordering::Relaxed);
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let open = Open(live.streams.clone());
    let mut marker = live.subscribe(&api.store).await;
    marker.mark_unchanged();
    let events = futures::stream::unfold((marker, open), |(mut marker, open)| async move {
        marker.changed().await.ok()?;
        let now = *marker.borrow_and_update();
        let event = Event::default().event("change").data(now.to_string());
        Some((Ok::<_, Infallible>(event), (marker, open)))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
