//! The pages' handlers (HTML in `render`; signing in and out in
//! `session`). Reads go through the same store calls as the API; every
//! change is a POST carrying the CSRF token, answered with a redirect (or a
//! page saying why it was refused).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::{Lang, Text, WebUser, actions, error_page, page, previews, queue, render};
use crate::api::Api;
use crate::api::error::ApiError;
use crate::api::{downloads, listing};
use crate::desk::HoldChange;
use crate::draft::DraftStatus;
use crate::export::escape;
use crate::store::{ChangeError, DraftKey};

type PageResult = Result<Response, Response>;

pub async fn queue(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Query(mut query): Query<HashMap<String, String>>,
) -> PageResult {
    let fail = |e: ApiError| error_page(lang, Some(&user), e);
    // The page opens on the work to do: people's mail awaiting a decision.
    for (key, default) in [("status", "open"), ("mail", "people")] {
        query.entry(key.into()).or_insert_with(|| default.into());
    }
    let request = listing::request_from(&query, &api, &user.session.actor.name).map_err(fail)?;
    let listed = listing::list(&api, &request).await.map_err(fail)?;
    let view = queue::QueueView {
        query: &query,
        request: &request,
        listed: &listed,
        overdue_before: api.overdue_before(),
        now: Utc::now(),
    };
    let body = format!(
        "<h1>{title}</h1>\
         <form method=\"post\" action=\"/queue/claim\" class=\"claim\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{count}<input name=\"limit\" type=\"number\" min=\"1\" max=\"100\" value=\"1\" size=\"4\"></label>\
         <button type=\"submit\" id=\"claim-next\">{claim}</button></form>{view}",
        title = lang.t(Text::Queue),
        csrf = escape(&user.session.csrf),
        count = lang.t(Text::Count),
        claim = lang.t(Text::ClaimNext),
        view = view.body(lang),
    );
    Ok(page(lang, lang.t(Text::Queue), Some(&user), &body).into_response())
}

pub async fn quarantine(State(api): State<Api>, user: WebUser, lang: Lang) -> PageResult {
    let filter = crate::store::DraftFilter {
        status: Some(DraftStatus::Quarantined),
        limit: Some(500),
        ..Default::default()
    };
    let drafts = api
        .store
        .list_drafts(&filter)
        .await
        .map_err(|e| error_page(lang, Some(&user), e.into()))?;
    let body = format!(
        "<h1>{}</h1>{}",
        lang.t(Text::Quarantine),
        render::draft_rows(lang, &drafts, true, api.overdue_before())
    );
    Ok(page(lang, lang.t(Text::Quarantine), Some(&user), &body).into_response())
}

pub async fn statistics(State(api): State<Api>, user: WebUser, lang: Lang) -> PageResult {
    let stats = api
        .store
        .statistics(Utc::now(), api.overdue_before())
        .await
        .map_err(|e| error_page(lang, Some(&user), e.into()))?;
    let body = super::statistics::body(lang, &stats);
    Ok(page(
        lang,
        lang.stats(super::i18n::StatsText::Title),
        Some(&user),
        &body,
    )
    .into_response())
}

#[derive(Deserialize)]
pub struct ClaimForm {
    csrf: String,
    limit: Option<u32>,
}

pub async fn claim(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Form(form): Form<ClaimForm>,
) -> PageResult {
    let fail = |e: ApiError| error_page(lang, Some(&user), e);
    user.check_csrf(&form.csrf).map_err(fail)?;
    let limit = form.limit.unwrap_or(1).clamp(1, 100);
    let claimed = api
        .store
        .claim(&user.session.actor, limit, api.settings.lease, Utc::now())
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(match claimed.as_slice() {
        [] => fail(ApiError::new(
            StatusCode::CONFLICT,
            "nothing_to_claim",
            lang.pick(
                "沒有可認領的稿件。",
                "没有可认领的稿件。",
                "There is nothing to claim.",
            ),
        )),
        [one] => Redirect::to(&format!("/drafts/{}", one.reference)).into_response(),
        _ => Redirect::to("/queue?status=claimed").into_response(),
    })
}

pub async fn draft(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Path(key): Path<DraftKey>,
) -> PageResult {
    let fail = |e: ApiError| error_page(lang, Some(&user), e);
    let draft = downloads::find_draft(&api, &key).await.map_err(fail)?;
    let events = api
        .store
        .events(draft.id)
        .await
        .map_err(|e| fail(e.into()))?;
    let html = api
        .store
        .body_html(draft.id)
        .await
        .map_err(|e| fail(e.into()))?;
    let colleagues = api
        .store
        .list_editors()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .filter(|e| e.revoked_at.is_none())
        .map(|e| e.name)
        .collect();
    let offer = actions::Offer {
        letters: previews::decision_letters(&api, &draft, &user.session.actor),
        colleagues,
        now: Utc::now(),
    };
    let page_body = render::draft_page(
        lang,
        &user,
        &draft,
        &events,
        html.as_deref(),
        &offer,
        api.overdue_before(),
    );
    // The editor has the contributor's mail in front of them now.
    if draft.unseen_mail {
        api.store
            .mark_mail_seen(draft.id)
            .await
            .map_err(|e| fail(e.into()))?;
    }
    Ok(page(lang, &draft.title, Some(&user), &page_body).into_response())
}

