//! The pages' HTML (pure): every value from a submission or an editor is
//! escaped, and submitted HTML is shown only after sanitizing.

use axum::response::Html;

use super::actions::{self, Offer};
use super::{Lang, Text, WebUser, contributor, discussion, history, page};
use crate::draft::{DraftStatus, DraftView, EventView};
use crate::export::{display_html, escape};
use crate::message::Forwarded;

pub fn login_page(lang: Lang, login_csrf: &str, error: Option<&str>) -> Html<String> {
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" id=\"error\">{}</p>", escape(e))
    });
    let body = format!(
        "<h1>{login}</h1>{error}<form method=\"post\" action=\"/login\" class=\"inline\">\
         <input type=\"hidden\" name=\"login_csrf\" value=\"{csrf}\">\
         <label>{token}<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" \
         required size=\"60\"></label><button id=\"login\" type=\"submit\">{login}</button></form>\
         <p>{help}</p>",
        login = lang.t(Text::Login),
        csrf = escape(login_csrf),
        token = lang.t(Text::Token),
        help = lang.t(Text::LoginHelp),
    );
    page(lang, lang.t(Text::Login), None, &body)
}

pub(super) fn status_badge(lang: Lang, status: DraftStatus) -> String {
    format!(
        "<span class=\"status status-{}\">{}</span>",
        status.as_str(),
        lang.status(status)
    )
}

fn sender(draft: &DraftView) -> String {
    escape(&crate::export::sender(draft))
}

/// Flags beside a draft's status: contributor mail not seen yet, and no
/// decision by the end of the processing period.
pub(super) fn flags(
    lang: Lang,
    d: &DraftView,
    overdue_before: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut flags = String::new();
    if d.unseen_mail {
        flags.push_str(&format!(
            " <span class=\"flag new-mail\">{}</span>",
            lang.t(Text::NewMail)
        ));
    }
    if d.status.awaits_decision() && d.received_at < overdue_before {
        flags.push_str(&format!(
            " <span class=\"flag overdue\">{}</span>",
            lang.t(Text::Overdue)
        ));
    }
    flags
}

pub fn draft_rows(
    lang: Lang,
    drafts: &[DraftView],
    with_reason: bool,
    overdue_before: chrono::DateTime<chrono::Utc>,
) -> String {
    if drafts.is_empty() {
        return format!("<p id=\"empty\">{}</p>", lang.t(Text::NoDrafts));
    }
    let mut rows = String::new();
    for d in drafts {
        let last = if with_reason {
            d.quarantine_reason
                .as_deref()
                .map_or("", |r| lang.quarantine_reason(r))
                .to_string()
        } else {
            escape(d.claimed_by.as_deref().unwrap_or(""))
        };
        rows.push_str(&format!(
            "<tr data-reference=\"{reference}\"><td><a href=\"/drafts/{reference}\">{reference}</a></td>\
             <td>{title}</td><td>{sender}</td><td>{received}</td><td>{status}{flags}</td><td>{last}</td></tr>",
            reference = escape(&d.reference),
            title = escape(&d.title),
            sender = sender(d),
            received = d.received_at.format("%Y-%m-%d %H:%M"),
            status = status_badge(lang, d.status),
            flags = flags(lang, d, overdue_before),
        ));
    }
    format!(
        "<table id=\"drafts\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        lang.t(Text::Reference),
        lang.t(Text::Title),
        lang.t(Text::Sender),
        lang.t(Text::Received),
        lang.t(Text::Status),
        lang.t(if with_reason {
            Text::Reason
        } else {
            Text::Holder
        }),
    )
}

fn meta_row(label: &str, value: &str) -> String {
    format!("<dt>{label}</dt><dd>{value}</dd>")
}

