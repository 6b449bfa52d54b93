//! The editors' workflow as a pure state machine: 編輯 → 送簽 → 簽發
//! (edit, send for sign-off, sign off). The store, the API, the web page and
//! the CLI all ask `decide` before changing a draft, so they refuse the same
//! things with the same words.

use serde::{Deserialize, Serialize};

use crate::draft::DraftStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Editor,
    /// Everything an editor may do, plus signing off.
    Signer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Signer => "signer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "editor" => Ok(Role::Editor),
            "signer" => Ok(Role::Signer),
            _ => Err(format!("unknown role `{text}`: expected editor or signer")),
        }
    }
}

/// Who acts: an editor known to the store, by name and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

/// What a draft looks like to the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current<'a> {
    pub status: DraftStatus,
    /// The editor holding (or, once sent for sign-off, who held) the draft.
    pub claimed_by: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Claim,
    Release,
    SendForSignoff,
    SignOff,
    /// A signer sends a draft back to the editor who sent it.
    Return,
    Reject,
    Archive,
    Reopen,
    ReleaseFromQuarantine,
    /// 請修改: the contributor is asked to revise; their reply brings the
    /// draft back.
    RequestRevision,
    /// The contributor asked to withdraw; an editor confirms.
    ConfirmWithdrawal,
}

impl Action {
    /// The event kind recorded for it.
    pub fn event_kind(self) -> &'static str {
        match self {
            Action::Claim => "claimed",
            Action::Release | Action::ReleaseFromQuarantine => "released",
            Action::SendForSignoff => "sent_for_signoff",
            Action::SignOff => "signed_off",
            Action::Return => "returned",
            Action::Reject => "rejected",
            Action::Archive => "archived",
            Action::Reopen => "reopened",
            Action::RequestRevision => "revision_requested",
            Action::ConfirmWithdrawal => "withdrawn",
        }
    }
}

/// What happens to the claim when a transition is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// The actor holds it, with a fresh lease.
    TakeLease,
    /// The previous holder holds it again, with a fresh lease.
    RenewLease,
    /// The holder's name stays (who sent it for sign-off); no lease runs.
    KeepName,
    Clear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub action: Action,
    pub from: DraftStatus,
    pub to: DraftStatus,
    pub holder: Holder,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("a draft cannot go from {from} to {to}; from {from} it can go to {allowed}")]
    InvalidTransition {
        from: &'static str,
        to: &'static str,
        allowed: String,
    },
    #[error("the draft is held by {holder}, not by {actor}: only its holder can do that")]
    NotHolder { holder: String, actor: String },
    #[error("only a signer can {what}; {actor} is an editor")]
    SignerOnly { what: &'static str, actor: String },
    #[error("a draft that is {status} cannot be assigned: only new or claimed ones")]
    NotAssignable { status: &'static str },
    #[error("{holder}'s claim has not run out: only a lapsed claim can be taken over")]
    StillHeld { holder: String },
    #[error("no active editor is called {name}")]
    UnknownEditor { name: String },
    #[error("a comment says something, in at most {max} characters")]
    BadComment { max: usize },
}

impl WorkflowError {
    /// Stable machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            WorkflowError::InvalidTransition { .. } => "invalid_transition",
            WorkflowError::NotHolder { .. } => "not_holder",
            WorkflowError::SignerOnly { .. } => "signer_required",
            WorkflowError::NotAssignable { .. } => "not_assignable",
            WorkflowError::StillHeld { .. } => "still_held",
            WorkflowError::UnknownEditor { .. } => "unknown_editor",
            WorkflowError::BadComment { .. } => "bad_comment",
        }
    }
}

/// Who may make a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    AnyEditor,
    Holder,
    /// The holder, or a signer (who may free a draft someone sits on).
    HolderOrSigner,
    Signer,
}

use DraftStatus::{
    Archived, Claimed, New, Purged, Quarantined, Rejected, RevisionRequested, SentForSignoff,
    SignedOff, WithdrawalRequested, Withdrawn,
};

