//! XOAUTH2 and OAUTHBEARER against a private Dovecot whose oauth2 passdb
//! validates tokens at a private provider on loopback: real SASL exchanges,
//! real token refreshes, nothing mocked on the IMAP side.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::oauth::{CLIENT_ID, CLIENT_SECRET, TokenServer};
use support::{Dovecot, HOST, free_port, sample_message};

mod support;

const REFRESH_TOKEN: &str = "1//refresh-token-do-not-log";

/// A config whose one mailbox logs in with `auth` and these secrets;
/// returns the store's URL.
async fn write_config(
    dir: &Path,
    dovecot: &Dovecot,
    provider: &TokenServer,
    auth: &str,
    refresh_token: &str,
    extra: &str,
) -> String {
    let store_url = support::test_store_url(&dir.join("data")).await;
    support::write_secret(dir.join("client-secret"), format!("{CLIENT_SECRET}\n"));
    support::write_secret(dir.join("refresh-token"), format!("{refresh_token}\n"));
    std::fs::write(
        dir.join("slushpile.toml"),
        format!(
            "[store]\nurl = '{store_url}'\n{extra}\n\
             [[mailbox]]\nname = 'submissions'\nhost = '{HOST}'\nport = {}\nca_file = '{}'\n\
             username = '{}'\nauth = '{auth}'\n\
             [mailbox.oauth]\ntoken_url = '{}'\nclient_id = '{CLIENT_ID}'\n\
             client_secret_file = 'client-secret'\nrefresh_token_file = 'refresh-token'\n",
            dovecot.imaps_port(),
            dovecot.ca_pem().display(),
            dovecot.user,
            provider.token_url(),
        ),
    )
    .unwrap();
    store_url
}

fn slushpile(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slushpile"));
    command
        .arg("--config")
        .arg(dir.join("slushpile.toml"))
        .args(args)
        .env("RUST_LOG", "slushpile=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_no_secrets(log: &str, provider: &TokenServer) {
    assert!(!log.contains("refresh-token-do-not-log"), "{log}");
    assert!(!log.contains(CLIENT_SECRET), "{log}");
    for token in provider.issued_tokens() {
        assert!(!log.contains(&token), "access token in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_and_oauthbearer_log_in_with_a_refreshed_token_and_ingest() {
    let provider = TokenServer::start().await;
    let dovecot = Dovecot::start_with_oauth(&provider.introspection_url()).await;
    provider.add_account(REFRESH_TOKEN, &dovecot.user);
    for (round, (auth, mechanism)) in [("xoauth2", "XOAUTH2"), ("oauthbearer", "OAUTHBEARER")]
        .into_iter()
        .enumerate()
    {
        dovecot.deliver("INBOX", &sample_message(round));
        let dir = tempfile::tempdir().unwrap();
        let store_url =
            write_config(dir.path(), &dovecot, &provider, auth, REFRESH_TOKEN, "").await;
        let output = slushpile(dir.path(), &["run", "--once"]).output().unwrap();
        let log = text(&output);
        assert!(output.status.success(), "{log}\n{}", dovecot.log());
        assert_eq!(provider.refreshes(), round + 1, "one refresh per process");
        assert!(
            dovecot
                .log()
                .contains(&format!("user=<{}>, method={mechanism}", dovecot.user)),
            "{}",
            dovecot.log()
        );
        let store =
            slushpile::store::Store::open_migrated(&store_url, chrono_tz::Asia::Shanghai, "test")
                .await
                .unwrap();
        assert_eq!(store.count_drafts().await.unwrap(), 1, "{log}");
        store.close().await;
        assert_eq!(dovecot.count("INBOX"), 0);
        assert_no_secrets(&log, &provider);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_server_refuses_names_the_mechanism_and_the_servers_reason() {
    let provider = TokenServer::start().await;
    // The provider issues tokens for a user Dovecot does not map them to.
    let dovecot = Dovecot::start_with_oauth(&provider.introspection_url()).await;
    provider.add_account(REFRESH_TOKEN, "somebody-else");
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &dovecot,
        &provider,
        "xoauth2",
        REFRESH_TOKEN,
        "",
    )
    .await;
    let output = slushpile(dir.path(), &["run", "--once"]).output().unwrap();
    let log = text(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "login to {HOST}:{} as {} failed: XOAUTH2",
            dovecot.imaps_port(),
            dovecot.user
        )) && log.contains("\"status\":\"401\""),
        "{log}"
    );
    assert_no_secrets(&log, &provider);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_is_reported_with_the_providers_reason_without_a_retry_loop() {
    let provider = TokenServer::start().await;
    let dovecot = Dovecot::start_with_oauth(&provider.introspection_url()).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    write_config(
        dir.path(),
        &dovecot,
        &provider,
        "xoauth2",
        REFRESH_TOKEN,
        &format!("[ops]\nlisten = '127.0.0.1:{port}'"),
    )
    .await;
    let log_path = dir.path().join("daemon.log");
    let child = slushpile(dir.path(), &["run"])
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let _child = support::process::Guarded(child);
    let expected = format!(
        "submissions: mailbox `submissions`: OAuth2 token refresh at {} failed: invalid_grant: Token has been expired or revoked.",
        provider.token_url()
    );
    let started = Instant::now();
    loop {
        if let Some((503, body)) = http_get(port, "/readyz").await
            && body.contains(&expected)
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            std::fs::read_to_string(&log_path).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, metrics) = http_get(port, "/metrics").await.unwrap();
    assert!(
        metrics.contains("slushpile_oauth_refresh_failures_total{mailbox=\"submissions\"} 1"),
        "{metrics}"
    );
    // A permanent refusal waits a minute or more before the next try.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(provider.refreshes(), 1);
    let log = std::fs::read_to_string(&log_path).unwrap();
    let retry: u64 = log
        .split("retry_in_s=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no retry logged:\n{log}"));
    assert!(retry >= 48, "retry in {retry}s:\n{log}");
    assert_no_secrets(&log, &provider);
}

async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let response = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}
