//! `slushpile drafts …`: the queue at a terminal, or as JSON for scripts.

use std::io::Write;

use anyhow::{Context, anyhow};

use super::DraftsCommand;
use crate::config::Config;
use crate::draft::{AttachmentView, DraftView};
use crate::export::printable::for_terminal;
use crate::message::Address;
use crate::store::{DraftFilter, DraftKey, DraftSort, StatusView, Store};

/// Drafts per page when only `--page` is given.
const PAGE: u32 = 50;
use crate::{export, message};

pub async fn run(config: &Config, command: DraftsCommand) -> anyhow::Result<()> {
    let store = crate::daemon::open_store(config).await?;
    let result = dispatch(&store, config, command).await;
    store.close().await;
    result
}

async fn dispatch(store: &Store, config: &Config, command: DraftsCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        DraftsCommand::List {
            status,
            mail,
            holder,
            sort,
            desc,
            page,
            mailbox,
            sender,
            search,
            limit,
            new_mail,
            overdue,
            json,
        } => {
            let period =
                chrono::Duration::from_std(config.general.response_within).unwrap_or_default();
            let page = page.unwrap_or(1).max(1);
            let limit = limit.or((page > 1).then_some(PAGE));
            let mut filter = DraftFilter {
                mail,
                holder,
                mailbox,
                sender,
                text: search,
                unseen_mail: new_mail,
                overdue_before: overdue.then(|| chrono::Utc::now() - period),
                sort: DraftSort {
                    key: sort.unwrap_or_default(),
                    descending: desc,
                },
                offset: limit.map_or(0, |n| n.saturating_mul(page - 1)),
                limit,
                ..DraftFilter::default()
            };
            status.unwrap_or(StatusView::All).apply(&mut filter);
            let drafts = store.list_drafts(&filter).await?;
            // The rest of a paged list, for people: scripts read stdout.
            if let Some(limit) = limit {
                let total = store.status_counts(&filter).await?.total(&filter);
                let pages = total.div_ceil(u64::from(limit.max(1))).max(1);
                if pages > 1 {
                    eprintln!("{total} drafts, page {page} of {pages} (--page N for another)");
                }
            }
            if json {
                serde_json::to_writer_pretty(&mut out, &drafts)?;
                writeln!(out)?;
            } else {
                for d in &drafts {
                    writeln!(out, "{}", summary_line(d))?;
                }
            }
        }
        DraftsCommand::Show { id, json } => {
            let draft = find(store, &id).await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &draft)?;
                writeln!(out)?;
            } else {
                write_detail(&mut out, &for_display(&draft))?;
                for event in store.events(draft.id).await? {
                    let line = format!(
                        "  {}  {:<12} {}  {}",
                        event.at.to_rfc3339(),
                        event.kind,
                        event.actor,
                        event.detail
                    );
                    writeln!(out, "{}", for_terminal(&line, false))?;
                }
            }
        }
        DraftsCommand::Raw { id, mail } => {
            let draft = live(store, &id).await?;
            let raw = raw_of(store, &draft, mail).await?;
            out.write_all(&raw)?;
        }
        DraftsCommand::Attachment {
            id,
            index,
            mail,
            output,
        } => {
            let draft = live(store, &id).await?;
            let raw = raw_of(store, &draft, mail).await?;
            let missing =
                || anyhow!("draft {id} has no attachment {index} (see `drafts show {id}`)");
            let listed = match mail {
                None => draft.attachments.iter().find(|a| a.is(&index)),
                Some(n) => draft
                    .thread
                    .iter()
                    .find(|f| f.number == n)
                    .and_then(|f| f.attachments.iter().find(|a| a.is(&index))),
            }
            .ok_or_else(missing)?;
            let (_, bytes) = message::attachment_content(&raw, listed.index).ok_or_else(missing)?;
            match output {
                Some(path) => std::fs::write(&path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => out.write_all(&bytes)?,
            }
        }
        DraftsCommand::Export { id, format } => {
            let draft = live(store, &id).await?;
            let html = store.body_html(draft.id).await?;
            let events = store.events(draft.id).await?;
            let document = crate::export::render(format, &draft, html.as_deref(), &events);
            out.write_all(document.as_bytes())?;
        }
        DraftsCommand::Transition { .. }
        | DraftsCommand::Assign { .. }
        | DraftsCommand::Comment { .. }
        | DraftsCommand::Renew { .. }
        | DraftsCommand::TakeOver { .. }
        | DraftsCommand::Edit { .. }
        | DraftsCommand::Purge { .. } => {
            return Err(anyhow!("changes to a draft are cli::workflow's"));
        }
    }
    out.flush()?;
    Ok(())
}

