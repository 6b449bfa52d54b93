//! What an editor may do with a draft (pure HTML): a button for each
//! move the workflow allows them, and for each decision that writes to the
//! contributor a form of its own with the letter to read, edit or leave out.

use std::collections::HashMap;

use super::{Lang, Text, WebUser};
use crate::draft::{DraftStatus, DraftView};
use crate::export::escape;
use crate::workflow;

/// The letter each decision this editor may take would send, as the
/// editor starts from it (subject, body); None when letters are off.
pub type DecisionLetters = Option<HashMap<DraftStatus, (String, String)>>;

/// A decision that writes to the contributor: its own form, with the
/// letter to edit (or leave out) beside the button.
fn decision_form(
    lang: Lang,
    csrf: &str,
    to: DraftStatus,
    action: workflow::Action,
    (subject, body): &(String, String),
) -> String {
    let heading = match to {
        DraftStatus::SentForSignoff => lang.t(Text::ProposedLetter),
        _ => crate::draft::LetterKind::for_decision(to).map_or("", |k| lang.letter_kind(k)),
    };
    // The letters that carry good news are read before they go; a decline
    // or revision letter is opened when the editor wants to change it.
    let open = matches!(to, DraftStatus::SentForSignoff | DraftStatus::SignedOff);
    // Rejecting cannot be undone by the contributor's inbox: it looks
    // unlike the other buttons.
    let class = if to == DraftStatus::Rejected {
        " class=\"danger\""
    } else {
        ""
    };
    format!(
        "<form method=\"post\" class=\"decision\" id=\"decide-{to}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"transition\">\
         <input type=\"hidden\" name=\"to\" value=\"{to}\">\
         <details{open}><summary>{heading}</summary>\
         <label>{subject_label}<input name=\"letter_subject\" value=\"{subject}\"></label>\
         <label>{body_label}<textarea name=\"letter_body\" rows=\"14\">{body}</textarea></label></details>\
         {no_letter}{confirm}\
         <label>{note}<textarea name=\"note\" rows=\"2\"></textarea></label>\
         <button type=\"submit\" id=\"to-{to}\"{class}>{label}</button></form>",
        open = if open { " open" } else { "" },
        to = to.as_str(),
        subject_label = lang.t(Text::LetterSubject),
        subject = escape(subject),
        body_label = lang.t(Text::LetterBody),
        body = escape(body),
        // Proposing a letter is optional; a decision without one is a choice.
        no_letter = if to == DraftStatus::SentForSignoff {
            String::new()
        } else {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"no_letter\" value=\"true\" id=\"no-letter-{}\">{}</label>",
                to.as_str(),
                lang.t(Text::NoLetter)
            )
        },
        // A decline letter goes out at once: rejecting takes a second click.
        confirm = if to == DraftStatus::Rejected {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"confirm\" value=\"true\" required id=\"confirm-rejected\">{}</label>",
                lang.t(Text::ConfirmReject)
            )
        } else {
            String::new()
        },
        note = lang.t(Text::Note),
        label = lang.action(action),
    )
}

pub fn actions(lang: Lang, draft: &DraftView, user: &WebUser, letters: &DecisionLetters) -> String {
    let csrf = escape(&user.session.csrf);
    let current = workflow::Current {
        status: draft.status,
        claimed_by: draft.claimed_by.as_deref(),
    };
    // Only what this editor may do is offered; the store checks again.
    let allowed: Vec<DraftStatus> = workflow::next_statuses(draft.status)
        .into_iter()
        .filter(|to| workflow::decide(&current, *to, &user.session.actor).is_ok())
        .collect();
    let with_letter = |to: &DraftStatus| letters.as_ref().and_then(|l| l.get(to));
    let decisions: String = allowed
        .iter()
        .filter_map(|to| {
            let action = workflow::action_for(draft.status, *to)?;
            Some(decision_form(lang, &csrf, *to, action, with_letter(to)?))
        })
        .collect();
    let buttons: String = allowed
        .into_iter()
        .filter(|to| with_letter(to).is_none())
        .filter_map(|to| {
            let action = workflow::action_for(draft.status, to)?;
            Some(format!(
                "<button type=\"submit\" name=\"to\" value=\"{to}\" id=\"to-{to}\">{label}</button>",
                to = to.as_str(),
                label = lang.action(action),
            ))
        })
        .collect();
    let mut html = format!("<h2>{}</h2>", lang.t(Text::Actions));
    if buttons.is_empty() && decisions.is_empty() {
        html.push_str(&format!("<p>{}</p>", lang.t(Text::NoActions)));
    } else {
        html.push_str(&format!(
            "<form method=\"post\" class=\"actions\" id=\"actions\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"action\" value=\"transition\">\
             <label>{note}<textarea name=\"note\" id=\"note\"></textarea></label>{buttons}</form>",
            note = lang.t(Text::Note),
        ));
    }
    html.push_str(&decisions);
    let holds = draft.status == DraftStatus::Claimed
        && draft.claimed_by.as_deref() == Some(user.session.actor.name.as_str());
    if holds {
        html.push_str(&format!(
            "<form method=\"post\" id=\"edit\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"action\" value=\"edit\">\
             <label>{title_label}<input name=\"title\" value=\"{title}\" size=\"60\"></label>\
             <label>{notes_label}<textarea name=\"notes\">{notes}</textarea></label>\
             <button type=\"submit\" class=\"secondary\">{save}</button></form>",
            title_label = lang.t(Text::EditorsTitle),
            title = escape(&draft.title),
            notes_label = lang.t(Text::Notes),
            notes = escape(&draft.notes),
            save = lang.t(Text::Save),
        ));
    }
    html
}
