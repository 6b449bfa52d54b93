//! `/api/v1`: the draft queue as JSON for editors' tools. The OpenAPI
//! document (`openapi.json`, served at `/api/v1/openapi.json`) describes
//! exactly these routes; a test keeps the two in step.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::Api;
use super::auth::Editor;
use super::downloads::{self, find_draft, live_draft};
use super::error::ApiError;
use super::listing;
use crate::desk::HoldChange;
use crate::draft::DraftStatus;
use crate::store::{DraftKey, MailKind};

pub const OPENAPI: &str = include_str!("openapi.json");

const MAX_CLAIM: u32 = 100;

pub fn routes() -> Router<Api> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
        .route("/api/v1/drafts", get(list))
        .route("/api/v1/drafts/{key}", get(detail).patch(edit))
        .route("/api/v1/drafts/{key}/events", get(events))
        .route("/api/v1/drafts/{key}/raw", get(raw))
        .route("/api/v1/drafts/{key}/attachments/{index}", get(attachment))
        .route("/api/v1/drafts/{key}/export", get(export))
        .route("/api/v1/drafts/{key}/transition", post(transition))
        .route("/api/v1/drafts/{key}/release", post(release))
        .route("/api/v1/drafts/{key}/hold", post(hold))
        .route(
            "/api/v1/drafts/{key}/comments",
            get(comments).post(add_comment),
        )
        .route("/api/v1/drafts/{key}/mail-seen", post(mail_seen))
        .route("/api/v1/drafts/{key}/thread/{number}/raw", get(thread_raw))
        .route(
            "/api/v1/drafts/{key}/thread/{number}/attachments/{index}",
            get(thread_file),
        )
        .route("/api/v1/queue/claim", post(claim))
        .route("/api/v1/statistics", get(statistics))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn me(Editor(actor): Editor) -> Json<crate::workflow::Actor> {
    Json(actor)
}

/// A page of a view, with its total and the counts per status (people's
/// and automated mail apart) under the view's other conditions.
async fn list(
    State(api): State<Api>,
    Editor(me): Editor,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = listing::request_from(&query, &api, &me.name)?;
    let listed = listing::list(&api, &request).await?;
    let counts: serde_json::Map<String, serde_json::Value> = DraftStatus::ALL
        .iter()
        .map(|status| {
            let of = |mail| listed.counts.of(*status, Some(mail));
            (
                status.as_str().to_string(),
                json!({ "people": of(MailKind::People), "automated": of(MailKind::Automated) }),
            )
        })
        .collect();
    Ok(Json(json!({
        "drafts": listed.drafts,
        "total": listed.total,
        "page": request.page,
        "pages": listed.pages,
        "limit": request.limit,
        "counts": counts,
        "next_cursor": listed.next_cursor,
    })))
}

async fn detail(
    State(api): State<Api>,
    _: Editor,
    Path(key): Path<DraftKey>,
) -> Result<Json<crate::draft::DraftView>, ApiError> {
    // A purged draft still answers: its reference and status are all it has.
    let draft = find_draft(&api, &key).await?;
    Ok(Json(draft))
}

async fn events(
    State(api): State<Api>,
    _: Editor,
    Path(key): Path<DraftKey>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let draft = find_draft(&api, &key).await?;
    let events = api.store.events(draft.id).await?;
    Ok(Json(json!({ "events": events })))
}

async fn raw(
    State(api): State<Api>,
    _: Editor,
    Path(key): Path<DraftKey>,
) -> Result<Response, ApiError> {
    downloads::raw(&api, &key).await
}

async fn attachment(
    State(api): State<Api>,
    _: Editor,
    Path((key, which)): Path<(DraftKey, String)>,
) -> Result<Response, ApiError> {
    downloads::attachment(&api, &key, &which).await
}

async fn export(
    State(api): State<Api>,
    _: Editor,
    Path(key): Path<DraftKey>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let format = query
        .get("format")
        .map_or("md", String::as_str)
        .parse()
        .map_err(|e| ApiError::bad_request(format!("`format`: {e}")))?;
    downloads::export(&api, &key, format).await
}

/// A JSON body, with our error format when it does not parse. An empty
/// body reads as `{}`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionBody {
    to: DraftStatus,
    note: Option<String>,
    /// The letter to the contributor, as the editor wrote it; without
    /// one, the held letter of the decision or the template's.
    letter: Option<LetterBody>,
    /// The template's `{note}`.
    note_to_author: Option<String>,
    /// Decide without writing to the contributor (recorded in the history).
    #[serde(default)]
    no_letter: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LetterBody {
    subject: Option<String>,
    body: Option<String>,
}

async fn transition(
    State(api): State<Api>,
    Editor(actor): Editor,
    Path(key): Path<DraftKey>,
    bytes: Bytes,
) -> Result<Json<crate::draft::DraftView>, ApiError> {
    let TransitionBody {
        to,
        note,
        letter,
        note_to_author,
        no_letter,
    } = body(&bytes)?;
    let (subject, text) = letter.map_or((None, None), |l| (l.subject, l.body));
    let plan = api.letter_plan(no_letter, subject, text, note_to_author);
    let lease = api.settings.lease;
    let draft = api
        .store
        .transition(&key, to, &actor, note.as_deref(), &plan, lease, Utc::now())
        .await?;
    Ok(Json(draft))
}

