//! `queue claim`, `drafts transition | assign | renew | take-over | comment
//! | edit | purge`: the workflow at a
//! terminal on the server, through the same store calls (and so the same
//! state machine) as the API, acting as a named editor.

use std::io::Write;

use anyhow::anyhow;
use chrono::Utc;

use super::{DraftsCommand, QueueCommand};
use crate::config::Config;
use crate::desk::HoldChange;
use crate::draft::DraftView;
use crate::store::{DraftKey, LetterPlan, Store};
use crate::workflow::Actor;

pub async fn queue(config: &Config, command: QueueCommand) -> anyhow::Result<()> {
    let store = crate::daemon::open_store(config).await?;
    let result = match command {
        QueueCommand::Claim { actor, limit, json } => {
            claim(&store, config, &actor, limit, json).await
        }
    };
    store.close().await;
    result
}

async fn claim(
    store: &Store,
    config: &Config,
    actor: &str,
    limit: u32,
    json: bool,
) -> anyhow::Result<()> {
    let actor = editor(store, actor).await?;
    let drafts = store
        .claim(&actor, limit, config.general.claim_lease, Utc::now())
        .await?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &drafts)?;
        writeln!(out)?;
    } else if drafts.is_empty() {
        writeln!(out, "nothing to claim: no unclaimed drafts")?;
    } else {
        for draft in &drafts {
            writeln!(out, "{}", super::drafts::summary_line(draft))?;
        }
    }
    Ok(())
}

/// `drafts transition / edit / purge --as EDITOR`.
pub async fn change(config: &Config, command: DraftsCommand) -> anyhow::Result<()> {
    let store = crate::daemon::open_store(config).await?;
    let result = apply(&store, config, command).await;
    store.close().await;
    result
}

async fn apply(store: &Store, config: &Config, command: DraftsCommand) -> anyhow::Result<()> {
    let now = Utc::now();
    let draft = match command {
        DraftsCommand::Transition {
            id,
            to,
            note,
            letter_file,
            note_to_author,
            no_letter,
            actor,
        } => {
            let actor = editor(store, &actor).await?;
            let lease = config.general.claim_lease;
            let (subject, body) = match &letter_file {
                Some(path) => letter_from_file(path)?,
                None => (None, None),
            };
            let plan = LetterPlan {
                enabled: config.ack.as_ref().is_some_and(|a| a.enabled) && config.smtp.is_some(),
                no_letter,
                subject,
                body,
                note: note_to_author,
            };
            store
                .transition(&id, to, &actor, note.as_deref(), &plan, lease, now)
                .await?
        }
        DraftsCommand::Assign {
            id,
            to,
            note,
            actor,
        } => {
            let change = HoldChange::Assign { to };
            hold(store, config, &id, &change, &actor, note.as_deref()).await?
        }
        DraftsCommand::Comment { id, text, actor } => {
            let actor = editor(store, &actor).await?;
            store.comment(&id, &actor, &text, now).await?;
            println!("{id}: comment added");
            return Ok(());
        }
        DraftsCommand::Renew { id, actor } => {
            hold(store, config, &id, &HoldChange::Renew, &actor, None).await?
        }
        DraftsCommand::TakeOver { id, note, actor } => {
            let change = HoldChange::TakeOver;
            hold(store, config, &id, &change, &actor, note.as_deref()).await?
        }
        DraftsCommand::Edit {
            id,
            title,
            notes,
            actor,
        } => {
            let actor = editor(store, &actor).await?;
            store
                .edit(&id, &actor, title.as_deref(), notes.as_deref(), now)
                .await?
        }
        DraftsCommand::Purge { id, actor } => {
            let actor = editor(store, &actor).await?;
            store.purge(&id, &actor, now).await?;
            println!("{id}: purged");
            return Ok(());
        }
        _ => return Err(anyhow!("not a change to a draft")),
    };
    println!("{}", super::drafts::summary_line(&draft));
    Ok(())
}

async fn hold(
    store: &Store,
    config: &Config,
    id: &DraftKey,
    change: &HoldChange,
    actor: &str,
    note: Option<&str>,
) -> anyhow::Result<DraftView> {
    let actor = editor(store, actor).await?;
    let lease = config.general.claim_lease;
    Ok(store
        .change_hold(id, change, &actor, note, lease, Utc::now())
        .await?)
}

/// A letter written for `--letter-file`: `Subject: …`, a blank line, the
/// text (a file without the subject line is all text).
fn letter_from_file(path: &std::path::Path) -> anyhow::Result<(Option<String>, Option<String>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("cannot read the letter {}: {e}", path.display()))?
        .replace("\r\n", "\n");
    let (subject, body) = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("Subject:") => (
            Some(first.trim_start_matches("Subject:").trim().to_string()),
            rest.trim_start_matches('\n').to_string(),
        ),
        _ => (None, text),
    };
    let body = body.trim_end().to_string();
    if body.is_empty() {
        return Err(anyhow!("the letter {} has no text", path.display()));
    }
    Ok((subject.filter(|s| !s.is_empty()), Some(body)))
}

/// The active editor `--as` names: the CLI acts with their role and name.
async fn editor(store: &Store, name: &str) -> anyhow::Result<Actor> {
    store
        .editor_named(name)
        .await?
        .ok_or_else(|| anyhow!("no active editor `{name}` (see `slushpile editors list`)"))
}
