//! Lists of drafts and the queue's counts. Only the conditions a filter
//! sets are written into the statement, so each view is a plain query the
//! planner can answer from an index; every value is bound, and the order
//! comes from a fixed list.

use sqlx::{AssertSqlSafe, Row};

use super::engine::db_time;
use super::query::{AWAITING_DECISION, contains_pattern};
use super::rows::DRAFT_COLUMNS;
use super::{Db, Engine, UNINDEXED};
use crate::draft::{DraftStatus, DraftView};
use crate::store::copy::Value;
use crate::store::{DraftFilter, Holder, MailKind, Result, SortKey, StatusCounts, StoreError};

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// `AND`-ed conditions with their values, numbered as they are added.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    /// `template` with `?` standing for the next value.
    fn push(&mut self, template: &str, values: Vec<Value>) {
        let mut sql = String::new();
        let mut rest = template;
        for value in values {
            let Some((before, after)) = rest.split_once('?') else {
                break;
            };
            self.values.push(value);
            sql.push_str(before);
            sql.push_str(&format!("${}", self.values.len()));
            rest = after;
        }
        sql.push_str(rest);
        self.sql.push(sql);
    }

    fn flag(&mut self, sql: &str) {
        self.sql.push(sql.to_string());
    }

    fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }

    fn next(&self) -> usize {
        self.values.len() + 1
    }

    fn bind<'q>(&self, mut query: Query<'q>) -> Query<'q> {
        for value in &self.values {
            query = match value.clone() {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Time(v) => query.bind(v),
                Value::Bytes(v) => query.bind(v),
                Value::Null => query.bind(None::<String>),
            };
        }
        query
    }
}

/// The conditions every view shares: all but status, open work and kind of
/// mail, which the tabs count apart. `unindexed` goes before terms that
/// match most drafts (see `UNINDEXED`): a list reads its sort index, the
/// counts their own.
fn shared_conditions(filter: &DraftFilter, unindexed: &str) -> Conditions {
    let mut c = Conditions::default();
    if let Some(mailbox) = &filter.mailbox {
        c.push("mailbox = ?", vec![Value::Text(mailbox.clone())]);
    }
    if let Some(sender) = &filter.sender {
        c.push(
            "LOWER(from_address) LIKE ? ESCAPE '\\'",
            vec![Value::Text(contains_pattern(sender))],
        );
    }
    if let Some(since) = filter.since {
        c.push("received_at >= ?", vec![Value::Time(db_time(since))]);
    }
    if let Some(until) = filter.until {
        c.push("received_at < ?", vec![Value::Time(db_time(until))]);
    }
    if let Some(text) = &filter.text {
        let pattern = contains_pattern(text);
        c.push(
            "(search_text LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM follow_ups f
              WHERE f.draft_id = drafts.id AND f.search_text LIKE ? ESCAPE '\\'))",
            vec![Value::Text(pattern.clone()), Value::Text(pattern)],
        );
    }
    if filter.unseen_mail {
        c.flag("unseen_mail <> 0");
    }
    if let Some(before) = filter.overdue_before {
        c.push(
            &format!("received_at < ? AND status IN ({AWAITING_DECISION})"),
            vec![Value::Time(db_time(before))],
        );
    }
    match &filter.holder {
        Some(Holder::Editor(name)) => c.push("claimed_by = ?", vec![Value::Text(name.clone())]),
        Some(Holder::Nobody) => c.flag(&format!("{unindexed}claimed_by IS NULL")),
        None => {}
    }
    c
}

/// The workflow's order of statuses (`DraftStatus::ALL`), for sorting by
/// status. Written out because migration 0009 indexes this very
/// expression: the planner uses the index only for the same text.
const STATUS_RANK: &str = "CASE status WHEN 'new' THEN 0 WHEN 'claimed' THEN 1 \
WHEN 'sent_for_signoff' THEN 2 WHEN 'revision_requested' THEN 3 \
WHEN 'withdrawal_requested' THEN 4 WHEN 'signed_off' THEN 5 WHEN 'rejected' THEN 6 \
WHEN 'withdrawn' THEN 7 WHEN 'archived' THEN 8 WHEN 'quarantined' THEN 9 \
WHEN 'purged' THEN 10 ELSE 11 END";

/// Sorting by title or sender also goes by indexed expressions (0009).
const TITLE: &str = "COALESCE(edited_title, title)";
const SENDER: &str = "COALESCE(from_address, '')";

