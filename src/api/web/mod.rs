//! The editors' web page: server-rendered HTML that works without
//! JavaScript; a small same-origin script (`live.js`) only keeps open pages
//! up to date. A token
//! logs in once and becomes an HttpOnly, SameSite=Strict session cookie;
//! every form carries the session's CSRF token; submitted HTML is shown
//! only after ammonia sanitized it, under the CSP `super` sets.

mod actions;
mod chart;
mod contributor;
mod discussion;
mod history;
mod i18n;
mod pages;
mod previews;
mod queue;
mod render;
mod session;
mod statistics;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;

use super::Api;
use super::error::ApiError;
use crate::export::escape;
use crate::store::Session;
pub use i18n::{Lang, Text};

const SESSION_COOKIE: &str = "slushpile_session";
const LANG_COOKIE: &str = "slushpile_lang";
/// The login form's own CSRF token (the session's does not exist yet).
const LOGIN_COOKIE: &str = "slushpile_login";

pub fn routes() -> Router<Api> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/static/app.css", get(css))
        .route("/static/live.js", get(script))
        .route("/lang/{code}", get(session::switch_language))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/queue", get(pages::queue))
        .route("/queue/claim", post(pages::claim))
        .route("/quarantine", get(pages::quarantine))
        .route("/statistics", get(pages::statistics))
        .route("/drafts/{key}", get(pages::draft).post(pages::act))
        .route("/drafts/{key}/raw", get(pages::raw))
        .route("/drafts/{key}/attachments/{index}", get(pages::attachment))
        .route("/drafts/{key}/export/{format}", get(pages::export))
        .route(
            "/drafts/{key}/thread/{number}/raw",
            get(pages::follow_up_raw),
        )
        .route(
            "/drafts/{key}/thread/{number}/attachments/{index}",
            get(pages::follow_up_attachment),
        )
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("app.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("live.js"),
    )
        .into_response()
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(cookie(&parts.headers, LANG_COOKIE)
            .and_then(Lang::from_code)
            .unwrap_or(Lang::Zh))
    }
}

/// A logged-in editor on the web page; anyone else is sent to log in.
pub struct WebUser {
    pub session: Session,
    pub cookie: String,
}

impl FromRequestParts<Api> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Response> {
        let Some(cookie) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/login").into_response());
        };
        match api.store.session(cookie, Utc::now()).await {
            Ok(Some(session)) => Ok(WebUser {
                session,
                cookie: cookie.to_string(),
            }),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

impl WebUser {
    /// Forms must carry the session's own token: another site cannot read
    /// it, so it cannot make an editor's browser act.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), ApiError> {
        if crate::auth::constant_time_eq(self.session.csrf.as_bytes(), submitted.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "this form is stale or came from another site: reload the page and try again",
            ))
        }
    }
}

/// The frame of every page.
pub fn page(lang: Lang, title: &str, user: Option<&WebUser>, body: &str) -> Html<String> {
    let nav = match user {
        Some(user) => format!(
            "<nav><a href=\"/queue\">{queue}</a><a href=\"/quarantine\">{quarantine}</a>\
             <a href=\"/statistics\">{statistics}</a></nav>\
             <span>{signed_in}{colon}{name}{open}{role}{close}</span>\
             <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button class=\"secondary\" type=\"submit\">{logout}</button></form>",
            queue = lang.t(Text::Queue),
            quarantine = lang.t(Text::Quarantine),
            statistics = lang.stats(i18n::StatsText::Title),
            signed_in = lang.t(Text::SignedInAs),
            name = escape(&user.session.actor.name),
            role = lang.role(user.session.actor.role),
            colon = lang.colon(),
            open = lang.parentheses().0,
            close = lang.parentheses().1,
            csrf = escape(&user.session.csrf),
            logout = lang.t(Text::Logout),
        ),
        None => "<nav></nav>".into(),
    };
    Html(format!(
        "<!doctype html>\n<html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {app}</title><link rel=\"stylesheet\" href=\"/static/app.css\">{script}</head>\
         <body><header><span class=\"brand\">{app}</span>{nav}\
         <span class=\"languages\" id=\"switch-language\">{languages}</span></header>\
         <main>{body}</main></body></html>\n",
        html_lang = lang.html_lang(),
        title = escape(title),
        // Logged-in pages update live (see live.js).
        script = if user.is_some() {
            "<script src=\"/static/live.js\" defer></script>"
        } else {
            ""
        },
        app = lang.t(Text::AppName),
        languages = Lang::ALL
            .iter()
            .filter(|other| **other != lang)
            .map(|other| format!(
                "<a href=\"/lang/{}\" lang=\"{}\">{}</a>",
                other.code(),
                other.html_lang(),
                other.name()
            ))
            .collect::<Vec<_>>()
            .join(" · "),
    ))
}

/// An error as a page, with the API's message.
pub fn error_page(lang: Lang, user: Option<&WebUser>, error: ApiError) -> Response {
    // What the page can say in its own words; the rest as the API says it.
    let said = match error.code {
        "csrf" => lang.t(Text::StaleForm).to_string(),
        "too_many_failures" => lang.t(Text::TooManyFailures).to_string(),
        _ => error.message.clone(),
    };
    let body = format!(
        "<h1>{refused}</h1><p class=\"error\" id=\"error\" data-code=\"{code}\">{message}</p>\
         <p><a href=\"/queue\">{back}</a></p>",
        refused = lang.t(Text::Refused),
        code = error.code,
        message = escape(&said),
        back = lang.t(Text::Back),
    );
    (error.status, page(lang, lang.t(Text::Refused), user, &body)).into_response()
}
