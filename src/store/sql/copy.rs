//! Backend side of `store copy`: pages of rows as backend-neutral [`Value`]s.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::packs::place;
use super::{BEGIN_WRITE, Db, Engine};
use crate::store::copy::{ColumnType, TableSpec, Value};
use crate::store::packs::PackDir;
use crate::store::{Result, StoreError};

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// NULLs are bound with their column's type: PostgreSQL refuses an untyped
/// text NULL for a bigint or bytea column.
fn bind<'q>(query: Query<'q>, column: ColumnType, value: &Value) -> Query<'q> {
    match (value.clone(), column) {
        (Value::Null, ColumnType::Int) => query.bind(None::<i64>),
        (Value::Null, ColumnType::Text) => query.bind(None::<String>),
        (Value::Null, ColumnType::Bytes) => query.bind(None::<Vec<u8>>),
        (Value::Null, ColumnType::Time) => query.bind(None::<DateTime<Utc>>),
        (Value::Int(v), _) => query.bind(v),
        (Value::Text(v), _) => query.bind(v),
        (Value::Bytes(v), _) => query.bind(v),
        (Value::Time(v), _) => query.bind(v),
    }
}

fn decode(row: &<Db as sqlx::Database>::Row, table: &TableSpec) -> Result<Vec<Value>> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, column))| {
            Ok(match column {
                ColumnType::Int => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Value::Null, Value::Int),
                ColumnType::Text => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Value::Null, Value::Text),
                ColumnType::Bytes => row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map_or(Value::Null, Value::Bytes),
                ColumnType::Time => row
                    .try_get::<Option<DateTime<Utc>>, _>(i)?
                    .map_or(Value::Null, Value::Time),
            })
        })
        .collect()
}

impl Engine {
    pub async fn count_rows(&self, table: &TableSpec) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name);
        Ok(sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await?)
    }

    /// Up to `limit` rows in key order, after `after` (a key) when given.
    pub async fn export_page(
        &self,
        table: &TableSpec,
        after: Option<&[Value]>,
        limit: i64,
    ) -> Result<Vec<Vec<Value>>> {
        let rows = match after {
            None => {
                sqlx::query(AssertSqlSafe(table.select_first_page()))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(key) => {
                let mut query = sqlx::query(AssertSqlSafe(table.select_page()));
                for (name, value) in table.key.iter().zip(key) {
                    let column = table
                        .columns
                        .iter()
                        .find(|(n, _)| n == name)
                        .map_or(ColumnType::Text, |c| c.1);
                    query = bind(query, column, value);
                }
                query.bind(limit).fetch_all(&self.pool).await?
            }
        };
        let mut rows = rows
            .iter()
            .map(|row| decode(row, table))
            .collect::<Result<Vec<_>>>()?;
        if table.name == "raw_messages" {
            // A row in a pack holds no bytes: read them from the pack.
            for row in &mut rows {
                if let (Value::Text(sha), Value::Bytes(bytes)) = (&row[0], &row[2])
                    && bytes.is_empty()
                {
                    row[2] = Value::Bytes(self.stored_raw(sha).await?);
                }
            }
        }
        Ok(rows)
    }

    /// Inserts rows as they are, ids included, in one transaction; raw
    /// messages go where this store keeps them (`import_packed`).
    pub async fn import_rows(&self, table: &TableSpec, rows: &[Vec<Value>]) -> Result<()> {
        if let (Some(packs), "raw_messages") = (&self.packs, table.name) {
            return self.import_packed(packs, rows).await;
        }
        let sql = table.insert();
        let mut tx = self.pool.begin().await?;
        for row in rows {
            let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
            for ((_, column), value) in table.columns.iter().zip(row) {
                query = bind(query, *column, value);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Engine {
    /// Raw messages into this store's packs: the bytes appended, the rows
    /// (sha256, size, stored_at as copied) pointing at them.
    async fn import_packed(&self, packs: &PackDir, rows: &[Vec<Value>]) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let blobs = rows
            .iter()
            .map(|row| match &row[2] {
                Value::Bytes(bytes) => Ok(bytes.as_slice()),
                _ => Err(StoreError::Corrupt("raw_messages row without bytes".into())),
            })
            .collect::<Result<Vec<_>>>()?;
        let placed = place(&mut tx, packs, &blobs, None).await?;
        for (row, (pack, offset)) in rows.iter().zip(placed) {
            let mut query = sqlx::query(
                "INSERT INTO raw_messages (sha256, size, bytes, stored_at, pack, pack_offset)
                 VALUES ($1, $2, X'', $3, $4, $5)",
            );
            for (i, column) in [
                (0, ColumnType::Text),
                (1, ColumnType::Int),
                (3, ColumnType::Time),
            ] {
                query = bind(query, column, &row[i]);
            }
            query.bind(pack).bind(offset).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
