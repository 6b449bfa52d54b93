//! Signing in and out, and the language switch: the cookies the pages
//! run on. The login form carries its own CSRF token (the session's does
//! not exist yet).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::{LANG_COOKIE, LOGIN_COOKIE, Lang, SESSION_COOKIE, Text, WebUser, error_page, render};
use crate::api::Api;
use crate::api::auth::{self, ClientIp};
use crate::api::error::ApiError;

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

/// The login form, with a token of its own in a cookie and in the form:
/// a form posted from another site cannot carry both, so nobody can log
/// an editor's browser in as someone else.
pub async fn login_form(lang: Lang) -> Response {
    fresh_login_page(lang, StatusCode::OK, None)
}

fn fresh_login_page(lang: Lang, status: StatusCode, error: Option<&str>) -> Response {
    let Ok(secret) = crate::auth::random_secret() else {
        return error_page(
            lang,
            None,
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "no randomness for a login form: try again",
            ),
        );
    };
    with_cookie(
        (status, render::login_page(lang, &secret, error)).into_response(),
        format!("{LOGIN_COOKIE}={secret}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    #[serde(default)]
    login_csrf: String,
}

pub async fn login(
    State(api): State<Api>,
    ClientIp(client): ClientIp,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = super::cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty()
        || !crate::auth::constant_time_eq(expected.as_bytes(), form.login_csrf.as_bytes())
    {
        return fresh_login_page(lang, StatusCode::FORBIDDEN, Some(lang.t(Text::StaleForm)));
    }
    let actor = match auth::authenticate(&api, client, &form.token).await {
        Ok(actor) => actor,
        Err(e) => {
            let message = match e.code {
                "unauthorized" => lang.t(Text::LoginFailed).to_string(),
                "too_many_failures" => lang.t(Text::TooManyFailures).to_string(),
                _ => e.message.clone(),
            };
            return (e.status, render::login_page(lang, expected, Some(&message))).into_response();
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
