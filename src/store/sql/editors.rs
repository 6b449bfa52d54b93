//! Editors, their tokens and web sessions. Tokens and session cookies are
//! stored as sha256 hashes only (see `crate::auth`).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::engine::db_time;
use super::{BEGIN_WRITE, Engine};
use crate::auth;
use crate::store::{EditorError, EditorView, Result, Session, StoreError};
use crate::workflow::{Actor, Role};

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

impl Engine {
    /// Adds an editor (or gives a revoked one a new start) and returns the
    /// token, which exists nowhere else.
    pub async fn add_editor(
        &self,
        name: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<String, EditorError> {
        if !valid_name(name) {
            return Err(EditorError::BadName(name.to_string()));
        }
        let secret = auth::random_secret()?;
        let now = db_time(now);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let existing: Option<(i64, Option<DateTime<Utc>>)> =
            sqlx::query_as("SELECT id, revoked_at FROM editors WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let id = match existing {
            Some((_, None)) => return Err(EditorError::Exists(name.to_string())),
            Some((id, Some(_))) => {
                sqlx::query(
                    "UPDATE editors SET role = $2, token_hash = $3, created_at = $4,
                         revoked_at = NULL, last_seen_at = NULL WHERE id = $1",
                )
                .bind(id)
                .bind(role.as_str())
                .bind(auth::hash(&secret))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO editors (name, role, token_hash, created_at)
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(name)
                .bind(role.as_str())
                .bind(auth::hash(&secret))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok(auth::token(id, &secret))
    }

    /// Revokes an editor's token and ends their web sessions; false when
    /// there is no such active editor.
    pub async fn revoke_editor(&self, name: &str, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let done = sqlx::query(
            "UPDATE editors SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name)
        .bind(db_time(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE editor_id IN (SELECT id FROM editors WHERE name = $1)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn list_editors(&self) -> Result<Vec<EditorView>> {
        let rows = sqlx::query(
            "SELECT name, role, created_at, revoked_at, last_seen_at FROM editors ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let local = |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&self.tz).fixed_offset());
        rows.iter()
            .map(|row| {
                let created: DateTime<Utc> = row.try_get("created_at")?;
                Ok(EditorView {
                    name: row.try_get("name")?,
                    role: parse_role(row.try_get("role")?)?,
                    created_at: created.with_timezone(&self.tz).fixed_offset(),
                    revoked_at: local(row.try_get("revoked_at")?),
                    last_seen_at: local(row.try_get("last_seen_at")?),
                })
            })
            .collect()
    }

    /// The active editor a name refers to (the CLI's `--as`).
    pub async fn editor_named(&self, name: &str) -> Result<Option<Actor>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT name, role FROM editors WHERE name = $1 AND revoked_at IS NULL")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(name, role)| {
            Ok(Actor {
                name,
                role: parse_role(role)?,
            })
        })
        .transpose()
    }

    /// The active editor a token belongs to.
    pub async fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Result<Option<Actor>> {
        let Some((id, secret)) = auth::parse_token(token) else {
            return Ok(None);
        };
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT name, role, token_hash FROM editors WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((name, role, stored)) = row else {
            // Same work as a real comparison, so a missing id is not faster.
            auth::verify(secret, &auth::hash(""));
            return Ok(None);
        };
        if !auth::verify(secret, &stored) {
            return Ok(None);
        }
        // At most one write a minute per editor, not one per request.
        sqlx::query(
            "UPDATE editors SET last_seen_at = $2
             WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)",
        )
        .bind(id)
        .bind(db_time(now))
        .bind(db_time(now - chrono::Duration::minutes(1)))
        .execute(&self.pool)
        .await?;
        Ok(Some(Actor {
            name,
            role: parse_role(role)?,
        }))
    }

    /// Starts a web session for an authenticated editor: the cookie value
    /// to hand out (stored hashed) and the session.
    pub async fn create_session(
        &self,
        actor: &Actor,
        ttl: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<(String, Session), EditorError> {
        let cookie = auth::random_secret()?;
        let csrf = auth::random_secret()?;
        let now = db_time(now);
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, editor_id, csrf, created_at, expires_at)
             SELECT $1, id, $3, $4, $5 FROM editors WHERE name = $2 AND revoked_at IS NULL",
        )
        .bind(auth::hash(&cookie))
        .bind(&actor.name)
        .bind(&csrf)
        .bind(now)
        .bind(db_time(expires))
        .execute(&self.pool)
        .await?;
        Ok((
            cookie,
            Session {
                actor: actor.clone(),
                csrf,
            },
        ))
    }

    pub async fn session(&self, cookie: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT e.name, e.role, s.csrf FROM sessions s JOIN editors e ON e.id = s.editor_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND e.revoked_at IS NULL",
        )
        .bind(auth::hash(cookie))
        .bind(db_time(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(name, role, csrf)| {
            Ok(Session {
                actor: Actor {
                    name,
                    role: parse_role(role)?,
                },
                csrf,
            })
        })
        .transpose()
    }

    pub async fn end_session(&self, cookie: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(auth::hash(cookie))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn parse_role(role: String) -> Result<Role> {
    role.parse()
        .map_err(|e: String| StoreError::Corrupt(format!("editors.role: {e}")))
}
