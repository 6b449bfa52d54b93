//! Proves the private Postfix harness: mail sent with lettre (as the daemon
//! will send acknowledgements) over each port reaches the right Dovecot
//! mailbox, nothing goes anywhere but example.org, and the refusals and
//! restarts that daemon tests will provoke behave as designed.

mod support;

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use support::postfix::{REJECTED, TEMPFAIL};
use support::{Dovecot, HOST, Postfix, TestCa};
use tokio::net::TcpStream;

const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, Debug)]
enum Port {
    Plain,
    StartTls,
    Wrapper,
}

/// TLS that trusts the test CA and nothing else, as the daemon will be
/// configured with a private CA file.
fn tls_parameters(ca: &TestCa) -> TlsParameters {
    let pem = std::fs::read(&ca.ca_pem).unwrap();
    TlsParameters::builder("localhost".into())
        .certificate_store(CertificateStore::None)
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .build_rustls()
        .unwrap()
}

fn transport(pf: &Postfix, ca: &TestCa, port: Port) -> AsyncSmtpTransport<Tokio1Executor> {
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(HOST)
        .timeout(Some(Duration::from_secs(10)));
    let credentials = Credentials::new(pf.sasl_user.clone(), pf.sasl_password.clone());
    match port {
        Port::Plain => builder.port(pf.smtp_port()).tls(Tls::None),
        Port::StartTls => builder
            .port(pf.starttls_port())
            .tls(Tls::Required(tls_parameters(ca)))
            .credentials(credentials),
        Port::Wrapper => builder
            .port(pf.smtps_port())
            .tls(Tls::Wrapper(tls_parameters(ca)))
            .credentials(credentials),
    }
    .build()
}

fn acknowledgement(to: &str, id: &str) -> Message {
    Message::builder()
        .from(
            "The Editors <editor@example.org>"
                .parse::<Mailbox>()
                .unwrap(),
        )
        .to(to.parse::<Mailbox>().unwrap())
        .subject(format!("Received: {id}"))
        .message_id(Some(format!("<{id}@slushpile.test>")))
        .body(format!("Thank you for your submission {id}.\r\n"))
        .unwrap()
}