#[derive(Deserialize)]
pub struct ActForm {
    csrf: String,
    action: String,
    to: Option<String>,
    note: Option<String>,
    title: Option<String>,
    notes: Option<String>,
    letter_subject: Option<String>,
    letter_body: Option<String>,
    no_letter: Option<String>,
    confirm: Option<String>,
    /// `hold`: assign, renew or take_over.
    change: Option<String>,
    assignee: Option<String>,
    /// `comment`: its text.
    text: Option<String>,
}

pub async fn act(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Path(key): Path<DraftKey>,
    Form(form): Form<ActForm>,
) -> PageResult {
    let fail = |e: ApiError| error_page(lang, Some(&user), e);
    user.check_csrf(&form.csrf).map_err(fail)?;
    let actor = &user.session.actor;
    let now = Utc::now();
    let changed = match form.action.as_str() {
        "transition" => {
            let to: DraftStatus = form
                .to
                .as_deref()
                .unwrap_or("")
                .parse()
                .map_err(|e: String| fail(ApiError::bad_request(e)))?;
            let note = form.note.as_deref().filter(|n| !n.trim().is_empty());
            // Rejecting asks for a reason and a second click; a browser
            // enforces both, and so does this.
            let rejecting = to == DraftStatus::Rejected;
            if rejecting && (form.confirm.is_none() || note.is_none()) {
                return Err(fail(ApiError::bad_request(lang.t(Text::ConfirmReject))));
            }
            // The reason goes into the decline letter's template.
            let plan = api.letter_plan(
                form.no_letter.is_some(),
                form.letter_subject.clone(),
                form.letter_body.clone(),
                rejecting.then(|| note.unwrap_or_default().to_string()),
            );
            api.store
                .transition(&key, to, actor, note, &plan, api.settings.lease, now)
                .await
        }
        "edit" => {
            api.store
                .edit(
                    &key,
                    actor,
                    form.title.as_deref(),
                    form.notes.as_deref(),
                    now,
                )
                .await
        }
        "comment" => {
            let text = form.text.as_deref().unwrap_or("");
            if let Err(refused) = api.store.comment(&key, actor, text, now).await {
                return Err(refusal_page(lang, &user, refused));
            }
            return Ok(Redirect::to(&format!("/drafts/{key}#discussion")).into_response());
        }
        "hold" => {
            let change = match form.change.as_deref() {
                Some("assign") => HoldChange::Assign {
                    to: form.assignee.clone().unwrap_or_default(),
                },
                Some("renew") => HoldChange::Renew,
                Some("take_over") => HoldChange::TakeOver,
                _ => return Err(fail(ApiError::bad_request(lang.t(Text::StaleForm)))),
            };
            let why = form.note.as_deref();
            api.store
                .change_hold(&key, &change, actor, why, api.settings.lease, now)
                .await
        }
        other => {
            return Err(fail(ApiError::bad_request(format!(
                "unknown action `{other}`"
            ))));
        }
    };
    let draft = changed.map_err(|e| refusal_page(lang, &user, e))?;
    Ok(Redirect::to(&format!("/drafts/{}", draft.reference)).into_response())
}

pub async fn raw(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Path(key): Path<DraftKey>,
) -> PageResult {
    downloads::raw(&api, &key)
        .await
        .map_err(|e| error_page(lang, Some(&user), e))
}

pub async fn attachment(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Path((key, which)): Path<(DraftKey, String)>,
) -> PageResult {
    downloads::attachment(&api, &key, &which)
        .await
        .map_err(|e| error_page(lang, Some(&user), e))
}

pub async fn follow_up_raw(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Path((key, number)): Path<(DraftKey, u32)>,
) -> PageResult {
    downloads::follow_up_raw(&api, &key, number)
        .await
        .map_err(|e| error_page(lang, Some(&user), e))
}

pub async fn follow_up_attachment(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Path((key, number, which)): Path<(DraftKey, u32, String)>,
) -> PageResult {
    downloads::follow_up_attachment(&api, &key, number, &which)
        .await
        .map_err(|e| error_page(lang, Some(&user), e))
}

pub async fn export(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Path((key, format)): Path<(DraftKey, String)>,
) -> PageResult {
    let fail = |e: ApiError| error_page(lang, Some(&user), e);
    let format = format
        .parse()
        .map_err(|e: String| fail(ApiError::bad_request(e)))?;
    downloads::export(&api, &key, format).await.map_err(fail)
}

/// A change refused, as a page: the workflow's refusal in its own words.
fn refusal_page(lang: Lang, user: &WebUser, e: ChangeError) -> Response {
    match e {
        ChangeError::Refused(refusal) => {
            let mut error: ApiError = ChangeError::Refused(refusal.clone()).into();
            error.message = lang.refusal(&refusal);
            error_page(lang, Some(user), error)
        }
        other => error_page(lang, Some(user), other.into()),
    }
}
