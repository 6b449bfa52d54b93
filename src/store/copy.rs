//! `slushpile store copy`: moving an installation between backends (SQLite
//! → PostgreSQL when it outgrows one machine), table by table in pages, then
//! checking counts and every raw message's hash in the target.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Result, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Text,
    Bytes,
    Time,
}

/// One table as the copy sees it; `key` orders and pages it. Listed in
/// foreign-key order. A migration adding a table adds it here.
#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub columns: &'static [(&'static str, ColumnType)],
}

use ColumnType::{Bytes, Int, Text, Time};

/// Columns of `raw_messages` the copy leaves to the target: where its own
/// storage put the bytes (a pack and offset beside SQLite, none in
/// PostgreSQL).
pub const PLACED_BY_TARGET: &[&str] = &["pack", "pack_offset"];

pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "raw_messages",
        key: &["sha256"],
        columns: &[
            ("sha256", Text),
            ("size", Int),
            ("bytes", Bytes),
            ("stored_at", Time),
        ],
    },
    TableSpec {
        name: "drafts",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("reference", Text),
            ("status", Text),
            ("mailbox", Text),
            ("raw_sha256", Text),
            ("raw_headers", Bytes),
            ("raw_size", Int),
            ("internal_date", Time),
            ("created_at", Time),
            ("message_id", Text),
            ("from_name", Text),
            ("from_address", Text),
            ("reply_to", Text),
            ("to_addresses", Text),
            ("date", Time),
            ("received_at", Time),
            ("subject", Text),
            ("title", Text),
            ("body_text", Text),
            ("body_html", Text),
            ("forwarded", Text),
            ("classification", Text),
            ("defects", Text),
            ("quarantine_reason", Text),
            ("sender_auth", Text),
            ("claimed_by", Text),
            ("lease_until", Time),
            ("status_changed_at", Time),
            ("edited_title", Text),
            ("notes", Text),
            ("search_text", Text),
            ("forwarded_by", Text),
            ("unseen_mail", Int),
            ("extraction_pending", Int),
            ("length_chars", Int),
        ],
    },
    TableSpec {
        name: "attachments",
        key: &["draft_id", "idx"],
        columns: &[
            ("draft_id", Int),
            ("idx", Int),
            ("filename", Text),
            ("content_type", Text),
            ("size", Int),
            ("sha256", Text),
            ("disposition", Text),
            ("content_id", Text),
            ("path", Text),
            ("incomplete", Int),
            ("article_text", Text),
            ("extraction_note", Text),
        ],
    },
    TableSpec {
        name: "message_locations",
        key: &["mailbox", "uidvalidity", "uid"],
        columns: &[
            ("mailbox", Text),
            ("uidvalidity", Int),
            ("uid", Int),
            ("draft_id", Int),
            ("seen_at", Time),
        ],
    },
    TableSpec {
        name: "mailbox_state",
        key: &["mailbox"],
        columns: &[
            ("mailbox", Text),
            ("uidvalidity", Int),
            ("last_uid", Int),
            ("updated_at", Time),
        ],
    },
    TableSpec {
        name: "events",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("draft_id", Int),
            ("at", Time),
            ("kind", Text),
            ("actor", Text),
            ("detail", Text),
            ("raw_sha256", Text),
        ],
    },
    TableSpec {
        name: "acks",
        key: &["draft_id"],
        columns: &[
            ("draft_id", Int),
            ("status", Text),
            ("reason", Text),
            ("to_address", Text),
            ("to_name", Text),
            ("attempts", Int),
            ("next_attempt_at", Time),
            ("lease_until", Time),
            ("lease_owner", Text),
            ("last_error", Text),
            ("message_id", Text),
            ("created_at", Time),
            ("expires_at", Time),
            ("sent_at", Time),
            ("handed_over_at", Time),
        ],
    },
    TableSpec {
        name: "editors",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("name", Text),
            ("role", Text),
            ("token_hash", Text),
            ("created_at", Time),
            ("revoked_at", Time),
            ("last_seen_at", Time),
        ],
    },
    TableSpec {
        name: "reference_counters",
        key: &["day"],
        columns: &[("day", Text), ("last", Int)],
    },
    // The thread key travels with the store: replies to mail sent before
    // the move still answer it.
    TableSpec {
        name: "store_secrets",
        key: &["name"],
        columns: &[("name", Text), ("value", Text)],
    },
    TableSpec {
        name: "follow_ups",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("draft_id", Int),
            ("raw_sha256", Text),
            ("intent", Text),
            ("received_at", Time),
            ("created_at", Time),
            ("message_id", Text),
            ("from_name", Text),
            ("from_address", Text),
            ("subject", Text),
            ("body_text", Text),
            ("attachments", Text),
            ("search_text", Text),
            ("extraction_pending", Int),
        ],
    },
    TableSpec {
        name: "letters",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("draft_id", Int),
            ("kind", Text),
            ("status", Text),
            ("reason", Text),
            ("subject", Text),
            ("body", Text),
            ("note", Text),
            ("author", Text),
            ("to_address", Text),
            ("to_name", Text),
            ("attempts", Int),
            ("next_attempt_at", Time),
            ("lease_until", Time),
            ("lease_owner", Text),
            ("last_error", Text),
            ("message_id", Text),
            ("created_at", Time),
            ("expires_at", Time),
            ("sent_at", Time),
            ("handed_over_at", Time),
        ],
    },
];

