//! The letters an editor starts from on the draft page: for each decision
//! they may take, the letter proposed with 送簽 or else the template's,
//! rendered now in the contributor's language.

use std::collections::HashMap;

use chrono::Utc;

use super::actions::DecisionLetters;
use crate::ack::letters::{Letter, LetterText, Office};
use crate::api::Api;
use crate::draft::{DraftStatus, DraftView, LetterKind};
use crate::store::Recipient;
use crate::workflow::{self, Actor};

/// The letter each decision `actor` may take would send, for them to read
/// and edit: the letter the editor proposed with 送簽 where there is one,
/// else the template's, rendered now.
pub fn decision_letters(api: &Api, draft: &DraftView, actor: &Actor) -> DecisionLetters {
    let letters = api.settings.letters.as_ref()?;
    let to = Recipient {
        address: draft
            .ack
            .as_ref()
            .and_then(|a| a.to.clone())
            .or_else(|| draft.from.as_ref().map(|f| f.address.clone()))
            .unwrap_or_default(),
        name: draft.from.as_ref().and_then(|f| f.name.clone()),
    };
    let current = workflow::Current {
        status: draft.status,
        claimed_by: draft.claimed_by.as_deref(),
    };
    let now = Utc::now()
        .with_timezone(&api.store.time_zone())
        .fixed_offset();
    let office = Office {
        sender: &letters.sender,
        templates: &letters.templates,
    };
    let mut decisions = HashMap::new();
    for next in workflow::next_statuses(draft.status) {
        if workflow::decide(&current, next, actor).is_err() {
            continue;
        }
        let kind = match next {
            DraftStatus::SentForSignoff => Some(LetterKind::Accept),
            _ if draft.status == DraftStatus::Quarantined => None,
            _ => LetterKind::for_decision(next),
        };
        let Some(kind) = kind else { continue };
        let held = draft
            .letters
            .iter()
            .rev()
            .find(|l| l.state == "held" && l.kind == kind);
        let text = LetterText {
            subject: held.and_then(|l| l.subject.clone()),
            body: held.and_then(|l| l.body.clone()),
            note: held.and_then(|l| l.note.clone()),
        };
        let rendered = office.render(&Letter {
            draft,
            kind,
            to: &to,
            text: &text,
            decided_at: now,
        });
        decisions.insert(next, rendered);
    }
    Some(decisions)
}
