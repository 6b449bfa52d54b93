//! The editors' discussion of a draft (pure HTML): their comments, oldest
//! first, with author and time, and the form to add one.

use super::i18n::DeskText;
use super::{Lang, WebUser};
use crate::draft::{DraftStatus, DraftView, EventView};
use crate::export::escape;

pub fn discussion(lang: Lang, draft: &DraftView, events: &[EventView], user: &WebUser) -> String {
    let comments: String = events
        .iter()
        .filter(|e| e.kind == "commented")
        .filter_map(|e| {
            let text = e.detail.get("text")?.as_str()?;
            Some(format!(
                "<li class=\"comment\" data-actor=\"{who}\"><p class=\"comment-meta\">{who} · {at}</p>\
                 <div class=\"comment-text\">{text}</div></li>",
                who = escape(&e.actor),
                at = e.at.format("%Y-%m-%d %H:%M"),
                text = escape(text),
            ))
        })
        .collect();
    let list = if comments.is_empty() {
        format!(
            "<p id=\"no-comments\">{}</p>",
            lang.desk(DeskText::NoComments)
        )
    } else {
        format!("<ol id=\"comments\">{comments}</ol>")
    };
    let form = if draft.status == DraftStatus::Purged {
        String::new()
    } else {
        format!(
            "<form method=\"post\" id=\"comment\" class=\"comment-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"action\" value=\"comment\">\
             <label>{label}<textarea name=\"text\" id=\"comment-text\" rows=\"3\" maxlength=\"{max}\" required></textarea></label>\
             <button type=\"submit\" id=\"post-comment\" class=\"secondary\">{post}</button></form>",
            csrf = escape(&user.session.csrf),
            label = lang.desk(DeskText::CommentLabel),
            max = crate::desk::MAX_COMMENT_CHARS,
            post = lang.desk(DeskText::PostComment),
        )
    };
    format!(
        "<section id=\"discussion\"><h2>{}</h2><div id=\"live-comments\" data-live>{list}</div>{form}</section>",
        lang.desk(DeskText::Discussion)
    )
}
