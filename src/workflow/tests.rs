use super::*;

fn editor(name: &str) -> Actor {
    Actor {
        name: name.into(),
        role: Role::Editor,
    }
}

fn signer(name: &str) -> Actor {
    Actor {
        name: name.into(),
        role: Role::Signer,
    }
}

fn at(status: DraftStatus, claimed_by: Option<&str>) -> Current<'_> {
    Current { status, claimed_by }
}

#[test]
fn the_publication_workflow_runs_from_new_to_signed_off() {
    let li = editor("li");
    let wang = signer("wang");
    let claim = decide(&at(New, None), Claimed, &li).unwrap();
    assert_eq!(
        (claim.action, claim.holder),
        (Action::Claim, Holder::TakeLease)
    );
    let send = decide(&at(Claimed, Some("li")), SentForSignoff, &li).unwrap();
    assert_eq!(
        (send.action, send.holder),
        (Action::SendForSignoff, Holder::KeepName)
    );
    let sign = decide(&at(SentForSignoff, Some("li")), SignedOff, &wang).unwrap();
    assert_eq!(sign.action, Action::SignOff);
    let archive = decide(&at(SignedOff, Some("li")), Archived, &li).unwrap();
    assert_eq!(archive.action, Action::Archive);
}

#[test]
fn only_a_signer_signs_off_returns_or_rejects_what_was_sent() {
    let li = editor("li");
    for to in [SignedOff, Claimed, Rejected] {
        let refused = decide(&at(SentForSignoff, Some("li")), to, &li).unwrap_err();
        assert_eq!(refused.code(), "signer_required", "{to:?}");
        assert!(refused.to_string().contains("li is an editor"), "{refused}");
    }
    let back = decide(&at(SentForSignoff, Some("li")), Claimed, &signer("wang")).unwrap();
    assert_eq!(
        (back.action, back.holder),
        (Action::Return, Holder::RenewLease)
    );
}

#[test]
fn only_the_holder_sends_or_rejects_a_claimed_draft_and_a_signer_may_free_it() {
    for to in [SentForSignoff, Rejected] {
        let refused = decide(&at(Claimed, Some("li")), to, &signer("wang")).unwrap_err();
        assert_eq!(
            refused,
            WorkflowError::NotHolder {
                holder: "li".into(),
                actor: "wang".into()
            }
        );
        assert!(decide(&at(Claimed, Some("li")), to, &editor("li")).is_ok());
    }
    // Releasing: the holder, or a signer freeing a draft someone sits on.
    assert!(decide(&at(Claimed, Some("li")), New, &editor("li")).is_ok());
    assert!(decide(&at(Claimed, Some("li")), New, &signer("wang")).is_ok());
    assert_eq!(
        decide(&at(Claimed, Some("li")), New, &editor("zhao")).unwrap_err(),
        WorkflowError::NotHolder {
            holder: "li".into(),
            actor: "zhao".into()
        }
    );
}

#[test]
fn invalid_transitions_are_refused_naming_what_is_allowed() {
    let li = editor("li");
    let refused = decide(&at(New, None), SignedOff, &li).unwrap_err();
    assert_eq!(refused.code(), "invalid_transition");
    assert_eq!(
        refused.to_string(),
        "a draft cannot go from new to signed_off; from new it can go to claimed, rejected"
    );
    // A claimed draft cannot be claimed again, not even by its holder.
    assert!(decide(&at(Claimed, Some("li")), Claimed, &li).is_err());
    // Nothing leaves purged, and nothing but purge reaches it.
    for status in DraftStatus::ALL {
        assert!(decide(&at(Purged, None), status, &signer("wang")).is_err());
        assert!(decide(&at(status, Some("li")), Purged, &signer("wang")).is_err());
    }
    let archived = decide(&at(Archived, None), New, &li).unwrap_err();
    assert!(archived.to_string().ends_with("it can go to nowhere"));
}

#[test]
fn quarantine_is_left_by_release_or_rejection() {
    let li = editor("li");
    let release = decide(&at(Quarantined, None), New, &li).unwrap();
    assert_eq!(release.action, Action::ReleaseFromQuarantine);
    assert_eq!(release.action.event_kind(), "released");
    assert!(decide(&at(Quarantined, None), Rejected, &li).is_ok());
    assert!(decide(&at(Quarantined, None), Claimed, &li).is_err());
}

#[test]
fn every_status_but_purged_has_somewhere_to_go_or_is_final() {
    // Archived is the only other end state: everything else moves on.
    for status in DraftStatus::ALL {
        let next = next_statuses(status);
        let is_end = matches!(status, Archived | Purged);
        assert_eq!(next.is_empty(), is_end, "{status:?} → {next:?}");
    }
}

#[test]
fn editing_needs_the_claim() {
    assert!(may_edit(&at(Claimed, Some("li")), &editor("li")).is_ok());
    assert_eq!(
        may_edit(&at(Claimed, Some("li")), &editor("zhao"))
            .unwrap_err()
            .code(),
        "not_holder"
    );
    assert!(may_edit(&at(New, None), &editor("li")).is_err());
    assert!(may_edit(&at(SentForSignoff, Some("li")), &editor("li")).is_err());
}

#[test]
fn purging_is_for_signers_and_happens_once() {
    assert!(may_purge(Rejected, &signer("wang")).is_ok());
    assert_eq!(
        may_purge(New, &editor("li")).unwrap_err().code(),
        "signer_required"
    );
    assert!(may_purge(Purged, &signer("wang")).is_err());
}

#[test]
fn roles_parse_from_their_names() {
    assert_eq!("signer".parse::<Role>(), Ok(Role::Signer));
    assert!(
        "admin"
            .parse::<Role>()
            .unwrap_err()
            .contains("editor or signer")
    );
}

#[test]
fn revision_and_withdrawal_are_decided_by_the_right_people() {
    let (li, zhao, wang) = (editor("li"), editor("zhao"), signer("wang"));
    let revise = decide(&at(Claimed, Some("li")), RevisionRequested, &li).unwrap();
    assert_eq!(revise.action, Action::RequestRevision);
    assert!(decide(&at(Claimed, Some("li")), RevisionRequested, &zhao).is_err());
    // Once sent for sign-off, only a signer asks for a revision.
    assert!(decide(&at(SentForSignoff, Some("li")), RevisionRequested, &li).is_err());
    assert!(decide(&at(SentForSignoff, Some("li")), RevisionRequested, &wang).is_ok());
    // Any editor confirms a withdrawal the contributor asked for, or
    // puts the draft back when it was a misunderstanding.
    let confirm = decide(&at(WithdrawalRequested, None), Withdrawn, &zhao).unwrap();
    assert_eq!(confirm.action.event_kind(), "withdrawn");
    assert!(decide(&at(WithdrawalRequested, None), New, &zhao).is_ok());
    assert!(decide(&at(Withdrawn, None), New, &zhao).is_err());
}