/// The draft page's body: what was submitted, what editors did with it,
/// and what this editor may do next.
pub fn draft_page(
    lang: Lang,
    user: &WebUser,
    draft: &DraftView,
    events: &[EventView],
    html: Option<&str>,
    offer: &Offer,
    overdue_before: chrono::DateTime<chrono::Utc>,
) -> String {
    let reference = escape(&draft.reference);
    let mut meta = String::new();
    meta.push_str(&meta_row(lang.t(Text::Reference), &reference));
    meta.push_str(&meta_row(
        lang.t(Text::Status),
        &format!(
            "<span id=\"status\">{}</span>{}",
            status_badge(lang, draft.status),
            flags(lang, draft, overdue_before)
        ),
    ));
    if let Some(reason) = &draft.quarantine_reason {
        meta.push_str(&meta_row(
            lang.t(Text::Reason),
            &format!(
                "<span data-reason=\"{}\">{}</span>",
                escape(reason),
                lang.quarantine_reason(reason)
            ),
        ));
    }

    meta.push_str(&meta_row(lang.t(Text::Sender), &sender(draft)));
    if let Some(auth) = &draft.sender_auth {
        let show = |r: &Option<String>| lang.auth_result(r.as_deref());
        let (open, close) = lang.parentheses();
        // The provider's own wording stays in the markup, not in the text.
        meta.push_str(&meta_row(
            lang.t(Text::SenderAuth),
            &format!(
                "<span data-detail=\"{detail}\">DMARC {}{sep}DKIM {}{sep}SPF {}{open}{}{close}</span>",
                show(&auth.dmarc),
                show(&auth.dkim),
                show(&auth.spf),
                lang.judged_by(&escape(&auth.authserv_id)),
                detail = escape(auth.detail.as_deref().unwrap_or("")),
                sep = lang.list_separator(),
            ),
        ));
    }
    meta.push_str(&meta_row(
        lang.t(Text::Received),
        &draft.received_at.format("%Y-%m-%d %H:%M %:z").to_string(),
    ));
    meta.push_str(&meta_row(lang.t(Text::Mailbox), &escape(&draft.mailbox)));
    if draft.title != draft.submitted_title {
        meta.push_str(&meta_row(
            lang.t(Text::SubmittedTitle),
            &escape(&draft.submitted_title),
        ));
    }
    if let Some(holder) = &draft.claimed_by {
        meta.push_str(&meta_row(lang.t(Text::Holder), &escape(holder)));
    }
    if let Some(until) = draft.lease_until {
        meta.push_str(&meta_row(
            lang.t(Text::LeaseUntil),
            &until.format("%Y-%m-%d %H:%M").to_string(),
        ));
    }
    if let Some(editor) = &draft.forwarded_by {
        meta.push_str(&meta_row(
            lang.t(Text::ForwardedBy),
            &escape(&crate::export::sender_line(editor)),
        ));
    }
    if let Some(ack) = &draft.ack {
        // The state of an uncertain one says all; the raw reason or the
        // server's error is the API's, in words here.
        let why = match (ack.state.as_str(), &ack.reason, &ack.error) {
            ("uncertain" | "sent", ..) => None,
            (_, Some(reason), _) => Some(lang.ack_reason(reason)),
            (state, None, Some(_)) => Some(lang.send_error(state)),
            _ => None,
        };
        let why = why.map_or(String::new(), |why| {
            let (open, close) = lang.parentheses();
            format!("<span class=\"reason\">{open}{why}{close}</span>")
        });
        meta.push_str(&meta_row(
            lang.t(Text::Acknowledgement),
            &format!("{}{why}", lang.letter_state(&ack.state)),
        ));
    }
    if !draft.notes.is_empty() {
        meta.push_str(&meta_row(lang.t(Text::Notes), &escape(&draft.notes)));
    }
    let body = match html {
        Some(submitted) => format!("<div class=\"body html\">{}</div>", display_html(submitted)),
        None => format!("<div class=\"body\">{}</div>", escape(&draft.body_text)),
    };
    let attachments: String = draft
        .attachments
        .iter()
        .map(|a| {
            let incomplete = if a.incomplete {
                format!(
                    "{}<strong class=\"incomplete\">{}</strong>",
                    lang.list_separator(),
                    lang.t(Text::MayBeIncomplete)
                )
            } else {
                String::new()
            };
            let note = a
                .extraction_note
                .as_deref()
                .map(|n| {
                    format!(
                        " <em class=\"extraction-note\">{}</em>",
                        lang.extraction_note(n)
                    )
                })
                .unwrap_or_default();
            let (open, close) = lang.parentheses();
            format!(
                "<li data-path=\"{path}\"><a class=\"attachment\" href=\"/drafts/{reference}/attachments/{path}\">{name}</a>\
                 {open}<span title=\"{mime}\">{kind}</span>{sep}{size}{incomplete}{close}{note}</li>",
                path = escape(&a.path),
                name = escape(a.filename.as_deref().unwrap_or(lang.t(Text::Unnamed))),
                mime = escape(&a.content_type),
                kind = lang.file_kind(&a.content_type),
                sep = lang.list_separator(),
                size = human_size(a.size),
            )
        })
        .collect();
    let articles: String = draft
        .attachments
        .iter()
        .filter_map(|a| {
            let text = a.article_text.as_deref()?;
            Some(format!(
                "<section class=\"article\" data-path=\"{path}\"><h2>{label}{colon}{name}</h2>\
                 <div class=\"body\">{text}</div></section>",
                label = lang.t(Text::ArticleIn),
                colon = lang.colon(),
                path = escape(&a.path),
                name = escape(a.filename.as_deref().unwrap_or(lang.t(Text::Unnamed))),
                text = escape(text),
            ))
        })
        .collect();
    let forwarded = forwarded(lang, reference.as_str(), &draft.forwarded);
    let downloads = if draft.status == DraftStatus::Purged {
        String::new()
    } else {
        format!(
            "<h2>{att_title}</h2><ul id=\"attachments\">{attachments}</ul>\
             <p><a href=\"/drafts/{reference}/raw\">{raw}</a> · {export}{colon}\
             <a href=\"/drafts/{reference}/export/md\">Markdown</a> · \
             <a href=\"/drafts/{reference}/export/html\">HTML</a> · \
             <a href=\"/drafts/{reference}/export/json\">JSON</a></p>",
            att_title = lang.t(Text::Attachments),
            raw = lang.t(Text::RawMessage),
            export = lang.t(Text::Export),
            colon = lang.colon(),
        )
    };
    format!(
        "<h1 id=\"title\">{title}</h1><dl class=\"meta\" id=\"meta\" data-live>{meta}</dl>{actions}{body}{articles}{forwarded}{downloads}{thread}{letters_sent}{discussion}{history}",
        title = escape(&draft.title),
        actions = actions::actions(lang, draft, user, offer),
        thread = contributor::thread(lang, draft),
        letters_sent = contributor::letters(lang, draft),
        discussion = discussion::discussion(lang, draft, events, user),
        history = history::table(lang, events),
    )
}

