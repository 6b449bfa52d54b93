//! Proves the real-server harness itself: if these fail, daemon tests that
//! build on `support` would fail for reasons unrelated to the daemon.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_imap::extensions::idle::IdleResponse;
use futures::TryStreamExt;
use support::{Dovecot, HOST, STRICT_HOST, sample_message, tls_connector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn serves_delivered_mail_over_imaps() {
    let dc = Dovecot::start().await;
    eprintln!("Dovecot ready in {:?}", dc.startup_time());
    for i in 0..3 {
        dc.deliver("INBOX", &sample_message(i));
    }
    dc.deliver("Slush.Read", &sample_message(3));
    assert_eq!(dc.count("INBOX"), 3);
    assert_eq!(dc.count("Slush.Read"), 1);
    assert!(dc.folder_exists("Slush.Read"));
    assert!(!dc.folder_exists("Nope"));

    let mut s = dc.imap_session().await;
    let caps = s.capabilities().await.unwrap();
    for cap in ["IDLE", "MOVE", "UIDPLUS", "ID"] {
        assert!(caps.has_str(cap), "missing capability {cap}");
    }
    let names: Vec<String> = s
        .list(Some(""), Some("*"))
        .await
        .unwrap()
        .map_ok(|n| n.name().to_string())
        .try_collect()
        .await
        .unwrap();
    assert!(names.contains(&"INBOX".to_string()), "{names:?}");
    assert!(names.contains(&"Slush.Read".to_string()), "{names:?}");

    let inbox = s.select("INBOX").await.unwrap();
    assert_eq!(inbox.exists, 3);
    assert!(inbox.uid_validity.is_some());
    let ids: HashSet<String> = s
        .uid_fetch("1:*", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")
        .await
        .unwrap()
        .map_ok(|f| {
            String::from_utf8_lossy(f.header().unwrap_or_default())
                .trim()
                .to_string()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(
        ids.contains("Message-ID: <sample-000001.7919@mail.example.org>"),
        "{ids:?}"
    );
    assert_eq!(ids.len(), 3);
    s.logout().await.unwrap();
}

#[tokio::test]
async fn moves_between_folders_on_delivered_files() {
    // Dovecot has to rename files the harness wrote (as root in CI), so this
    // catches ownership mistakes in deliver().
    let dc = Dovecot::start().await;
    dc.deliver("INBOX", &sample_message(10));
    dc.deliver("INBOX", &sample_message(11));
    let mut s = dc.imap_session().await;
    s.create("Accepted").await.unwrap();
    s.select("INBOX").await.unwrap();
    s.uid_mv("1", "Accepted").await.unwrap();
    s.logout().await.unwrap();
    assert!(dc.folder_exists("Accepted"));
    assert_eq!(dc.count("Accepted"), 1);
    assert_eq!(dc.count("INBOX"), 1);
}

/// Speaks the pre-TLS part of the plain port by hand (async-imap has no
/// STARTTLS) and returns the stream ready for the TLS handshake.
async fn starttls(host: &str, port: u16) -> (TcpStream, String) {
    let mut tcp = TcpStream::connect((host, port)).await.unwrap();
    let greeting = read_line(&mut tcp).await;
    assert!(greeting.starts_with("* OK"), "{greeting}");
    assert!(greeting.contains("STARTTLS"), "{greeting}");
    tcp.write_all(b"a STARTTLS\r\n").await.unwrap();
    loop {
        let line = read_line(&mut tcp).await;
        if line.starts_with("a ") {
            assert!(line.starts_with("a OK"), "{line}");
            return (tcp, greeting);
        }
    }
}

/// Byte by byte so nothing past the line is consumed: after STARTTLS's OK
/// the next bytes belong to the TLS handshake.
async fn read_line(tcp: &mut TcpStream) -> String {
    let mut line = Vec::new();
    while !line.ends_with(b"\r\n") {
        let mut byte = [0u8];
        let n = tcp.read(&mut byte).await.unwrap();
        assert_eq!(n, 1, "EOF after {:?}", String::from_utf8_lossy(&line));
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap()
}

#[tokio::test]
async fn starttls_on_plain_port() {
    let dc = Dovecot::start().await;
    dc.deliver("INBOX", &sample_message(20));
    let (tcp, _) = starttls(HOST, dc.imap_port()).await;
    let tls = tls_connector(dc.ca_pem())
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    // No greeting after STARTTLS: go straight to LOGIN.
    let client = async_imap::Client::new(tls);
    let mut s = client
        .login(&dc.user, &dc.password)
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    assert_eq!(s.select("INBOX").await.unwrap().exists, 1);
    s.logout().await.unwrap();
}

#[tokio::test]
async fn strict_host_requires_starttls_before_login() {
    let dc = Dovecot::start().await;
    if !dc.has_strict_host() {
        eprintln!("{STRICT_HOST} not bindable here; skipping");
        return;
    }
    let mut tcp = TcpStream::connect((STRICT_HOST, dc.imap_port()))
        .await
        .unwrap();
    let greeting = read_line(&mut tcp).await;
    assert!(greeting.contains("LOGINDISABLED"), "{greeting}");
    tcp.write_all(format!("a LOGIN {} {}\r\n", dc.user, dc.password).as_bytes())
        .await
        .unwrap();
    let mut reply = read_line(&mut tcp).await;
    while reply.starts_with("* ") {
        reply = read_line(&mut tcp).await;
    }
    assert!(reply.starts_with("a NO"), "{reply}");

    let (tcp, _) = starttls(STRICT_HOST, dc.imap_port()).await;
    let tls = tls_connector(dc.ca_pem())
        .connect(STRICT_HOST.try_into().unwrap(), tcp)
        .await
        .unwrap();
    let client = async_imap::Client::new(tls);
    let mut s = client
        .login(&dc.user, &dc.password)
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    s.logout().await.unwrap();
}

#[tokio::test]
async fn tls_rejects_untrusted_certificate() {
    // A second instance's CA must not vouch for the first's certificate:
    // proves the connector trusts only the CA it was given.
    let a = Dovecot::start().await;
    let b = Dovecot::start().await;
    let tcp = TcpStream::connect((HOST, a.imaps_port())).await.unwrap();
    let result = tls_connector(b.ca_pem())
        .connect("localhost".try_into().unwrap(), tcp)
        .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn kill_and_restart_keep_ports_and_mail() {
    let mut dc = Dovecot::start().await;
    let ports = (dc.imap_port(), dc.imaps_port());
    dc.deliver("INBOX", &sample_message(30));
    dc.deliver("INBOX", &sample_message(31));
    let mut s = dc.imap_session().await;
    assert_eq!(s.select("INBOX").await.unwrap().exists, 2);

    dc.kill();
    assert!(!dc.is_running());
    assert!(s.noop().await.is_err(), "connection survived SIGKILL");
    assert!(TcpStream::connect((HOST, dc.imaps_port())).await.is_err());

    dc.restart().await;
    eprintln!("restart after kill ready in {:?}", dc.startup_time());
    assert_eq!((dc.imap_port(), dc.imaps_port()), ports);
    dc.deliver("INBOX", &sample_message(32));
    let mut s = dc.imap_session().await;
    assert_eq!(s.select("INBOX").await.unwrap().exists, 3);
    s.logout().await.unwrap();

    // Graceful path too.
    dc.stop().await;
    assert!(!dc.is_running());
    dc.restart().await;
    let mut s = dc.imap_session().await;
    assert_eq!(s.select("INBOX").await.unwrap().exists, 3);
    s.logout().await.unwrap();
}

#[tokio::test]
async fn recreate_inbox_changes_uidvalidity_and_keeps_messages() {
    let mut dc = Dovecot::start().await;
    dc.deliver("INBOX", &sample_message(40));
    dc.deliver("INBOX", &sample_message(41));
    let mut s = dc.imap_session().await;
    let before = s.select("INBOX").await.unwrap();
    s.logout().await.unwrap();

    let new = dc.recreate_inbox().await;
    assert_ne!(Some(new), before.uid_validity);

    let mut s = dc.imap_session().await;
    let after = s.select("INBOX").await.unwrap();
    assert_eq!(after.uid_validity, Some(new));
    assert_eq!(after.exists, 2);
    s.logout().await.unwrap();
}

#[tokio::test]
async fn idle_sees_delivery() {
    let dc = Dovecot::start().await;
    let mut s = dc.imap_session().await;
    s.select("INBOX").await.unwrap();
    let mut idle = s.idle();
    idle.init().await.unwrap();
    let delivered = Instant::now();
    dc.deliver("INBOX", &sample_message(50));
    let (wait, _stop) = idle.wait_with_timeout(Duration::from_secs(10));
    let response = wait.await.unwrap();
    assert!(matches!(response, IdleResponse::NewData(_)), "{response:?}");
    eprintln!("IDLE notified {:?} after delivery", delivered.elapsed());
    let mut s = idle.done().await.unwrap();
    s.logout().await.unwrap();
}

#[test]
fn sample_messages_are_deterministic_and_distinct() {
    let a = sample_message(7);
    assert_eq!(a, sample_message(7));
    assert_ne!(a, sample_message(8));
    let text = String::from_utf8(a).unwrap();
    assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    assert!(!text.replace("\r\n", "").contains('\r'), "bare CR");
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("Subject: =?UTF-8?B?"), "{head}");
    assert!(head.is_ascii(), "{head}");
    assert!(head.lines().all(|l| l.len() <= 78), "{head}");
    let ids: HashSet<String> = (0..200)
        .map(|i| {
            let m = String::from_utf8(sample_message(i)).unwrap();
            m.lines()
                .find(|l| l.starts_with("Message-ID:"))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 200);
}