/// The raw message of the draft, or of its later mail `mail`.
async fn raw_of(store: &Store, draft: &DraftView, mail: Option<u32>) -> anyhow::Result<Vec<u8>> {
    let reference = &draft.reference;
    match mail {
        None => store
            .raw(draft.id)
            .await?
            .ok_or_else(|| anyhow!("draft {reference} has no raw message")),
        Some(n) => store.follow_up_raw(draft.id, n).await?.ok_or_else(|| {
            anyhow!("draft {reference} has no mail {n} (see `drafts show {reference}`)")
        }),
    }
}

pub(super) async fn find(store: &Store, key: &DraftKey) -> anyhow::Result<DraftView> {
    store
        .draft(key)
        .await?
        .ok_or_else(|| anyhow!("no draft {key}"))
}

/// A draft whose submission still exists.
async fn live(store: &Store, key: &DraftKey) -> anyhow::Result<DraftView> {
    let draft = find(store, key).await?;
    if draft.status == crate::draft::DraftStatus::Purged {
        return Err(anyhow!(
            "draft {key} was withdrawn and purged: its message is gone"
        ));
    }
    Ok(draft)
}

/// A draft whose every text is safe to print: what a contributor wrote
/// cannot drive the terminal (escape sequences), split a line, or reorder
/// what is shown (bidi overrides). See `export::printable`.
fn for_display(d: &DraftView) -> DraftView {
    let one = |text: &mut String| *text = for_terminal(text, false).into_owned();
    let many = |text: &mut String| *text = for_terminal(text, true).into_owned();
    let one_opt = |text: &mut Option<String>| text.iter_mut().for_each(one);
    let address = |a: &mut Address| {
        one(&mut a.address);
        one_opt(&mut a.name);
    };
    let attachment = |a: &mut AttachmentView| {
        one_opt(&mut a.filename);
        one(&mut a.content_type);
        one_opt(&mut a.extraction_note);
        a.article_text.iter_mut().for_each(many);
    };
    let mut d = d.clone();
    for text in [&mut d.subject, &mut d.message_id, &mut d.quarantine_reason] {
        one_opt(text);
    }
    one(&mut d.title);
    many(&mut d.body_text);
    d.from.iter_mut().for_each(address);
    d.forwarded_by.iter_mut().for_each(address);
    if let Some(auth) = &mut d.sender_auth {
        one_opt(&mut auth.detail);
    }
    if let Some(ack) = &mut d.ack {
        for text in [&mut ack.reason, &mut ack.error, &mut ack.to] {
            one_opt(text);
        }
    }
    d.attachments.iter_mut().for_each(attachment);
    for f in &mut d.forwarded {
        f.from.iter_mut().for_each(address);
        one_opt(&mut f.subject);
        many(&mut f.body_text);
    }
    for f in &mut d.thread {
        f.from.iter_mut().for_each(address);
        one_opt(&mut f.subject);
        many(&mut f.body_text);
        f.attachments.iter_mut().for_each(attachment);
    }
    for l in &mut d.letters {
        for text in [&mut l.reason, &mut l.to] {
            one_opt(text);
        }
    }
    d
}

pub(super) fn summary_line(d: &DraftView) -> String {
    let d = &for_display(d);
    let from = d.from.as_ref().map_or("", |a| a.address.as_str());
    let title = if d.title.is_empty() {
        "(no subject)"
    } else {
        d.title.as_str()
    };
    format!(
        "{}  {:<16}  {}  {:<30}  {}",
        d.reference,
        d.status.as_str(),
        d.received_at.format("%Y-%m-%d %H:%M"),
        from,
        title
    )
}

