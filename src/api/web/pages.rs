//! The pages' handlers (HTML in `render`). Reads go through the same store calls as
//! the API; every change is a POST carrying the CSRF token, answered with
//! a redirect (or a page saying why it was refused).

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::{LANG_COOKIE, Lang, SESSION_COOKIE, Text, WebUser, error_page, page, previews, render};
use crate::api::Api;
use crate::api::error::ApiError;
use crate::api::{auth, downloads, v1};
use crate::draft::DraftStatus;
use crate::export::escape;
use crate::store::{ChangeError, DraftCursor, DraftKey};

type PageResult = Result<Response, Response>;

fn with_cookie(mut response: Response, cookie: String) -> Response {
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn switch_language(Path(code): Path<String>) -> Response {
    let lang = Lang::from_code(&code).unwrap_or(Lang::Zh);
    with_cookie(
        Redirect::to("/").into_response(),
        format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.code()
        ),
    )
}

pub async fn login_form(lang: Lang) -> Html<String> {
    render::login_page(lang, None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login(
    State(api): State<Api>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    lang: Lang,
    Form(form): Form<LoginForm>,
) -> Response {
    let actor = match auth::authenticate(&api, client.ip(), &form.token).await {
        Ok(actor) => actor,
        Err(e) => {
            let message = match e.code {
                "unauthorized" => lang.t(Text::LoginFailed).to_string(),
                "too_many_failures" => lang.t(Text::TooManyFailures).to_string(),
                _ => e.message.clone(),
            };
            return (e.status, render::login_page(lang, Some(&message))).into_response();
        }
    };
    let ttl = api.settings.session_ttl;
    match api.store.create_session(&actor, ttl, Utc::now()).await {
        Ok((cookie, _)) => {
            tracing::info!(editor = %actor.name, "editor logged in");
            let secure = if api.settings.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            with_cookie(
                Redirect::to("/queue").into_response(),
                format!(
                    "{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                    ttl.as_secs()
                ),
            )
        }
        Err(e) => error_page(lang, None, e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = user.check_csrf(&form.csrf) {
        return error_page(lang, Some(&user), e);
    }
    if let Err(e) = api.store.end_session(&user.cookie).await {
        return error_page(lang, Some(&user), e.into());
    }
    with_cookie(
        Redirect::to("/login").into_response(),
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    )
}

pub async fn queue(
    State(api): State<Api>,
    user: WebUser,
    lang: Lang,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let fail = |e: ApiError| error_page(lang, Some(&user), e);
    let filter = v1::filter_from(&query, &api).map_err(fail)?;
    let drafts = api
        .store
        .list_drafts(&filter)
        .await
        .map_err(|e| fail(e.into()))?;
    let next = match drafts.last() {
        Some(last) if Some(drafts.len() as u32) == filter.limit => {
            let mut params = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in query.iter().filter(|(k, _)| *k != "cursor") {
                params.append_pair(key, value);
            }
            params.append_pair("cursor", &DraftCursor::after(last).to_string());
            format!(
                "<p><a id=\"next\" href=\"/queue?{}\">{}</a></p>",
                escape(&params.finish()),
                lang.t(Text::NextPage)
            )
        }
        _ => String::new(),
    };
    let body = format!(
        "<h1>{title}</h1>\
         <form method=\"post\" action=\"/queue/claim\" class=\"claim\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{count}<input name=\"limit\" type=\"number\" min=\"1\" max=\"100\" value=\"1\" size=\"4\"></label>\
         <button type=\"submit\" id=\"claim-next\">{claim}</button></form>\
         {filters}{rows}{next}",
        title = lang.t(Text::Queue),
        csrf = escape(&user.session.csrf),
        count = lang.t(Text::Count),
        claim = lang.t(Text::ClaimNext),
        filters = render::filter_form(lang, &query),
        rows = render::draft_rows(lang, &drafts, false, api.overdue_before()),
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
    let letters = previews::decision_letters(&api, &draft, &user.session.actor);
    let page_body = render::draft_page(
        lang,
        &user,
        &draft,
        &events,
        html.as_deref(),
        &letters,
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
            // The page's reject form (the one with a letter) asks for a
            // second click; a browser enforces it, and so does this.
            if to == DraftStatus::Rejected && form.letter_body.is_some() && form.confirm.is_none() {
                return Err(fail(ApiError::bad_request(lang.t(Text::ConfirmReject))));
            }
            let note = form.note.as_deref().filter(|n| !n.trim().is_empty());
            let plan = api.letter_plan(
                form.no_letter.is_some(),
                form.letter_subject.clone(),
                form.letter_body.clone(),
                None,
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
        other => {
            return Err(fail(ApiError::bad_request(format!(
                "unknown action `{other}`"
            ))));
        }
    };
    let draft = changed.map_err(|e| match e {
        // The workflow's refusal in the page's words.
        ChangeError::Refused(refusal) => {
            let mut error: ApiError = ChangeError::Refused(refusal.clone()).into();
            error.message = lang.refusal(&refusal);
            fail(error)
        }
        other => fail(other.into()),
    })?;
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