/// The editor has read the contributor's new mail.
async fn mail_seen(
    State(api): State<Api>,
    _: Editor,
    Path(key): Path<DraftKey>,
) -> Result<Json<crate::draft::DraftView>, ApiError> {
    let draft = live_draft(&api, &key).await?;
    api.store.mark_mail_seen(draft.id).await?;
    Ok(Json(find_draft(&api, &key).await?))
}

async fn thread_raw(
    State(api): State<Api>,
    _: Editor,
    Path((key, number)): Path<(DraftKey, u32)>,
) -> Result<Response, ApiError> {
    downloads::follow_up_raw(&api, &key, number).await
}

async fn thread_file(
    State(api): State<Api>,
    _: Editor,
    Path((key, number, which)): Path<(DraftKey, u32, String)>,
) -> Result<Response, ApiError> {
    downloads::follow_up_attachment(&api, &key, number, &which).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    note: Option<String>,
}

/// Gives a claimed draft back to the queue, or a quarantined one to `new`.
async fn release(
    State(api): State<Api>,
    Editor(actor): Editor,
    Path(key): Path<DraftKey>,
    bytes: Bytes,
) -> Result<Json<crate::draft::DraftView>, ApiError> {
    let ReleaseBody { note } = body(&bytes)?;
    move_draft(&api, &actor, &key, DraftStatus::New, note).await
}

/// The desk's figures for the last twelve weeks.
async fn statistics(
    State(api): State<Api>,
    _: Editor,
) -> Result<Json<crate::store::statistics::Statistics>, ApiError> {
    let stats = api
        .store
        .statistics(Utc::now(), api.overdue_before())
        .await?;
    Ok(Json(stats))
}

/// The editors' discussion: the `commented` events, oldest first.
async fn comments(
    State(api): State<Api>,
    _: Editor,
    Path(key): Path<DraftKey>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let draft = find_draft(&api, &key).await?;
    let comments: Vec<_> = api
        .store
        .events(draft.id)
        .await?
        .into_iter()
        .filter(|e| e.kind == "commented")
        .collect();
    Ok(Json(json!({ "comments": comments })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    text: String,
}

async fn add_comment(
    State(api): State<Api>,
    Editor(actor): Editor,
    Path(key): Path<DraftKey>,
    bytes: Bytes,
) -> Result<Json<crate::draft::EventView>, ApiError> {
    let CommentBody { text } = body(&bytes)?;
    let comment = api.store.comment(&key, &actor, &text, Utc::now()).await?;
    Ok(Json(comment))
}

#[derive(Deserialize)]
struct HoldBody {
    #[serde(flatten)]
    change: HoldChange,
    note: Option<String>,
}

/// Assign (`{"action": "assign", "to": "zhao"}`), renew or take over.
async fn hold(
    State(api): State<Api>,
    Editor(actor): Editor,
    Path(key): Path<DraftKey>,
    bytes: Bytes,
) -> Result<Json<crate::draft::DraftView>, ApiError> {
    let HoldBody { change, note } = body(&bytes)?;
    let lease = api.settings.lease;
    let draft = api
        .store
        .change_hold(&key, &change, &actor, note.as_deref(), lease, Utc::now())
        .await?;
    Ok(Json(draft))
}

async fn move_draft(
    api: &Api,
    actor: &crate::workflow::Actor,
    key: &DraftKey,
    to: DraftStatus,
    note: Option<String>,
) -> Result<Json<crate::draft::DraftView>, ApiError> {
    let lease = api.settings.lease;
    let plan = api.letter_plan(false, None, None, None);
    let draft = api
        .store
        .transition(key, to, actor, note.as_deref(), &plan, lease, Utc::now())
        .await?;
    Ok(Json(draft))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    title: Option<String>,
    notes: Option<String>,
}

async fn edit(
    State(api): State<Api>,
    Editor(actor): Editor,
    Path(key): Path<DraftKey>,
    bytes: Bytes,
) -> Result<Json<crate::draft::DraftView>, ApiError> {
    let EditBody { title, notes } = body(&bytes)?;
    live_draft(&api, &key).await?;
    let draft = api
        .store
        .edit(&key, &actor, title.as_deref(), notes.as_deref(), Utc::now())
        .await?;
    Ok(Json(draft))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    #[serde(default = "one", deserialize_with = "whole_number")]
    limit: u32,
}

fn one() -> u32 {
    1
}

/// JSON Schema's `integer` is any number without a fraction: `100.0` is 100.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    number
        .as_u64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
                .map(|f| f as u64)
        })
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, not {number}")))
}

async fn claim(
    State(api): State<Api>,
    Editor(actor): Editor,
    bytes: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let ClaimBody { limit } = body(&bytes)?;
    if !(1..=MAX_CLAIM).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "`limit`: expected 1 to {MAX_CLAIM}, not {limit}"
        )));
    }
    let drafts = api
        .store
        .claim(&actor, limit, api.settings.lease, Utc::now())
        .await?;
    Ok(Json(json!({ "drafts": drafts })))
}
