//! Real-server test harness: a private Dovecot per test, a private Postfix
//! per test that delivers only to it, a private PostgreSQL per test process,
//! a throwaway CA and sample submissions.
//! Integration tests pull it in with `mod support;`.

// Each test binary compiles its own copy and uses only part of it.
#![allow(dead_code, unused_imports)]

pub mod api_server;
pub mod backend;
pub mod browser;
pub mod dns;
pub mod dovecot;
pub mod editor_page;
pub mod message;
pub mod oauth;
pub mod outbox_env;
pub mod postfix;
pub mod postgres;
pub mod process;
pub mod schema;
pub mod tls;
pub mod user;

pub use backend::{Backend, test_backend, test_store_url, test_store_url_blocking};
pub use dovecot::{Dovecot, HOST, ImapSession, STRICT_HOST};
pub use message::sample_message;
pub use postfix::Postfix;
pub use postgres::Postgres;
pub use tls::{TestCa, tls_connector};

/// A loopback port that was free a moment ago (another process may take
/// it before the caller binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free loopback port")
        .port()
}

/// A password or token file as an admin should write one: readable by its
/// owner alone (slushpile refuses one the group or others can read).
pub fn write_secret(path: impl AsRef<std::path::Path>, contents: impl AsRef<[u8]>) {
    use std::os::unix::fs::PermissionsExt;
    let path = path.as_ref();
    std::fs::write(path, contents).expect("write a secret file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .expect("make a secret file private");
}