/// Every column in one direction, so an index read forwards or backwards
/// answers it.
fn order_by(filter: &DraftFilter) -> String {
    let (asc, desc) = ("ASC", "DESC");
    let dir = if filter.sort.descending { desc } else { asc };
    // Waiting longer is an earlier status change.
    let inverse = if filter.sort.descending { asc } else { desc };
    let (column, dir) = match filter.sort.key {
        SortKey::Received => ("received_at", dir),
        SortKey::Title => (TITLE, dir),
        SortKey::Sender => (SENDER, dir),
        SortKey::Status => (STATUS_RANK, dir),
        SortKey::Length => ("length_chars", dir),
        SortKey::Waiting => ("status_changed_at", inverse),
    };
    format!("{column} {dir}, id {dir}")
}

impl Engine {
    pub async fn list_drafts(&self, filter: &DraftFilter) -> Result<Vec<DraftView>> {
        let mut c = shared_conditions(filter, UNINDEXED);
        if let Some(status) = filter.status {
            c.push(
                &format!("{UNINDEXED}status = ?"),
                vec![Value::Text(status.as_str().into())],
            );
        }
        if filter.open {
            c.flag(&format!("{UNINDEXED}status IN ({AWAITING_DECISION})"));
        }
        match filter.mail {
            Some(MailKind::People) => c.flag(&format!("{UNINDEXED}classification = 'normal'")),
            Some(MailKind::Automated) => c.flag(&format!("{UNINDEXED}classification <> 'normal'")),
            None => {}
        }
        if let Some(after) = filter.after {
            if !filter.sort.is_default() {
                return Err(StoreError::Invalid(
                    "a cursor continues the default order only: use a page number".into(),
                ));
            }
            let at = Value::Time(db_time(after.received_at));
            c.push(
                "(received_at > ? OR (received_at = ? AND id > ?))",
                vec![at.clone(), at, Value::Int(after.id)],
            );
        }
        // The page's ids first, from the sort index alone where it covers
        // the conditions; only then the 50 rows. Skipped rows are never
        // read, so a far page costs what a near one does.
        let limit = c.next();
        let order = order_by(filter);
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts WHERE id IN (
                 SELECT id FROM drafts {} ORDER BY {order} LIMIT ${limit} OFFSET ${})
             ORDER BY {order}",
            c.where_clause(),
            limit + 1,
        );
        let rows = c
            .bind(sqlx::query(AssertSqlSafe(sql)))
            .bind(filter.limit.map_or(i64::MAX, i64::from))
            .bind(i64::from(filter.offset))
            .fetch_all(&self.pool)
            .await?;
        self.views(&rows).await
    }

    /// Drafts per status, people's and automated mail apart, under the
    /// filter's other conditions.
    pub async fn status_counts(&self, filter: &DraftFilter) -> Result<StatusCounts> {
        let c = shared_conditions(filter, "");
        // Grouped by the indexed columns themselves: no sort, no temporary
        // table; the classifications are folded into two kinds below.
        let sql = format!(
            "SELECT status, classification, COUNT(*) AS drafts
             FROM drafts {} GROUP BY status, classification",
            c.where_clause()
        );
        let rows = c
            .bind(sqlx::query(AssertSqlSafe(sql)))
            .fetch_all(&self.pool)
            .await?;
        let mut counts = StatusCounts::default();
        for row in rows {
            let status: String = row.try_get("status")?;
            let status = status
                .parse::<DraftStatus>()
                .map_err(|e| StoreError::Corrupt(format!("status: {e}")))?;
            let classification: String = row.try_get("classification")?;
            let drafts: i64 = row.try_get("drafts")?;
            counts.add(status, classification != "normal", drafts as u64);
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_order_is_the_workflows_and_the_migrations_index_it() {
        let ranked: Vec<&str> = STATUS_RANK
            .split("WHEN '")
            .skip(1)
            .filter_map(|arm| arm.split_once('\''))
            .map(|(status, _)| status)
            .collect();
        let workflow: Vec<&str> = DraftStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(ranked, workflow);
        for migration in [
            include_str!("../../../migrations/sqlite/0009_queue.sql"),
            include_str!("../../../migrations/postgres/0009_queue.sql"),
        ] {
            for expression in [STATUS_RANK, TITLE, SENDER] {
                assert!(migration.contains(expression), "{expression}");
            }
        }
    }
}
