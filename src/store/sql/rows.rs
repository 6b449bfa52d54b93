//! Mapping between parsed submissions and draft rows, in both directions.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::Db;
use super::bind::{CHUNK, shaped_chunks, values};
use super::engine::db_time;
use crate::draft::{AckView, AttachmentView, DraftStatus, DraftView};
use crate::message::{Address, Attachment, Disposition, Parsed};
use crate::store::{Result, StoreError};

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// The columns derived from the raw message, in the order [`bind_derived`]
/// binds them: written on first ingestion and rewritten by `reparse`, so both
/// produce identical rows.
pub(super) const DERIVED: [&str; 18] = [
    "message_id",
    "from_name",
    "from_address",
    "reply_to",
    "to_addresses",
    "date",
    "subject",
    "title",
    "body_text",
    "body_html",
    "forwarded",
    "forwarded_by",
    "classification",
    "defects",
    "quarantine_reason",
    "search_text",
    "extraction_pending",
    "length_chars",
];

/// New drafts, `rows` of them in one statement: `columns` (bound by the
/// caller, in order), then every derived column ([`bind_derived`]).
pub(super) fn insert_drafts_sql(columns: &[&str], rows: usize) -> String {
    let names: Vec<&str> = columns.iter().chain(&DERIVED).copied().collect();
    values(
        &format!("INSERT INTO drafts ({}) VALUES", names.join(", ")),
        rows,
        names.len(),
    )
}

pub(super) fn bind_derived<'q>(query: Query<'q>, parsed: &'q Parsed) -> Query<'q> {
    let s = &parsed.submission;
    query
        .bind(&s.message_id)
        .bind(s.from.as_ref().and_then(|a| a.name.clone()))
        .bind(s.from.as_ref().map(|a| a.address.clone()))
        .bind(s.reply_to.as_ref().map(to_json))
        .bind(to_json(&s.to))
        .bind(s.date.map(db_time))
        .bind(&s.subject)
        .bind(&s.title)
        .bind(&s.body_text)
        .bind(&s.body_html)
        .bind(to_json(&s.forwarded))
        .bind(s.forwarded_by.as_ref().map(to_json))
        .bind(s.classification.as_str())
        .bind(to_json(&s.defects))
        .bind(&parsed.quarantine)
        .bind(search_text(parsed))
        .bind(i64::from(s.extraction_pending))
        .bind(s.length_chars() as i64)
}

/// Rewrites every derived column and the attachment list of a draft (`reparse`).
pub(super) async fn rewrite_derived(
    tx: &mut sqlx::Transaction<'_, Db>,
    draft_id: i64,
    parsed: &Parsed,
) -> Result<()> {
    let sets: Vec<String> = DERIVED
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 2))
        .collect();
    let sql = format!("UPDATE drafts SET {} WHERE id = $1", sets.join(", "));
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(draft_id);
    bind_derived(query, parsed).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM attachments WHERE draft_id = $1")
        .bind(draft_id)
        .execute(&mut **tx)
        .await?;
    let attachments: Vec<(i64, &Attachment)> = parsed
        .submission
        .attachments
        .iter()
        .map(|a| (draft_id, a))
        .collect();
    insert_attachments(tx, &attachments).await
}

