//! Editors and their web sessions: tokens and cookies are stored only
//! hashed (`crate::auth`).

use super::{Backend, EditorError, EditorView, Result, Session, Store};
use crate::workflow::{Actor, Role};

impl Store {
    /// Adds an editor and returns their token, which is stored only hashed.
    pub async fn add_editor(
        &self,
        name: &str,
        role: Role,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, EditorError> {
        dispatch!(self, e => e.add_editor(name, role, now).await)
    }

    pub async fn revoke_editor(
        &self,
        name: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        dispatch!(self, e => e.revoke_editor(name, now).await)
    }

    pub async fn list_editors(&self) -> Result<Vec<EditorView>> {
        dispatch!(self, e => e.list_editors().await)
    }

    pub async fn editor_named(&self, name: &str) -> Result<Option<Actor>> {
        dispatch!(self, e => e.editor_named(name).await)
    }

    pub async fn authenticate(
        &self,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Actor>> {
        dispatch!(self, e => e.authenticate(token, now).await)
    }

    pub async fn create_session(
        &self,
        actor: &Actor,
        ttl: std::time::Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(String, Session), EditorError> {
        dispatch!(self, e => e.create_session(actor, ttl, now).await)
    }

    pub async fn session(
        &self,
        cookie: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Session>> {
        dispatch!(self, e => e.session(cookie, now).await)
    }

    pub async fn end_session(&self, cookie: &str) -> Result<()> {
        dispatch!(self, e => e.end_session(cookie).await)
    }
}
