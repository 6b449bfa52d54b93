//! The `drafts` subcommands: reading the queue, and changing a draft as a
//! named editor.

use std::path::PathBuf;

use clap::Subcommand;

use crate::store::DraftKey;

#[derive(Debug, Subcommand)]
pub enum DraftsCommand {
    /// List drafts, oldest first unless sorted otherwise.
    List {
        /// A status, `open` (awaiting a decision) or `all`.
        #[arg(long)]
        status: Option<crate::store::StatusView>,
        /// `people` (submissions) or `automated` (auto-replies, bounces, lists).
        #[arg(long)]
        mail: Option<crate::store::MailKind>,
        /// Drafts held by this editor, or `nobody` for the unclaimed.
        #[arg(long)]
        holder: Option<crate::store::Holder>,
        /// received, title, sender, status, length or waiting.
        #[arg(long)]
        sort: Option<crate::store::SortKey>,
        /// Largest, latest or longest-waiting first.
        #[arg(long)]
        desc: bool,
        /// Page N of `--limit` drafts (50 unless given).
        #[arg(long, value_name = "N")]
        page: Option<u32>,
        #[arg(long)]
        mailbox: Option<String>,
        /// Substring of the sender's address.
        #[arg(long)]
        sender: Option<String>,
        /// Substring of subject, body, an attachment name or the text of an
        /// attached document.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        /// Only drafts with contributor mail no editor has seen.
        #[arg(long)]
        new_mail: bool,
        /// Only drafts with no decision by the end of the processing period.
        #[arg(long)]
        overdue: bool,
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Show one draft (by id or reference) with its history.
    Show {
        id: DraftKey,
        #[arg(long)]
        json: bool,
    },
    /// Write the exact raw message to stdout.
    Raw {
        id: DraftKey,
        /// The contributor's later mail N of the thread (see `drafts show`).
        #[arg(long, value_name = "N")]
        mail: Option<u32>,
    },
    /// Write attachment N or PATH (see `drafts show`) to a file or stdout.
    Attachment {
        id: DraftKey,
        /// Its index, or its path such as 2.0 (inside forwarded message 2).
        index: String,
        /// Of the contributor's later mail N of the thread.
        #[arg(long, value_name = "N")]
        mail: Option<u32>,
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a draft as Markdown, HTML or JSON to stdout.
    Export {
        id: DraftKey,
        #[arg(long, default_value = "md")]
        format: crate::export::Format,
    },
    /// Move a draft through the workflow, e.g. `--to sent_for_signoff`.
    Transition {
        id: DraftKey,
        #[arg(long)]
        to: crate::draft::DraftStatus,
        /// Why, for the editors' history.
        #[arg(long)]
        note: Option<String>,
        /// The letter to the contributor as you wrote it: a `Subject:`
        /// line, a blank line, the text (else the template's letter).
        #[arg(long, value_name = "FILE", conflicts_with = "no_letter")]
        letter_file: Option<PathBuf>,
        /// Your note to the author, placed in the template's letter.
        #[arg(long, value_name = "TEXT", conflicts_with = "no_letter")]
        note_to_author: Option<String>,
        /// Decide without writing to the contributor (kept in the history).
        #[arg(long)]
        no_letter: bool,
        #[arg(long = "as", value_name = "EDITOR")]
        actor: String,
    },
    /// Hand a draft to another editor (a signer, or the draft's holder).
    Assign {
        id: DraftKey,
        #[arg(long, value_name = "EDITOR")]
        to: String,
        /// Why, for the editors' history.
        #[arg(long)]
        note: Option<String>,
        #[arg(long = "as", value_name = "EDITOR")]
        actor: String,
    },
    /// Add a comment to the editors' discussion of a draft.
    Comment {
        id: DraftKey,
        #[arg(long)]
        text: String,
        #[arg(long = "as", value_name = "EDITOR")]
        actor: String,
    },
    /// Keep a draft you hold for another lease.
    Renew {
        id: DraftKey,
        #[arg(long = "as", value_name = "EDITOR")]
        actor: String,
    },
    /// Take over a draft whose claim ran out.
    TakeOver {
        id: DraftKey,
        #[arg(long)]
        note: Option<String>,
        #[arg(long = "as", value_name = "EDITOR")]
        actor: String,
    },
    /// Set the editors' title or notes of a draft you hold.
    Edit {
        id: DraftKey,
        /// An empty title goes back to the submitted one.
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        notes: Option<String>,
        #[arg(long = "as", value_name = "EDITOR")]
        actor: String,
    },
    /// Withdrawal: delete a submission's raw message and everything derived
    /// from it for good (signers only); its reference and one event remain.
    Purge {
        id: DraftKey,
        #[arg(long = "as", value_name = "EDITOR")]
        actor: String,
    },
}
