//! slushpile: a submissions mailbox turned into an editors' draft queue.
//! See ARCHITECTURE.md for the module map and the invariants.

pub mod ack;
pub mod api;
pub mod auth;
pub mod check;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod desk;
pub mod draft;
pub mod export;
pub mod health;
pub mod import;
pub mod ingest;
pub mod mailbox;
pub mod maildir;
pub mod message;
pub mod oauth;
pub mod sender_auth;
pub mod store;
pub mod workflow;
