//! The store: one backend-neutral interface over sqlx. SQLite is the
//! embedded default, PostgreSQL the production and multi-instance backend.
//! Both run the same SQL (`sql/`, compiled once per backend); callers see
//! domain types only.

// sql/ is compiled once per backend on purpose: one SQL source, two typed engines.
mod ack_plan;
pub mod backup;
pub mod copy;
mod error;
mod listing;
pub mod packs;
#[allow(clippy::duplicate_mod)]
mod postgres;
#[allow(clippy::duplicate_mod)]
mod sqlite;
pub mod statistics;
mod types;

use chrono_tz::Tz;

pub use ack_plan::{AckPlan, Decision, OutboxLimits, Recipient, letter_reasons};
pub use error::{Result, StoreError};
pub use listing::{
    DraftCursor, DraftFilter, DraftSort, Holder, MailKind, SortKey, StatusCounts, StatusView,
};
pub use types::{
    ChangeError, DraftKey, DueAck, DueLetter, EditorError, EditorView, ExtractionOf, FollowUpClaim,
    Incoming, IngestOutcome, LetterPlan, MailboxProgress, PendingExtraction, RawContent,
    ReparseReport, SeenAgain, Session, SourceLocation,
};

use crate::draft::{DraftStatus, DraftView, EventView};
use crate::message::{ParseOptions, Parsed};
use crate::workflow::Actor;

/// The file of an SQLite store (None for PostgreSQL), e.g. to tell whether
/// it exists without creating it.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if url.starts_with("sqlite:") {
        sqlite::file_of(url)
    } else {
        None
    }
}

/// A store URL fit for logs: any password replaced by `***`.
pub fn redact(url: &str) -> String {
    postgres::redact(url)
}

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    url: String,
    actor: String,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::Engine),
    Postgres(postgres::Engine),
}

/// Runs the same call on whichever engine is configured.
macro_rules! dispatch {
    ($self:ident, $engine:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($engine) => $call,
            Backend::Postgres($engine) => $call,
        }
    };
}

// After `dispatch!`: they use the macro.
mod editors;
mod outbox;

/// Exclusive right to poll one mailbox. With PostgreSQL it is an advisory
/// lock that dies with its holder; SQLite serves one instance, which always
/// holds it.
pub struct Lease(Option<postgres::PgLease>);

impl Lease {
    /// Still held? Checked before each sync, so an instance that lost its
    /// database session stops touching the mailbox.
    pub async fn is_held(&mut self) -> bool {
        match &mut self.0 {
            Some(lease) => lease.check().await,
            None => true,
        }
    }

    pub async fn release(self) {
        if let Some(lease) = self.0 {
            lease.release().await;
        }
    }
}

