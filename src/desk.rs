//! Who works on a draft, beside the workflow's moves between statuses:
//! assigning it to a named editor (or passing it on), renewing a claim
//! before it runs out, and taking over a claim that ran out. Pure, like
//! `workflow::decide`: the store asks before it changes the holder, and
//! the page and CLI ask to know which buttons to offer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::draft::DraftStatus;
use crate::workflow::{Actor, Role, WorkflowError};

/// A change of holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum HoldChange {
    /// To this editor: a signer may assign any open draft not yet sent for
    /// sign-off; its holder may pass it on.
    Assign { to: String },
    /// The holder keeps it for another lease.
    Renew,
    /// Another editor takes a claim whose lease ran out.
    TakeOver,
}

impl HoldChange {
    /// The event kind recorded for it.
    pub fn event_kind(&self) -> &'static str {
        match self {
            HoldChange::Assign { .. } => "assigned",
            HoldChange::Renew => "renewed",
            HoldChange::TakeOver => "taken_over",
        }
    }
}

/// What the desk needs to know of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold<'a> {
    pub status: DraftStatus,
    pub holder: Option<&'a str>,
    pub lease_until: Option<DateTime<Utc>>,
}

impl Hold<'_> {
    fn lapsed(&self, now: DateTime<Utc>) -> bool {
        self.status == DraftStatus::Claimed && self.lease_until.is_some_and(|until| until <= now)
    }
}

/// Who holds the draft after `change`, if `actor` may make it now.
/// Assigning to someone who is not an active editor is the store's to
/// refuse (it knows the editors).
pub fn decide_hold(
    hold: &Hold<'_>,
    change: &HoldChange,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<String, WorkflowError> {
    let holder = hold.holder.unwrap_or("nobody");
    let is_holder = hold.status == DraftStatus::Claimed && holder == actor.name;
    match change {
        HoldChange::Assign { to } => {
            if !matches!(hold.status, DraftStatus::New | DraftStatus::Claimed) {
                return Err(WorkflowError::NotAssignable {
                    status: hold.status.as_str(),
                });
            }
            if actor.role != Role::Signer && !is_holder {
                return Err(WorkflowError::SignerOnly {
                    what: "assign a draft someone else holds",
                    actor: actor.name.clone(),
                });
            }
            Ok(to.clone())
        }
        HoldChange::Renew if is_holder => Ok(actor.name.clone()),
        HoldChange::Renew => Err(WorkflowError::NotHolder {
            holder: holder.into(),
            actor: actor.name.clone(),
        }),
        HoldChange::TakeOver if hold.lapsed(now) && !is_holder => Ok(actor.name.clone()),
        HoldChange::TakeOver if is_holder => Err(WorkflowError::NotHolder {
            holder: "nobody".into(),
            actor: actor.name.clone(),
        }),
        HoldChange::TakeOver => Err(WorkflowError::StillHeld {
            holder: holder.into(),
        }),
    }
}

/// The longest comment kept, in characters: a discussion, not a document.
pub const MAX_COMMENT_CHARS: usize = 10_000;

/// The editors' discussion of a draft is append-only; anything but a
/// purged draft (whose history is gone) takes a comment that says something.
pub fn may_comment(status: DraftStatus, text: &str) -> Result<(), WorkflowError> {
    if status == DraftStatus::Purged {
        return Err(WorkflowError::InvalidTransition {
            from: "purged",
            to: "purged",
            allowed: "nowhere".into(),
        });
    }
    let length = text.trim().chars().count();
    if length == 0 || length > MAX_COMMENT_CHARS {
        return Err(WorkflowError::BadComment {
            max: MAX_COMMENT_CHARS,
        });
    }
    Ok(())
}

/// The changes `actor` may make now, for the buttons to offer.
pub fn offered(hold: &Hold<'_>, actor: &Actor, now: DateTime<Utc>) -> Vec<HoldChange> {
    [
        HoldChange::Assign { to: String::new() },
        HoldChange::Renew,
        HoldChange::TakeOver,
    ]
    .into_iter()
    .filter(|change| decide_hold(hold, change, actor, now).is_ok())
    .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn actor(name: &str, role: Role) -> Actor {
        Actor {
            name: name.into(),
            role,
        }
    }

    #[test]
    fn signers_assign_holders_pass_on_others_may_not() {
        let now = Utc::now();
        let li_holds = Hold {
            status: DraftStatus::Claimed,
            holder: Some("li"),
            lease_until: Some(now + Duration::hours(1)),
        };
        let to_zhao = HoldChange::Assign { to: "zhao".into() };
        let (li, zhao, wang) = (
            actor("li", Role::Editor),
            actor("zhao", Role::Editor),
            actor("wang", Role::Signer),
        );
        assert_eq!(
            decide_hold(&li_holds, &to_zhao, &li, now),
            Ok("zhao".into())
        );
        assert_eq!(
            decide_hold(&li_holds, &to_zhao, &wang, now),
            Ok("zhao".into())
        );
        assert!(matches!(
            decide_hold(&li_holds, &to_zhao, &zhao, now),
            Err(WorkflowError::SignerOnly { .. })
        ));
        let unclaimed = Hold {
            status: DraftStatus::New,
            holder: None,
            lease_until: None,
        };
        assert_eq!(
            decide_hold(&unclaimed, &to_zhao, &wang, now),
            Ok("zhao".into())
        );
        assert!(decide_hold(&unclaimed, &to_zhao, &li, now).is_err());
        let sent = Hold {
            status: DraftStatus::SentForSignoff,
            ..li_holds
        };
        assert_eq!(
            decide_hold(&sent, &to_zhao, &wang, now),
            Err(WorkflowError::NotAssignable {
                status: "sent_for_signoff"
            })
        );
    }

    #[test]
    fn comments_say_something_within_bounds_and_never_on_a_purged_draft() {
        assert!(may_comment(DraftStatus::SignedOff, "好稿").is_ok());
        assert!(may_comment(DraftStatus::New, "  \n").is_err());
        assert!(may_comment(DraftStatus::New, &"字".repeat(MAX_COMMENT_CHARS + 1)).is_err());
        assert!(may_comment(DraftStatus::Purged, "好稿").is_err());
    }

    #[test]
    fn only_the_holder_renews_and_only_a_lapsed_claim_is_taken_over() {
        let now = Utc::now();
        let live = Hold {
            status: DraftStatus::Claimed,
            holder: Some("li"),
            lease_until: Some(now + Duration::minutes(5)),
        };
        let lapsed = Hold {
            lease_until: Some(now - Duration::minutes(5)),
            ..live
        };
        let (li, zhao) = (actor("li", Role::Editor), actor("zhao", Role::Editor));
        assert_eq!(
            decide_hold(&live, &HoldChange::Renew, &li, now),
            Ok("li".into())
        );
        assert!(decide_hold(&live, &HoldChange::Renew, &zhao, now).is_err());
        assert_eq!(
            decide_hold(&live, &HoldChange::TakeOver, &zhao, now),
            Err(WorkflowError::StillHeld {
                holder: "li".into()
            })
        );
        assert_eq!(
            decide_hold(&lapsed, &HoldChange::TakeOver, &zhao, now),
            Ok("zhao".into())
        );
        assert_eq!(offered(&lapsed, &zhao, now), vec![HoldChange::TakeOver]);
        assert_eq!(
            offered(&live, &li, now),
            vec![HoldChange::Assign { to: String::new() }, HoldChange::Renew]
        );
    }
}