async fn wait_for_count(dc: &Dovecot, login: &str, want: usize) {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    while dc.count_for(login, "INBOX") < want {
        assert!(
            Instant::now() < deadline,
            "{login} has {} messages, want {want}\n--- Dovecot log ---\n{}",
            dc.count_for(login, "INBOX"),
            dc.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Message-IDs in `login`'s INBOX, read over IMAPS.
async fn message_ids(dc: &Dovecot, login: &str, password: &str) -> Vec<String> {
    let mut s = dc.session_for(login, password).await;
    s.select("INBOX").await.unwrap();
    let ids = s
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
    s.logout().await.unwrap();
    ids
}

fn refused(e: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        source = err.source();
    }
    false
}

#[tokio::test]
async fn delivers_over_every_port_to_the_recipients_mailbox() {
    let dc = Dovecot::start().await;
    let began = Instant::now();
    let pf = Postfix::start(&dc, dc.tls()).await;
    eprintln!(
        "Postfix::start took {:?}, master ready in {:?}",
        began.elapsed(),
        pf.startup_time()
    );
    let writer_password = dc.add_user("writer");

    for (i, port) in [Port::Plain, Port::StartTls, Port::Wrapper]
        .into_iter()
        .enumerate()
    {
        let id = format!("ack-{i}");
        let response = transport(&pf, dc.tls(), port)
            .send(acknowledgement("writer@example.org", &id))
            .await
            .unwrap_or_else(|e| panic!("{port:?}: {e}\n{}", pf.log()));
        assert!(response.is_positive(), "{port:?}: {response:?}");
        wait_for_count(&dc, "writer", i + 1).await;
    }

    let ids = message_ids(&dc, "writer", &writer_password).await;
    for i in 0..3 {
        let want = format!("Message-ID: <ack-{i}@slushpile.test>");
        assert!(ids.contains(&want), "{want} not in {ids:?}");
    }
    // Neither the submissions mailbox nor the SASL user's got a copy.
    assert_eq!(dc.count("INBOX"), 0);
    assert_eq!(dc.count_for(&pf.sasl_user, "INBOX"), 0);

    // AUTH happened where it was offered, as the SASL user.
    let log = pf.log();
    assert_eq!(
        log.matches(&format!("sasl_username={}", pf.sasl_user))
            .count(),
        2,
        "{log}"
    );
    assert!(log.contains("TLS connection established"), "{log}");
    pf.wait_for_empty_queue(DELIVERY_TIMEOUT).await;
}

#[tokio::test]
async fn auth_is_required_to_be_right_and_only_offered_over_tls() {
    let dc = Dovecot::start().await;
    let pf = Postfix::start(&dc, dc.tls()).await;
    dc.add_user("writer");

    let wrong = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(HOST)
        .port(pf.smtps_port())
        .tls(Tls::Wrapper(tls_parameters(dc.tls())))
        .credentials(Credentials::new(pf.sasl_user.clone(), "wrong".into()))
        .build();
    let err = wrong
        .send(acknowledgement("writer@example.org", "bad-auth"))
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(err.status().unwrap().to_string(), "535", "{err}");

    // lettre refuses to send credentials the server does not advertise, so
    // this fails if the plain port ever offers AUTH without TLS.
    let plain_with_auth = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(HOST)
        .port(pf.smtp_port())
        .tls(Tls::None)
        .credentials(Credentials::new(
            pf.sasl_user.clone(),
            pf.sasl_password.clone(),
        ))
        .build();
    let err = plain_with_auth
        .send(acknowledgement("writer@example.org", "plain-auth"))
        .await
        .unwrap_err();
    assert!(err.is_client(), "{err}");

    // Another instance's CA does not vouch for this Postfix.
    let other = TestCa::generate(&pf.dir().join("other-ca"), &["localhost", HOST]);
    let err = transport(&pf, &other, Port::Wrapper)
        .send(acknowledgement("writer@example.org", "untrusted"))
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("InvalidCertificate"), "{err:?}");
    assert_eq!(dc.count_for("writer", "INBOX"), 0);
}

#[tokio::test]
async fn other_domains_are_refused_not_relayed() {
    let dc = Dovecot::start().await;
    let pf = Postfix::start(&dc, dc.tls()).await;
    for (port, to) in [
        (Port::Plain, "someone@example.net"),
        (Port::Wrapper, "someone@example.net"),
        (Port::Plain, "root@localhost"),
        (Port::StartTls, "postmaster@postfix.slushpile.test"),
    ] {
        let err = transport(&pf, dc.tls(), port)
            .send(acknowledgement(to, "elsewhere"))
            .await
            .unwrap_err();
        assert!(err.is_permanent(), "{to} over {port:?}: {err}");
        pf.wait_for_log(
            &["NOQUEUE: reject: RCPT", &format!("to=<{to}>")],
            DELIVERY_TIMEOUT,
        )
        .await;
    }
    assert_eq!(pf.queued(), 0);
    // Not even an attempt: no delivery agent logged any status.
    let log = pf.log();
    assert!(!log.contains("status="), "{log}");
}

#[tokio::test]
async fn fixed_and_added_refusals() {
    let dc = Dovecot::start().await;
    let pf = Postfix::start(&dc, dc.tls()).await;
    dc.add_user("writer");
    let smtp = transport(&pf, dc.tls(), Port::Wrapper);

    let err = smtp
        .send(acknowledgement(REJECTED, "rejected"))
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err:?}\n{}", pf.log());
    assert_eq!(err.status().unwrap().to_string(), "550");
    assert!(err.to_string().contains("no such user"), "{err}");

    let err = smtp
        .send(acknowledgement(TEMPFAIL, "tempfail"))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(err.status().unwrap().to_string(), "450");
    assert!(err.to_string().contains("try later"), "{err}");

    // The same address flips from accepted to refused once told so.
    smtp.send(acknowledgement("writer@example.org", "before"))
        .await
        .unwrap();
    pf.reject_permanently("writer@example.org");
    let err = smtp
        .send(acknowledgement("writer@example.org", "after"))
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().to_string(), "550", "{err}");

    dc.add_user("reader");
    pf.reject_temporarily("reader@example.org");
    let err = transport(&pf, dc.tls(), Port::Plain)
        .send(acknowledgement("reader@example.org", "later"))
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().to_string(), "450", "{err}");

    wait_for_count(&dc, "writer", 1).await;
    assert_eq!(dc.count_for("reader", "INBOX"), 0);
    pf.wait_for_empty_queue(DELIVERY_TIMEOUT).await;
}