impl Store {
    /// Opens (creating an SQLite file when missing) without migrating.
    pub async fn open(url: &str, tz: Tz, actor: impl Into<String>) -> Result<Store> {
        let actor = actor.into();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::open(url, tz, actor.clone()).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::open(url, tz, actor.clone()).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(postgres::redact(url)));
        };
        Ok(Store {
            backend,
            url: url.to_string(),
            actor,
        })
    }

    /// Opens and applies pending migrations: what `run` and `ingest` use.
    pub async fn open_migrated(url: &str, tz: Tz, actor: impl Into<String>) -> Result<Store> {
        let store = Self::open(url, tz, actor).await?;
        // Two processes starting on a new SQLite file (the daemon and an MTA's
        // `ingest`) can race to apply the same migration: the loser reads the
        // list of applied migrations before the winner commits. It sees them
        // applied on a later look, once the winner is done.
        let mut attempt = 0;
        loop {
            match store.migrate().await {
                Ok(()) => {
                    dispatch!(store, e => e.prepare_packs().await)?;
                    return Ok(store);
                }
                Err(e) if attempt >= 20 => return Err(e),
                Err(_) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                }
            }
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        dispatch!(self, e => e.migrate().await)
    }

    /// Re-hashes every raw message against its address (`slushpile verify`);
    /// `progress` hears (messages, bytes, total bytes).
    pub async fn verify(
        &self,
        progress: &mut (dyn FnMut(u64, u64, u64) + Send),
    ) -> Result<backup::VerifyReport> {
        dispatch!(self, e => e.verify(progress).await)
    }

    async fn snapshot_into(&self, path: &std::path::Path) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(e) => e.snapshot_into(path).await,
            Backend::Postgres(_) => Err(StoreError::Invalid(
                "a PostgreSQL store is backed up with pg_dump".into(),
            )),
        }
    }

    pub async fn close(&self) {
        dispatch!(self, e => e.close().await)
    }

    pub async fn pending_migrations(&self) -> Result<usize> {
        dispatch!(self, e => e.pending_migrations().await)
    }

    /// Tries to become the one instance polling `key` (a mailbox name).
    pub async fn try_lease(&self, key: &str) -> Result<Option<Lease>> {
        match self.backend {
            Backend::Sqlite(_) => Ok(Some(Lease(None))),
            Backend::Postgres(_) => Ok(postgres::PgLease::try_acquire(&self.url, key, &self.actor)
                .await?
                .map(|l| Lease(Some(l)))),
        }
    }

    /// Commits every message of a batch, and the mailbox's new position, in
    /// one transaction: after it returns the server may be touched.
    pub async fn commit_batch(
        &self,
        items: &[Incoming],
        progress: Option<(&str, MailboxProgress)>,
    ) -> Result<Vec<IngestOutcome>> {
        dispatch!(self, e => e.commit_batch(items, progress).await)
    }

    /// Records that committed messages were seen again by UID (a crash came
    /// between commit and the server action, which is now being redone).
    pub async fn note_seen_uids(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<()> {
        dispatch!(self, e => e.note_seen_uids(mailbox, uidvalidity, uids).await)
    }

    pub async fn list_drafts(&self, filter: &DraftFilter) -> Result<Vec<DraftView>> {
        dispatch!(self, e => e.list_drafts(filter).await)
    }

    /// Drafts per status under the filter's other conditions: the tabs.
    pub async fn status_counts(&self, filter: &DraftFilter) -> Result<StatusCounts> {
        dispatch!(self, e => e.status_counts(filter).await)
    }

    pub async fn draft(&self, key: &DraftKey) -> Result<Option<DraftView>> {
        dispatch!(self, e => e.draft(key).await)
    }

    /// The exact bytes as received; for a message too big to download, the
    /// header section (the one record without its full raw message).
    pub async fn raw(&self, draft_id: i64) -> Result<Option<Vec<u8>>> {
        dispatch!(self, e => e.raw(draft_id).await)
    }

    pub async fn events(&self, draft_id: i64) -> Result<Vec<EventView>> {
        dispatch!(self, e => e.events(draft_id).await)
    }

    /// Puts every claim whose lease ran out back to `new`, with an event.
    pub async fn expire_leases(&self, now: chrono::DateTime<chrono::Utc>) -> Result<u64> {
        dispatch!(self, e => e.expire_leases(now).await)
    }

    /// Gives `actor` the oldest `limit` unclaimed drafts, held until
    /// `now + lease`; concurrent claimers never get the same draft.
    pub async fn claim(
        &self,
        actor: &Actor,
        limit: u32,
        lease: std::time::Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<DraftView>> {
        dispatch!(self, e => e.claim(actor, limit, lease, now).await)
    }

    /// Moves a draft to `to` if `crate::workflow` lets `actor` do so,
    /// recording who, when, from, to and the note.
    /// `letter`: what the decision writes to the contributor (`LetterPlan`).
    #[allow(clippy::too_many_arguments)]
    pub async fn transition(
        &self,
        key: &DraftKey,
        to: DraftStatus,
        actor: &Actor,
        note: Option<&str>,
        letter: &LetterPlan,
        lease: std::time::Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<DraftView, ChangeError> {
        dispatch!(self, e => e.transition(key, to, actor, note, letter, lease, now).await)
    }

    /// An editor opened the draft: its contributor mail is seen.
    pub async fn mark_mail_seen(&self, draft_id: i64) -> Result<()> {
        dispatch!(self, e => e.mark_mail_seen(draft_id).await)
    }

    /// The raw bytes of a draft's follow-up `number` (1-based).
    pub async fn follow_up_raw(&self, draft_id: i64, number: u32) -> Result<Option<Vec<u8>>> {
        dispatch!(self, e => e.follow_up_raw(draft_id, number).await)
    }

    /// The key of the tags in our Message-IDs (`auth::thread_tag`).
    pub async fn thread_key(&self) -> Result<Vec<u8>> {
        dispatch!(self, e => e.thread_key().await)
    }

    /// Drafts received before `before` still awaiting a decision.
    pub async fn count_overdue(&self, before: chrono::DateTime<chrono::Utc>) -> Result<i64> {
        dispatch!(self, e => e.count_overdue(before).await)
    }

    /// Adds a comment to the editors' discussion of a draft.
    pub async fn comment(
        &self,
        key: &DraftKey,
        actor: &Actor,
        text: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::draft::EventView, ChangeError> {
        dispatch!(self, e => e.comment(key, actor, text, now).await)
    }

    /// Assigns, renews or takes over a draft if `crate::desk` lets `actor`.
    pub async fn change_hold(
        &self,
        key: &DraftKey,
        change: &crate::desk::HoldChange,
        actor: &Actor,
        why: Option<&str>,
        lease: std::time::Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<DraftView, ChangeError> {
        dispatch!(self, e => e.change_hold(key, change, actor, why, lease, now).await)
    }

    /// Editors' title (empty: the submitted one again) and notes, by the holder.
    pub async fn edit(
        &self,
        key: &DraftKey,
        actor: &Actor,
        title: Option<&str>,
        notes: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<DraftView, ChangeError> {
        dispatch!(self, e => e.edit(key, actor, title, notes, now).await)
    }

    /// Withdrawal: deletes the submission and all derived data; one event remains.
    pub async fn purge(
        &self,
        key: &DraftKey,
        actor: &Actor,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ChangeError> {
        dispatch!(self, e => e.purge(key, actor, now).await)
    }

    /// The `[retention]` policy: purges rejected / archived drafts untouched
    /// for longer than given.
    pub async fn purge_expired(
        &self,
        rejected_after: Option<std::time::Duration>,
        archived_after: Option<std::time::Duration>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        dispatch!(self, e => e.purge_expired(rejected_after, archived_after, now).await)
    }

    /// The HTML body, sanitized at ingestion (`message::html::sanitize`):
    /// show it through `export::display_html`.
    pub async fn body_html(&self, draft_id: i64) -> Result<Option<String>> {
        dispatch!(self, e => e.body_html(draft_id).await)
    }

    pub async fn mailbox_progress(&self, mailbox: &str) -> Result<Option<MailboxProgress>> {
        dispatch!(self, e => e.mailbox_progress(mailbox).await)
    }

    /// Of `uids`, those already committed for this mailbox and UIDVALIDITY.
    pub async fn known_uids(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<Vec<u32>> {
        dispatch!(self, e => e.known_uids(mailbox, uidvalidity, uids).await)
    }

    /// Of `hashes` (hex sha256), those whose raw message is stored.
    pub async fn known_raws(&self, hashes: &[String]) -> Result<Vec<String>> {
        dispatch!(self, e => e.known_raws(hashes).await)
    }

    /// Drafts per status, for metrics.
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        dispatch!(self, e => e.count_by_status().await)
    }

    /// The desk's figures for the last weeks (`statistics::WEEKS`).
    pub async fn statistics(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        overdue_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<statistics::Statistics> {
        dispatch!(self, e => e.statistics(now, overdue_before).await)
    }

    /// Moves whenever anything changes: the newest history event.
    pub async fn change_marker(&self) -> Result<i64> {
        dispatch!(self, e => e.change_marker().await)
    }

    pub async fn count_drafts(&self) -> Result<i64> {
        dispatch!(self, e => e.count_drafts().await)
    }

    /// The oldest message whose documents are still to be read, if any.
    pub async fn next_pending_extraction(&self) -> Result<Option<PendingExtraction>> {
        dispatch!(self, e => e.next_pending_extraction().await)
    }

    /// Stores what reading all of a pending message's documents gave.
    pub async fn finish_extraction(&self, of: ExtractionOf, parsed: &Parsed) -> Result<()> {
        dispatch!(self, e => e.finish_extraction(of, parsed).await)
    }

    /// Re-parses every stored message; status, events and identity are kept.
    pub async fn reparse(&self, options: &ParseOptions) -> Result<ReparseReport> {
        dispatch!(self, e => e.reparse(options).await)
    }

    pub fn time_zone(&self) -> Tz {
        dispatch!(self, e => e.time_zone())
    }

    pub async fn count_rows(&self, table: &copy::TableSpec) -> Result<i64> {
        dispatch!(self, e => e.count_rows(table).await)
    }

    pub async fn export_page(
        &self,
        table: &copy::TableSpec,
        after: Option<&[copy::Value]>,
        limit: i64,
    ) -> Result<Vec<Vec<copy::Value>>> {
        dispatch!(self, e => e.export_page(table, after, limit).await)
    }

    pub async fn import_rows(
        &self,
        table: &copy::TableSpec,
        rows: &[Vec<copy::Value>],
    ) -> Result<()> {
        dispatch!(self, e => e.import_rows(table, rows).await)
    }

    pub async fn after_import(&self) -> Result<()> {
        dispatch!(self, e => e.after_import().await)
    }
}