/// Each forwarded original: who wrote it, when, about what, and its text.
fn forwarded(lang: Lang, reference: &str, originals: &[Forwarded]) -> String {
    if originals.is_empty() {
        return String::new();
    }
    let items: String = originals
        .iter()
        .map(|f| {
            format!(
                "<section class=\"forwarded\" data-path=\"{path}\"><dl class=\"meta\">{from}{date}{subject}</dl>\
                 <p><a href=\"/drafts/{reference}/attachments/{path}\">.eml</a></p>\
                 <div class=\"body\">{text}</div></section>",
                path = escape(&f.path),
                from = meta_row(
                    lang.t(Text::Sender),
                    &escape(&f.from.as_ref().map(crate::export::sender_line).unwrap_or_default())
                ),
                date = meta_row(
                    lang.t(Text::Received),
                    &f.date.map(|d| d.format("%Y-%m-%d %H:%M %:z").to_string()).unwrap_or_default()
                ),
                subject = meta_row(lang.t(Text::Title), &escape(f.subject.as_deref().unwrap_or(""))),
                text = escape(&f.body_text),
            )
        })
        .collect();
    format!("<h2>{}</h2>{items}", lang.t(Text::Forwarded))
}

/// A file size people read: 1.2 KB, 3.4 MB.
fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