#[tokio::test]
async fn unknown_mailbox_at_the_test_domain_bounces_to_the_sender() {
    // Postfix relays all of example.org without a recipient list, so an
    // unknown user is accepted and then refused by Dovecot's LMTP: a
    // delivery-time bounce, as from a real relay.
    let dc = Dovecot::start().await;
    let pf = Postfix::start(&dc, dc.tls()).await;
    transport(&pf, dc.tls(), Port::Plain)
        .send(acknowledgement("nobody@example.org", "unknown"))
        .await
        .unwrap();
    pf.wait_for_log(
        &["to=<nobody@example.org>", "status=bounced"],
        DELIVERY_TIMEOUT,
    )
    .await;
    // The DSN goes to the envelope sender, editor@example.org.
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    while dc.count("INBOX") < 1 {
        assert!(Instant::now() < deadline, "no bounce\n{}", pf.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn stop_refuses_connections_and_start_again_delivers() {
    let dc = Dovecot::start().await;
    let mut pf = Postfix::start(&dc, dc.tls()).await;
    let ports = (pf.smtp_port(), pf.starttls_port(), pf.smtps_port());
    let password = dc.add_user("writer");

    pf.stop();
    assert!(!pf.is_running());
    for port in [ports.0, ports.1, ports.2] {
        assert!(TcpStream::connect((HOST, port)).await.is_err(), "{port}");
    }
    let err = transport(&pf, dc.tls(), Port::Wrapper)
        .send(acknowledgement("writer@example.org", "while-down"))
        .await
        .unwrap_err();
    assert!(refused(&err), "{err:?}");

    pf.start_again().await;
    eprintln!("Postfix restarted in {:?}", pf.startup_time());
    assert_eq!((pf.smtp_port(), pf.starttls_port(), pf.smtps_port()), ports);
    transport(&pf, dc.tls(), Port::Wrapper)
        .send(acknowledgement("writer@example.org", "after-restart"))
        .await
        .unwrap();
    wait_for_count(&dc, "writer", 1).await;
    assert_eq!(
        message_ids(&dc, "writer", &password).await,
        ["Message-ID: <after-restart@slushpile.test>"]
    );
}

#[tokio::test]
async fn mail_queued_while_dovecot_is_down_is_delivered_when_it_is_back() {
    let mut dc = Dovecot::start().await;
    let pf = Postfix::start(&dc, dc.tls()).await;
    dc.add_user("writer");
    dc.stop().await;
    transport(&pf, dc.tls(), Port::Plain)
        .send(acknowledgement("writer@example.org", "deferred"))
        .await
        .unwrap();
    pf.wait_for_log(
        &["to=<writer@example.org>", "status=deferred"],
        DELIVERY_TIMEOUT,
    )
    .await;
    assert_eq!(pf.queued(), 1);
    dc.restart().await;
    pf.flush();
    wait_for_count(&dc, "writer", 1).await;
    pf.wait_for_empty_queue(DELIVERY_TIMEOUT).await;
}

#[tokio::test]
async fn parallel_instances_do_not_collide() {
    let a = Dovecot::start().await;
    let b = Dovecot::start().await;
    let (pa, pb) = tokio::join!(Postfix::start(&a, a.tls()), Postfix::start(&b, b.tls()));
    a.add_user("writer");
    b.add_user("writer");
    for (dc, pf, n) in [(&a, &pa, 1), (&b, &pb, 2)] {
        for i in 0..n {
            transport(pf, dc.tls(), Port::StartTls)
                .send(acknowledgement("writer@example.org", &format!("p{n}-{i}")))
                .await
                .unwrap();
        }
    }
    wait_for_count(&a, "writer", 1).await;
    wait_for_count(&b, "writer", 2).await;
    assert!(!pa.log().contains("p2-"), "{}", pa.log());
    drop(pa);
    // Dropping one leaves the other serving.
    transport(&pb, b.tls(), Port::Plain)
        .send(acknowledgement("writer@example.org", "p2-late"))
        .await
        .unwrap();
    wait_for_count(&b, "writer", 3).await;
}