/// A cell in transit between backends.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Time(DateTime<Utc>),
}

impl TableSpec {
    pub fn select_page(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        let key = self.key.join(", ");
        let params: Vec<String> = (1..=self.key.len()).map(|i| format!("${i}")).collect();
        let limit = self.key.len() + 1;
        format!(
            "SELECT {} FROM {} WHERE ({key}) > ({}) ORDER BY {key} LIMIT ${limit}",
            columns.join(", "),
            self.name,
            params.join(", ")
        )
    }

    pub fn select_first_page(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        format!(
            "SELECT {} FROM {} ORDER BY {} LIMIT $1",
            columns.join(", "),
            self.name,
            self.key.join(", ")
        )
    }

    pub fn insert(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        let params: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.name,
            columns.join(", "),
            params.join(", ")
        )
    }

    /// The key of a row, to ask for the page after it.
    pub fn key_of(&self, row: &[Value]) -> Vec<Value> {
        self.key
            .iter()
            .map(|k| {
                let i = self
                    .columns
                    .iter()
                    .position(|(name, _)| name == k)
                    .unwrap_or(0);
                row[i].clone()
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Rows copied per table, in copy order.
    pub tables: Vec<(&'static str, u64)>,
    /// Raw messages whose bytes were re-hashed in the target.
    pub hashes_checked: u64,
}

/// Rows per page; raw messages (up to max_message_bytes each) far fewer,
/// so a page stays a few hundred MB at worst.
fn page_size(table: &TableSpec) -> i64 {
    if table.name == "raw_messages" { 8 } else { 200 }
}

/// Copies everything `from` holds into the empty store `to`, then verifies.
pub async fn copy(from: &Store, to: &Store) -> Result<CopyReport> {
    to.migrate().await?;
    for table in TABLES {
        if to.count_rows(table).await? > 0 {
            return Err(StoreError::Corrupt(format!(
                "refusing to copy: the target already holds rows in `{}`",
                table.name
            )));
        }
    }
    let mut report = CopyReport::default();
    for table in TABLES {
        let mut after: Option<Vec<Value>> = None;
        let mut copied = 0;
        loop {
            let rows = from
                .export_page(table, after.as_deref(), page_size(table))
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(table.key_of(last));
            copied += rows.len() as u64;
            to.import_rows(table, &rows).await?;
        }
        report.tables.push((table.name, copied));
    }
    to.after_import().await?;

    for table in TABLES {
        let (source, target) = (from.count_rows(table).await?, to.count_rows(table).await?);
        if source != target {
            return Err(StoreError::Corrupt(format!(
                "copy check failed: `{}` has {source} rows in the source but {target} in the target",
                table.name
            )));
        }
    }
    let raw = &TABLES[0];
    let mut after: Option<Vec<Value>> = None;
    loop {
        let rows = to
            .export_page(raw, after.as_deref(), page_size(raw))
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(raw.key_of(last));
        for row in &rows {
            let (Value::Text(sha), Value::Bytes(bytes)) = (&row[0], &row[2]) else {
                return Err(StoreError::Corrupt(
                    "raw_messages row without hash or bytes".into(),
                ));
            };
            if hex::encode(Sha256::digest(bytes)) != *sha {
                return Err(StoreError::Corrupt(format!(
                    "copy check failed: raw message {sha} changed"
                )));
            }
            report.hashes_checked += 1;
        }
    }
    Ok(report)
}