fn write_detail(out: &mut impl Write, d: &DraftView) -> std::io::Result<()> {
    writeln!(out, "reference:      {} (id {})", d.reference, d.id)?;
    writeln!(out, "status:         {}", d.status.as_str())?;
    if let Some(reason) = &d.quarantine_reason {
        writeln!(out, "quarantined:    {reason}")?;
    }
    writeln!(out, "mailbox:        {}", d.mailbox)?;
    if let Some(from) = &d.from {
        writeln!(
            out,
            "from:           {} <{}>",
            from.name.as_deref().unwrap_or(""),
            from.address
        )?;
    }
    writeln!(
        out,
        "subject:        {}",
        d.subject.as_deref().unwrap_or("")
    )?;
    writeln!(out, "title:          {}", d.title)?;
    writeln!(out, "received:       {}", d.received_at.to_rfc3339())?;
    writeln!(
        out,
        "message-id:     {}",
        d.message_id.as_deref().unwrap_or("")
    )?;
    writeln!(out, "classification: {}", d.classification.as_str())?;
    if let Some(auth) = &d.sender_auth {
        let show = |r: &Option<String>| r.clone().unwrap_or_else(|| "none".into());
        writeln!(
            out,
            "sender auth:    dmarc={} dkim={} spf={} ({})",
            show(&auth.dmarc),
            show(&auth.dkim),
            show(&auth.spf),
            auth.authserv_id
        )?;
        if let Some(detail) = &auth.detail {
            writeln!(out, "                {detail}")?;
        }
    }
    if let Some(ack) = &d.ack {
        let detail = ack.reason.as_deref().or(ack.error.as_deref()).unwrap_or("");
        writeln!(
            out,
            "acknowledgement: {} {} {detail}",
            ack.state,
            ack.to.as_deref().unwrap_or("")
        )?;
    }
    if let Some(editor) = &d.forwarded_by {
        writeln!(out, "forwarded by:   {}", export::sender_line(editor))?;
    }
    for f in &d.forwarded {
        writeln!(
            out,
            "forwarded {}:    {} · {} · {}",
            f.path,
            f.from.as_ref().map(export::sender_line).unwrap_or_default(),
            f.date.map(|t| t.to_rfc3339()).unwrap_or_default(),
            f.subject.as_deref().unwrap_or("")
        )?;
    }
    for a in &d.attachments {
        writeln!(
            out,
            "attachment {} ({}):   {} ({}, {} bytes){}",
            a.index,
            a.path,
            a.filename.as_deref().unwrap_or("(unnamed)"),
            a.content_type,
            a.size,
            if a.incomplete {
                ", may be incomplete"
            } else {
                ""
            }
        )?;
        if let Some(note) = &a.extraction_note {
            writeln!(out, "  {note}")?;
        }
    }
    writeln!(out, "\n{}\n", d.body_text)?;
    for a in &d.attachments {
        if let Some(text) = &a.article_text {
            let name = a.filename.as_deref().unwrap_or("(unnamed)");
            writeln!(
                out,
                "article in attachment {} ({name}):\n\n{text}\n",
                a.path
            )?;
        }
    }
    for f in &d.thread {
        writeln!(
            out,
            "mail {} from {} · {} · {}{}",
            f.number,
            f.from.as_ref().map(export::sender_line).unwrap_or_default(),
            f.received_at.to_rfc3339(),
            f.intent.as_str(),
            if d.unseen_mail && f.number as usize == d.thread.len() {
                " · new"
            } else {
                ""
            }
        )?;
        writeln!(out, "  subject: {}", f.subject.as_deref().unwrap_or(""))?;
        for a in &f.attachments {
            writeln!(
                out,
                "  attachment {} ({}): {} ({} bytes)",
                a.index,
                a.path,
                a.filename.as_deref().unwrap_or("(unnamed)"),
                a.size
            )?;
        }
        writeln!(out, "\n{}\n", f.body_text)?;
        for a in &f.attachments {
            if let Some(text) = &a.article_text {
                let version = f
                    .article_version
                    .map(|v| format!(", version {v}"))
                    .unwrap_or_default();
                let name = a.filename.as_deref().unwrap_or("(unnamed)");
                writeln!(out, "  article in {name}{version}:\n\n{text}\n")?;
            }
        }
    }
    for l in &d.letters {
        writeln!(
            out,
            "letter {} {}: {} to {} by {}{}",
            l.id,
            l.kind.as_str(),
            l.state,
            l.to.as_deref().unwrap_or("nobody"),
            l.author,
            l.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "history:")
}