/// Attachment rows (draft id, attachment) in a few multi-row statements:
/// round trips, not rows, cost here.
pub(super) async fn insert_attachments(
    tx: &mut sqlx::Transaction<'_, Db>,
    attachments: &[(i64, &Attachment)],
) -> Result<()> {
    for chunk in shaped_chunks(attachments, CHUNK / 12) {
        let sql = values(
            "INSERT INTO attachments
             (draft_id, idx, filename, content_type, size, sha256, disposition, content_id, path, incomplete,
              article_text, extraction_note)
             VALUES",
            chunk.len(),
            12,
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (draft_id, a) in chunk {
            query = query
                .bind(*draft_id)
                .bind(i64::from(a.index))
                .bind(&a.filename)
                .bind(&a.content_type)
                .bind(a.size as i64)
                .bind(&a.sha256)
                .bind(match a.disposition {
                    Disposition::Inline => "inline",
                    Disposition::Attachment => "attachment",
                })
                .bind(&a.content_id)
                .bind(&a.path)
                .bind(i64::from(a.incomplete))
                .bind(&a.article_text)
                .bind(&a.extraction_note);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// What substring search looks in: subject, title, body, attachment names
/// and the articles in attached documents, lower-cased here so both
/// backends compare the same text the same way.
pub(super) fn search_text(parsed: &Parsed) -> String {
    let s = &parsed.submission;
    let mut text = s.subject.clone().unwrap_or_default();
    for part in [Some(&s.title), Some(&s.body_text)]
        .into_iter()
        .flatten()
        .chain(
            s.attachments
                .iter()
                .flat_map(|a| [a.filename.as_ref(), a.article_text.as_ref()])
                .flatten(),
        )
    {
        text.push('\n');
        text.push_str(part);
    }
    text.to_lowercase()
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serializing our own plain data types cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

pub(super) const DRAFT_COLUMNS: &str =
    "id, reference, status, mailbox, message_id, from_name, from_address,
    subject, COALESCE(edited_title, title) AS title, title AS submitted_title, notes,
    claimed_by, lease_until, status_changed_at,
    received_at, body_text, classification, quarantine_reason, sender_auth,
    forwarded, forwarded_by, unseen_mail, extraction_pending, length_chars";

pub(super) fn draft_from_row(
    row: &<Db as sqlx::Database>::Row,
    tz: chrono_tz::Tz,
    attachments: Vec<AttachmentView>,
    ack: Option<AckView>,
) -> Result<DraftView> {
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("{what}: {e}"));
    let status: String = row.try_get("status")?;
    let classification: String = row.try_get("classification")?;
    let received_at: DateTime<Utc> = row.try_get("received_at")?;
    let lease_until: Option<DateTime<Utc>> = row.try_get("lease_until")?;
    let status_changed_at: DateTime<Utc> = row.try_get("status_changed_at")?;
    let from_address: Option<String> = row.try_get("from_address")?;
    let unseen_mail: i64 = row.try_get("unseen_mail")?;
    let extraction_pending: i64 = row.try_get("extraction_pending")?;
    let length_chars: i64 = row.try_get("length_chars")?;
    Ok(DraftView {
        id: row.try_get("id")?,
        reference: row.try_get("reference")?,
        status: status
            .parse::<DraftStatus>()
            .map_err(|e| corrupt("status", &e))?,
        mailbox: row.try_get("mailbox")?,
        message_id: row.try_get("message_id")?,
        from: from_address.map(|address| Address {
            name: row.try_get("from_name").ok().flatten(),
            address,
        }),
        subject: row.try_get("subject")?,
        title: row.try_get("title")?,
        submitted_title: row.try_get("submitted_title")?,
        notes: row.try_get("notes")?,
        claimed_by: row.try_get("claimed_by")?,
        lease_until: lease_until.map(|t| t.with_timezone(&tz).fixed_offset()),
        status_changed_at: status_changed_at.with_timezone(&tz).fixed_offset(),
        received_at: received_at.with_timezone(&tz).fixed_offset(),
        body_text: row.try_get("body_text")?,
        attachments,
        classification: serde_json::from_value(serde_json::Value::String(classification))
            .map_err(|e| corrupt("classification", &e))?,
        quarantine_reason: row.try_get("quarantine_reason")?,
        ack,
        sender_auth: row
            .try_get::<Option<String>, _>("sender_auth")?
            .and_then(|json| serde_json::from_str(&json).ok()),
        forwarded: serde_json::from_str(&row.try_get::<String, _>("forwarded")?)
            .map_err(|e| corrupt("forwarded", &e))?,
        forwarded_by: row
            .try_get::<Option<String>, _>("forwarded_by")?
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| corrupt("forwarded_by", &e))?,
        thread: Vec::new(),
        unseen_mail: unseen_mail != 0,
        extraction_pending: extraction_pending != 0,
        length_chars: length_chars as u64,
        letters: Vec::new(),
    })
}

pub(super) const ACK_COLUMNS: &str =
    "draft_id, status, reason, last_error, to_address, attempts, message_id, sent_at";

pub(super) fn ack_from_row(
    row: &<Db as sqlx::Database>::Row,
    tz: chrono_tz::Tz,
) -> Result<AckView> {
    let attempts: i64 = row.try_get("attempts")?;
    let sent_at: Option<DateTime<Utc>> = row.try_get("sent_at")?;
    Ok(AckView {
        state: row.try_get("status")?,
        reason: row.try_get("reason")?,
        error: row.try_get("last_error")?,
        to: row.try_get("to_address")?,
        attempts: attempts as u32,
        message_id: row.try_get("message_id")?,
        sent_at: sent_at.map(|t| t.with_timezone(&tz).fixed_offset()),
    })
}

pub(super) fn attachment_from_row(row: &<Db as sqlx::Database>::Row) -> Result<AttachmentView> {
    let index: i64 = row.try_get("idx")?;
    let size: i64 = row.try_get("size")?;
    let incomplete: i64 = row.try_get("incomplete")?;
    Ok(AttachmentView {
        index: index as u32,
        path: row.try_get("path")?,
        incomplete: incomplete != 0,
        filename: row.try_get("filename")?,
        content_type: row.try_get("content_type")?,
        size: size as u64,
        sha256: row.try_get("sha256")?,
        article_text: row.try_get("article_text")?,
        extraction_note: row.try_get("extraction_note")?,
    })
}
