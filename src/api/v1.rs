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
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::Api;
use super::auth::Editor;
use super::downloads::{self, find_draft, live_draft};
use super::error::ApiError;
use crate::draft::DraftStatus;
use crate::store::{DraftCursor, DraftFilter, DraftKey};

pub const OPENAPI: &str = include_str!("openapi.json");

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;
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
        .route("/api/v1/drafts/{key}/mail-seen", post(mail_seen))
        .route("/api/v1/drafts/{key}/thread/{number}/raw", get(thread_raw))
        .route(
            "/api/v1/drafts/{key}/thread/{number}/attachments/{index}",
            get(thread_file),
        )
        .route("/api/v1/queue/claim", post(claim))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn me(Editor(actor): Editor) -> Json<crate::workflow::Actor> {
    Json(actor)
}

/// Filters from query parameters, shared with the web page's queue.
pub fn filter_from(query: &HashMap<String, String>, api: &Api) -> Result<DraftFilter, ApiError> {
    let text = |key: &str| {
        query
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let parse_time = |key: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(value) = text(key) else {
            return Ok(None);
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(&value) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        let day = NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request(format!(
                "`{key}`: expected a date (2026-11-28) or an RFC 3339 time, not `{value}`"
            ))
        })?;
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        Ok(api
            .store
            .time_zone()
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc)))
    };
    let status = text("status")
        .map(|s| s.parse::<DraftStatus>())
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("`status`: {e}")))?;
    let limit = match text("limit") {
        Some(n) => n
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("`limit`: expected 1 to {MAX_PAGE}, not `{n}`"))
            })?,
        None => DEFAULT_PAGE,
    };
    let after = text("cursor")
        .map(|c| c.parse::<DraftCursor>())
        .transpose()
        .map_err(ApiError::bad_request)?;
    let flag = |key: &str| -> Result<bool, ApiError> {
        match text(key).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "`{key}`: expected true or false, not `{other}`"
            ))),
        }
    };
    Ok(DraftFilter {
        unseen_mail: flag("unseen_mail")?,
        overdue_before: flag("overdue")?.then(|| api.overdue_before()),
        status,
        mailbox: text("mailbox"),
        sender: text("sender"),
        since: parse_time("since")?,
        until: parse_time("until")?,
        text: text("q"),
        after,
        limit: Some(limit),
    })
}

async fn list(
    State(api): State<Api>,
    _: Editor,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let filter = filter_from(&query, &api)?;
    let drafts = api.store.list_drafts(&filter).await?;
    let next = match drafts.last() {
        Some(last) if Some(drafts.len() as u32) == filter.limit => {
            Some(DraftCursor::after(last).to_string())
        }
        _ => None,
    };
    Ok(Json(json!({ "drafts": drafts, "next_cursor": next })))
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