/// Every allowed edge: from, to, action, who, and what happens to the claim.
const EDGES: &[(DraftStatus, DraftStatus, Action, Who, Holder)] = &[
    (
        New,
        Claimed,
        Action::Claim,
        Who::AnyEditor,
        Holder::TakeLease,
    ),
    (New, Rejected, Action::Reject, Who::AnyEditor, Holder::Clear),
    (
        Claimed,
        New,
        Action::Release,
        Who::HolderOrSigner,
        Holder::Clear,
    ),
    (
        Claimed,
        SentForSignoff,
        Action::SendForSignoff,
        Who::Holder,
        Holder::KeepName,
    ),
    (
        Claimed,
        Rejected,
        Action::Reject,
        Who::Holder,
        Holder::Clear,
    ),
    (
        SentForSignoff,
        SignedOff,
        Action::SignOff,
        Who::Signer,
        Holder::KeepName,
    ),
    (
        SentForSignoff,
        Claimed,
        Action::Return,
        Who::Signer,
        Holder::RenewLease,
    ),
    (
        SentForSignoff,
        Rejected,
        Action::Reject,
        Who::Signer,
        Holder::Clear,
    ),
    (
        SignedOff,
        Archived,
        Action::Archive,
        Who::AnyEditor,
        Holder::KeepName,
    ),
    (
        Rejected,
        Archived,
        Action::Archive,
        Who::AnyEditor,
        Holder::Clear,
    ),
    (Rejected, New, Action::Reopen, Who::AnyEditor, Holder::Clear),
    (
        Quarantined,
        New,
        Action::ReleaseFromQuarantine,
        Who::AnyEditor,
        Holder::Clear,
    ),
    (
        Quarantined,
        Rejected,
        Action::Reject,
        Who::AnyEditor,
        Holder::Clear,
    ),
    (
        Claimed,
        RevisionRequested,
        Action::RequestRevision,
        Who::Holder,
        Holder::KeepName,
    ),
    (
        SentForSignoff,
        RevisionRequested,
        Action::RequestRevision,
        Who::Signer,
        Holder::KeepName,
    ),
    // The contributor never sent the revision, or sent it another way.
    (
        RevisionRequested,
        New,
        Action::Reopen,
        Who::AnyEditor,
        Holder::Clear,
    ),
    (
        RevisionRequested,
        Rejected,
        Action::Reject,
        Who::AnyEditor,
        Holder::Clear,
    ),
    (
        WithdrawalRequested,
        Withdrawn,
        Action::ConfirmWithdrawal,
        Who::AnyEditor,
        Holder::Clear,
    ),
    // The request was a misunderstanding: the draft goes on.
    (
        WithdrawalRequested,
        New,
        Action::Reopen,
        Who::AnyEditor,
        Holder::Clear,
    ),
    (
        Withdrawn,
        Archived,
        Action::Archive,
        Who::AnyEditor,
        Holder::Clear,
    ),
];

/// The statuses a draft in `from` can be moved to by someone.
pub fn next_statuses(from: DraftStatus) -> Vec<DraftStatus> {
    EDGES
        .iter()
        .filter(|edge| edge.0 == from)
        .map(|edge| edge.1)
        .collect()
}

/// The action that moves a draft from `from` to `to`, if any does.
pub fn action_for(from: DraftStatus, to: DraftStatus) -> Option<Action> {
    EDGES
        .iter()
        .find(|edge| edge.0 == from && edge.1 == to)
        .map(|edge| edge.2)
}

/// Checks that `actor` may move a draft from its current state to `to`.
/// A claim whose lease ran out is expected to have been put back to `new`
/// before this is asked.
pub fn decide(
    current: &Current<'_>,
    to: DraftStatus,
    actor: &Actor,
) -> Result<Transition, WorkflowError> {
    let from = current.status;
    let Some(&(_, _, action, who, holder)) =
        EDGES.iter().find(|edge| edge.0 == from && edge.1 == to)
    else {
        let allowed = next_statuses(from);
        return Err(WorkflowError::InvalidTransition {
            from: from.as_str(),
            to: to.as_str(),
            allowed: if allowed.is_empty() {
                "nowhere".into()
            } else {
                allowed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        });
    };
    match who {
        Who::AnyEditor => {}
        Who::HolderOrSigner if actor.role == Role::Signer => {}
        Who::Holder | Who::HolderOrSigner => {
            let holder = current.claimed_by.unwrap_or("nobody");
            if holder != actor.name {
                return Err(WorkflowError::NotHolder {
                    holder: holder.to_string(),
                    actor: actor.name.clone(),
                });
            }
        }
        Who::Signer => {
            if actor.role != Role::Signer {
                return Err(WorkflowError::SignerOnly {
                    what: match action {
                        Action::SignOff => "sign off",
                        Action::Return => "send a draft back",
                        Action::RequestRevision => {
                            "ask for a revision of a draft sent for sign-off"
                        }
                        _ => "reject a draft sent for sign-off",
                    },
                    actor: actor.name.clone(),
                });
            }
        }
    }
    Ok(Transition {
        action,
        from,
        to,
        holder,
    })
}

/// Editing title and notes: only the holder of a claimed draft.
pub fn may_edit(current: &Current<'_>, actor: &Actor) -> Result<(), WorkflowError> {
    match (current.status, current.claimed_by) {
        (Claimed, Some(holder)) if holder == actor.name => Ok(()),
        (Claimed, Some(holder)) => Err(WorkflowError::NotHolder {
            holder: holder.to_string(),
            actor: actor.name.clone(),
        }),
        _ => Err(WorkflowError::NotHolder {
            holder: "nobody".into(),
            actor: actor.name.clone(),
        }),
    }
}

/// Withdrawal deletes a submission for good: a signer's decision, from any
/// state but `purged`.
pub fn may_purge(status: DraftStatus, actor: &Actor) -> Result<(), WorkflowError> {
    if status == Purged {
        return Err(WorkflowError::InvalidTransition {
            from: Purged.as_str(),
            to: Purged.as_str(),
            allowed: "nowhere".into(),
        });
    }
    if actor.role != Role::Signer {
        return Err(WorkflowError::SignerOnly {
            what: "purge a submission",
            actor: actor.name.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
