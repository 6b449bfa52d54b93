//! How a list of drafts is narrowed, ordered and paged, and the counts
//! the queue's tabs show.

use chrono::{DateTime, Utc};

use crate::draft::DraftStatus;

/// Which drafts to list, in which order, which page. Every condition
/// narrows the list; by default all of them, oldest first.
#[derive(Debug, Clone, Default)]
pub struct DraftFilter {
    pub status: Option<DraftStatus>,
    /// Only the open work: drafts awaiting a decision
    /// (`DraftStatus::awaits_decision`).
    pub open: bool,
    /// People's mail, or automated mail (auto-replies, bounces, lists).
    pub mail: Option<MailKind>,
    /// Who holds the claim.
    pub holder: Option<Holder>,
    pub mailbox: Option<String>,
    /// Substring of the sender's address, any case.
    pub sender: Option<String>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
    /// Only drafts with contributor mail no editor has seen (有新來信).
    pub unseen_mail: bool,
    /// Only drafts still awaiting a decision that were received before
    /// this (the end of the processing period): overdue ones.
    pub overdue_before: Option<DateTime<Utc>>,
    /// Substring of subject, body or an attachment name, any case: a
    /// two-character Chinese query matches like any other.
    pub text: Option<String>,
    pub sort: DraftSort,
    /// Continue after this draft (see `DraftCursor`): the default order only.
    pub after: Option<DraftCursor>,
    /// Rows to skip: page numbers.
    pub offset: u32,
    pub limit: Option<u32>,
}

/// What the status tabs, the API's `status` and the CLI's `--status`
/// take: every status, the open work, or one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusView {
    All,
    Open,
    Only(DraftStatus),
}

impl StatusView {
    /// The filter's status conditions for this view.
    pub fn apply(self, filter: &mut DraftFilter) {
        (filter.status, filter.open) = match self {
            StatusView::All => (None, false),
            StatusView::Open => (None, true),
            StatusView::Only(status) => (Some(status), false),
        };
    }
}

impl std::str::FromStr for StatusView {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "all" => Ok(StatusView::All),
            "open" => Ok(StatusView::Open),
            _ => text
                .parse()
                .map(StatusView::Only)
                .map_err(|e| format!("{e}; or open, all")),
        }
    }
}

/// Whose mail a draft is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// Written by a person (`Classification::Normal`).
    People,
    /// Auto-replies, bounces and list mail: never claimed by "the oldest".
    Automated,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::People => "people",
            MailKind::Automated => "automated",
        }
    }
}

impl std::str::FromStr for MailKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "people" => Ok(MailKind::People),
            "automated" => Ok(MailKind::Automated),
            _ => Err(format!("expected people or automated, not `{text}`")),
        }
    }
}

/// Whose claim a draft is under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Editor(String),
    /// Unclaimed: nobody is working on it.
    Nobody,
}

impl std::str::FromStr for Holder {
    type Err = String;

    /// `nobody`, or an editor's name.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "" => Err("expected an editor's name or nobody".into()),
            "nobody" => Ok(Holder::Nobody),
            name => Ok(Holder::Editor(name.to_string())),
        }
    }
}

/// What a list is ordered by; ties go by id, so the order is total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Received,
    Title,
    Sender,
    /// The workflow's order: new, claimed, sent for sign-off…
    Status,
    /// Characters of the article, whitespace not counted (字數).
    Length,
    /// Time in the current status: ascending is the shortest wait first.
    Waiting,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::Received,
        SortKey::Title,
        SortKey::Sender,
        SortKey::Status,
        SortKey::Length,
        SortKey::Waiting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Received => "received",
            SortKey::Title => "title",
            SortKey::Sender => "sender",
            SortKey::Status => "status",
            SortKey::Length => "length",
            SortKey::Waiting => "waiting",
        }
    }
}

impl std::str::FromStr for SortKey {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        SortKey::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = SortKey::ALL.iter().map(|k| k.as_str()).collect();
                format!("expected one of {}, not `{text}`", names.join(", "))
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DraftSort {
    pub key: SortKey,
    pub descending: bool,
}

impl DraftSort {
    /// The queue's own order, the only one a cursor can continue.
    pub fn is_default(self) -> bool {
        self == DraftSort::default()
    }
}

/// How many drafts each status has among those a filter's other
/// conditions (all but status, open work and kind of mail) let through,
/// people's and automated mail apart: the tabs' counts, and the total of
/// any view in one query.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatusCounts {
    /// (status, automated, drafts)
    pub rows: Vec<(DraftStatus, bool, u64)>,
}

impl StatusCounts {
    /// Adds `drafts` to the row of (status, kind), making it when new.
    pub fn add(&mut self, status: DraftStatus, automated: bool, drafts: u64) {
        match self
            .rows
            .iter_mut()
            .find(|(s, a, _)| *s == status && *a == automated)
        {
            Some(row) => row.2 += drafts,
            None => self.rows.push((status, automated, drafts)),
        }
    }

    /// Drafts matching `filter` as a whole (without paging).
    pub fn total(&self, filter: &DraftFilter) -> u64 {
        self.rows
            .iter()
            .filter(|(status, automated, _)| {
                filter.status.is_none_or(|s| s == *status)
                    && (!filter.open || status.awaits_decision())
                    && filter
                        .mail
                        .is_none_or(|m| (m == MailKind::Automated) == *automated)
            })
            .map(|(_, _, n)| n)
            .sum()
    }

    /// Drafts in `status` of the given kind of mail (None: both).
    pub fn of(&self, status: DraftStatus, mail: Option<MailKind>) -> u64 {
        self.rows
            .iter()
            .filter(|(s, automated, _)| {
                *s == status && mail.is_none_or(|m| (m == MailKind::Automated) == *automated)
            })
            .map(|(_, _, n)| n)
            .sum()
    }
}

/// Where a page of drafts ended: the queue's order is (received_at, id).
/// Written as `MICROS.ID`, opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftCursor {
    pub received_at: DateTime<Utc>,
    pub id: i64,
}

impl DraftCursor {
    pub fn after(draft: &crate::draft::DraftView) -> DraftCursor {
        DraftCursor {
            received_at: draft.received_at.with_timezone(&Utc),
            id: draft.id,
        }
    }
}

impl std::fmt::Display for DraftCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.received_at.timestamp_micros(), self.id)
    }
}

impl std::str::FromStr for DraftCursor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid cursor `{text}`: pass back a next_cursor as given");
        let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        Ok(DraftCursor {
            received_at: DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?,
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}
