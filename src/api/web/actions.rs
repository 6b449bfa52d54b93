//! What an editor may do with a draft (pure HTML): a button for each
//! move the workflow allows them, and for each decision that writes to the
//! contributor a form of its own with the letter to read, edit or leave out.

use std::collections::HashMap;

use super::i18n::DeskText;
use super::{Lang, Text, WebUser};
use crate::desk::{self, HoldChange};
use crate::draft::{DraftStatus, DraftView};
use crate::export::escape;
use crate::workflow;

/// The letter each decision this editor may take would send, as the
/// editor starts from it (subject, body); None when letters are off.
pub type DecisionLetters = Option<HashMap<DraftStatus, (String, String)>>;

/// What the draft page offers beyond the draft itself.
pub struct Offer {
    pub letters: DecisionLetters,
    /// Active editors a draft can be assigned to.
    pub colleagues: Vec<String>,
    pub now: chrono::DateTime<chrono::Utc>,
}

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
    let rejecting = to == DraftStatus::Rejected;
    // A decline goes out as the template with the editor's reason in it,
    // unless they write the whole letter themselves.
    let (letter_field, preview) = if rejecting {
        (
            String::new(),
            format!(
                "<p class=\"reason\">{}</p><pre class=\"letter-body\">{}</pre>",
                lang.desk(DeskText::TemplateWithReason),
                escape(body)
            ),
        )
    } else {
        (escape(body), String::new())
    };
    format!(
        "<form method=\"post\" class=\"decision\" id=\"decide-{to}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"transition\">\
         <input type=\"hidden\" name=\"to\" value=\"{to}\">\
         {reason}\
         <details{open}><summary>{heading}</summary>{preview}\
         <label>{subject_label}<input name=\"letter_subject\" value=\"{subject}\"></label>\
         <label>{body_label}<textarea name=\"letter_body\" rows=\"14\"{placeholder}>{letter_field}</textarea></label></details>\
         {no_letter}{confirm}{note}\
         <button type=\"submit\" id=\"to-{to}\"{class}>{label}</button></form>",
        open = if open { " open" } else { "" },
        to = to.as_str(),
        subject_label = lang.t(Text::LetterSubject),
        // Left empty when rejecting: the template's, with the reason.
        subject = if rejecting {
            String::new()
        } else {
            escape(subject)
        },
        body_label = lang.t(Text::LetterBody),
        placeholder = if rejecting {
            format!(" placeholder=\"{}\"", lang.t(Text::LetterFromTemplate))
        } else {
            String::new()
        },
        reason = if rejecting {
            reason_field(lang, true)
        } else {
            String::new()
        },
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
        confirm = if rejecting {
            confirm_box(lang, true)
        } else {
            String::new()
        },
        note = if rejecting {
            String::new()
        } else {
            format!(
                "<label>{}<textarea name=\"note\" rows=\"2\"></textarea></label>",
                lang.t(Text::Note)
            )
        },
        label = lang.action(action),
    )
}

/// Why a draft is rejected: required, kept in the history and, when
/// letters are on, written into the decline letter.
fn reason_field(lang: Lang, in_letter: bool) -> String {
    let label = if in_letter {
        DeskText::RejectReasonInLetter
    } else {
        DeskText::RejectReason
    };
    format!(
        "<label>{}<textarea name=\"note\" rows=\"3\" required id=\"reject-reason\"></textarea></label>",
        lang.desk(label)
    )
}

/// The second click: whether a letter goes is said only when one can.
fn confirm_box(lang: Lang, with_letter: bool) -> String {
    let said = if with_letter {
        lang.t(Text::ConfirmReject)
    } else {
        lang.desk(DeskText::ConfirmRejectOnly)
    };
    format!(
        "<label class=\"check\"><input type=\"checkbox\" name=\"confirm\" value=\"true\" required id=\"confirm-rejected\">{said}</label>"
    )
}

/// Rejecting without letters: still its own form, asking why and to confirm.
fn reject_form(lang: Lang, csrf: &str) -> String {
    format!(
        "<form method=\"post\" class=\"decision\" id=\"decide-rejected\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"transition\">\
         <input type=\"hidden\" name=\"to\" value=\"rejected\">{reason}{confirm}\
         <button type=\"submit\" id=\"to-rejected\" class=\"danger\">{label}</button></form>",
        reason = reason_field(lang, false),
        confirm = confirm_box(lang, false),
        label = lang.action(workflow::Action::Reject),
    )
}

pub fn actions(lang: Lang, draft: &DraftView, user: &WebUser, offer: &Offer) -> String {
    let letters = &offer.letters;
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
    let reject_alone = allowed
        .iter()
        .any(|to| *to == DraftStatus::Rejected && with_letter(to).is_none());
    let buttons: String = allowed
        .into_iter()
        .filter(|to| with_letter(to).is_none() && *to != DraftStatus::Rejected)
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
    if buttons.is_empty() && decisions.is_empty() && !reject_alone {
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
    if reject_alone {
        html.push_str(&reject_form(lang, &csrf));
    }
    html.push_str(&hold_forms(lang, draft, user, offer));
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

/// Handing the draft on, renewing the claim, taking over a lapsed one:
/// whichever of these `crate::desk` lets this editor do now.
fn hold_forms(lang: Lang, draft: &DraftView, user: &WebUser, offer: &Offer) -> String {
    let hold = desk::Hold {
        status: draft.status,
        holder: draft.claimed_by.as_deref(),
        lease_until: draft.lease_until.map(|t| t.with_timezone(&chrono::Utc)),
    };
    let offered = desk::offered(&hold, &user.session.actor, offer.now);
    if offered.is_empty() {
        return String::new();
    }
    let mut buttons = String::new();
    for change in &offered {
        match change {
            HoldChange::Assign { .. } => {
                let options: String = offer
                    .colleagues
                    .iter()
                    .filter(|name| draft.claimed_by.as_deref() != Some(name.as_str()))
                    .map(|name| format!("<option value=\"{0}\">{0}</option>", escape(name)))
                    .collect();
                buttons.push_str(&format!(
                    "<label>{assign_to}<select name=\"assignee\" id=\"assignee\">{options}</select></label>\
                     <button type=\"submit\" name=\"change\" value=\"assign\" id=\"hold-assign\">{assign}</button>",
                    assign_to = lang.desk(DeskText::AssignTo),
                    assign = lang.desk(DeskText::Assign),
                ));
            }
            HoldChange::Renew => buttons.push_str(&format!(
                "<button type=\"submit\" name=\"change\" value=\"renew\" id=\"hold-renew\" class=\"secondary\">{}</button>",
                lang.desk(DeskText::Renew)
            )),
            HoldChange::TakeOver => buttons.push_str(&format!(
                "<span class=\"flag overdue\">{}</span>\
                 <button type=\"submit\" name=\"change\" value=\"take_over\" id=\"hold-take_over\">{}</button>",
                lang.desk(DeskText::Lapsed),
                lang.desk(DeskText::TakeOver)
            )),
        }
    }
    format!(
        "<form method=\"post\" class=\"inline hold\" id=\"hold\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"hold\">\
         <strong>{heading}</strong>\
         <label>{why}<input name=\"note\" size=\"24\"></label>{buttons}</form>",
        csrf = escape(&user.session.csrf),
        heading = lang.desk(DeskText::WhoWorksOnIt),
        why = lang.desk(DeskText::Why),
    )
}
