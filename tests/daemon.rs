//! The daemon as systemd and ops see it: sd_notify on a real NOTIFY_SOCKET,
//! the ops endpoint, SIGHUP reload, SIGTERM during a large batch.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::process::Guarded;
use support::{Dovecot, HOST, free_port, sample_message};

fn seed_maildir(dir: &Path, n: usize) {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for i in 0..n {
        std::fs::write(
            dir.join("new").join(format!("1764300000.{i}.test")),
            sample_message(i),
        )
        .unwrap();
    }
}

fn maildir_config(dir: &Path, store_url: &str, port: u16, maildirs: &[&str]) -> String {
    let mut text = format!(
        "[general]\ninstance = 'daemon-test'\n[store]\nurl = '{store_url}'\n\
         [ops]\nlisten = '127.0.0.1:{port}'\n"
    );
    for name in maildirs {
        text.push_str(&format!(
            "[[maildir]]\nname = '{name}'\npath = '{}'\npoll_interval = '200ms'\n",
            dir.join(name).display()
        ));
    }
    text
}

fn spawn(config: &Path, notify: Option<&Path>, log: &Path) -> Guarded {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slushpile"));
    command
        .arg("--config")
        .arg(config)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    if let Some(socket) = notify {
        command
            .env("NOTIFY_SOCKET", socket)
            .env("WATCHDOG_USEC", "1000000");
    }
    Guarded(command.spawn().unwrap())
}

fn signal(child: &Child, sig: i32) {
    unsafe { libc::kill(child.id() as i32, sig) };
}

fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < limit, "did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Daemon {
    dir: tempfile::TempDir,
    config: PathBuf,
    port: u16,
    store_url: String,
}

impl Daemon {
    fn new(maildirs: &[&str], seeded: usize) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let store_url = support::test_store_url_blocking(dir.path());
        let port = free_port();
        for name in maildirs {
            seed_maildir(&dir.path().join(name), seeded);
        }
        let config = dir.path().join("slushpile.toml");
        std::fs::write(
            &config,
            maildir_config(dir.path(), &store_url, port, maildirs),
        )
        .unwrap();
        Daemon {
            dir,
            config,
            port,
            store_url,
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("daemon.log")
    }
}

#[test]
fn systemd_hears_ready_after_the_first_poll_then_watchdog_then_stopping() {
    let daemon = Daemon::new(&["local"], 3);
    let socket_path = daemon.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut child = spawn(&daemon.config, Some(&socket_path), &daemon.log());

    let mut buf = [0u8; 4096];
    let mut receive = || {
        let n = socket.recv(&mut buf).expect("a notification within 10 s");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let first = receive();
    assert!(first.contains("READY=1"), "first notification: {first}");
    // READY means the first poll is over: the seeded mail is already in.
    let (status, metrics) = http_get(daemon.port, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("slushpile_messages_total{mailbox=\"local\",outcome=\"ingested\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("slushpile_drafts{status=\"new\"} 3"),
        "{metrics}"
    );
    // Submitted in 2024 and undecided: past the 30-day processing period.
    assert!(
        metrics.contains("\nslushpile_drafts_overdue 3\n"),
        "{metrics}"
    );
    // The desk's gauges: nothing received this week, nothing decided yet.
    assert!(
        metrics.contains("\nslushpile_intake_this_week{kind=\"people\"} 0\n")
            && metrics.contains("# TYPE slushpile_acceptance_ratio gauge"),
        "{metrics}"
    );
    assert_eq!(http_get(daemon.port, "/healthz").0, 200);
    let (status, body) = http_get(daemon.port, "/readyz");
    assert_eq!(status, 200, "{body}");

    // WATCHDOG_USEC=1 s: pings every half second.
    let started = Instant::now();
    let mut pings = 0;
    while pings < 4 {
        let message = receive();
        if message.contains("WATCHDOG=1") {
            pings += 1;
            assert!(
                message.contains("STATUS=local: polling, 3 ingested"),
                "{message}"
            );
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1400) && elapsed < Duration::from_secs(4),
        "4 pings took {elapsed:?}"
    );

    signal(&child, libc::SIGTERM);
    let mut stopping = false;
    while !stopping {
        stopping = receive().contains("STOPPING=1");
    }
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}

#[test]
fn sighup_applies_a_good_config_and_rejects_a_broken_one() {
    let daemon = Daemon::new(&["local", "second"], 2);
    std::fs::write(
        &daemon.config,
        maildir_config(
            daemon.dir.path(),
            &daemon.store_url,
            daemon.port,
            &["local"],
        ),
    )
    .unwrap();
    let mut child = spawn(&daemon.config, None, &daemon.log());
    let metric = |port| http_get(port, "/metrics").1;
    wait_for("the first source", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", daemon.port)).is_ok()
            && metric(daemon.port).contains("slushpile_drafts{status=\"new\"} 2")
    });

    // Broken: the old configuration keeps running.
    std::fs::write(&daemon.config, "[store]\nurl = 42\n").unwrap();
    signal(&child, libc::SIGHUP);
    wait_for("the rejection in the log", Duration::from_secs(10), || {
        std::fs::read_to_string(daemon.log())
            .unwrap()
            .contains("reload rejected")
    });
    let log = std::fs::read_to_string(daemon.log()).unwrap();
    assert!(log.contains("store.url"), "the reason names the key: {log}");
    assert!(child.try_wait().unwrap().is_none(), "still running");
    assert_eq!(http_get(daemon.port, "/healthz").0, 200);

    // Good: a second Maildir added by the new configuration is picked up.
    std::fs::write(
        &daemon.config,
        maildir_config(
            daemon.dir.path(),
            &daemon.store_url,
            daemon.port,
            &["local", "second"],
        ),
    )
    .unwrap();
    signal(&child, libc::SIGHUP);
    // It holds the same sample messages: seen again, not new drafts.
    wait_for(
        "the second Maildir drained",
        Duration::from_secs(10),
        || {
            std::fs::read_dir(daemon.dir.path().join("second/new"))
                .unwrap()
                .count()
                == 0
        },
    );
    let metrics = metric(daemon.port);
    assert!(
        metrics.contains("slushpile_messages_total{mailbox=\"second\",outcome=\"duplicate\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("slushpile_drafts{status=\"new\"} 2\n"),
        "{metrics}"
    );
    signal(&child, libc::SIGTERM);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}

#[tokio::test]
async fn sigterm_during_a_large_batch_exits_in_time_and_loses_nothing() {
    const N: usize = 1500;
    let dovecot = Dovecot::start().await;
    for i in 0..N {
        dovecot.deliver("INBOX", &sample_message(i));
    }
    let dir = tempfile::tempdir().unwrap();
    let store_url = support::test_store_url(dir.path()).await;
    support::write_secret(dir.path().join("pw"), &dovecot.password);
    let config = dir.path().join("slushpile.toml");
    std::fs::write(
        &config,
        format!(
            "[general]\ninstance = 'term-test'\n[store]\nurl = '{store_url}'\n[limits]\nbatch_messages = 500\n\
             [[mailbox]]\nname = 'submissions'\nhost = '{HOST}'\nport = {}\nca_file = '{}'\nusername = '{}'\npassword_file = 'pw'\n",
            dovecot.imaps_port(),
            dovecot.ca_pem().display(),
            dovecot.user
        ),
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    let mut child = spawn(&config, None, &log);
    let store =
        slushpile::store::Store::open_migrated(&store_url, chrono_tz::Asia::Shanghai, "test")
            .await
            .unwrap();
    while store.count_drafts().await.unwrap() == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{}",
            std::fs::read_to_string(&log).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let signalled = Instant::now();
    signal(&child, libc::SIGTERM);
    let status = wait_exit(&mut child, Duration::from_secs(12));
    let took = signalled.elapsed();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    eprintln!(
        "stopped {took:?} after SIGTERM with {} of {N} drafts",
        store.count_drafts().await.unwrap()
    );

    let again = Command::new(env!("CARGO_BIN_EXE_slushpile"))
        .arg("--config")
        .arg(&config)
        .args(["run", "--once"])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let drafts = store.list_drafts(&Default::default()).await.unwrap();
    let mut ids: Vec<_> = drafts.iter().map(|d| d.message_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((drafts.len(), ids.len()), (N, N));
    assert_eq!(dovecot.count("INBOX"), 0);
}

#[test]
fn the_daemon_serves_the_editors_page_and_api_from_its_api_section() {
    let daemon = Daemon::new(&["local"], 2);
    let api_port = free_port();
    let mut text = std::fs::read_to_string(&daemon.config).unwrap();
    text.push_str(&format!("[api]\nlisten = '127.0.0.1:{api_port}'\n"));
    std::fs::write(&daemon.config, text).unwrap();
    let mut child = spawn(&daemon.config, None, &daemon.log());
    wait_for("the editors' page", Duration::from_secs(15), || {
        TcpStream::connect(("127.0.0.1", api_port)).is_ok()
    });
    let (status, page) = http_get(api_port, "/login");
    assert_eq!(status, 200);
    assert!(page.contains("稿件庫"), "{page}");
    let (status, body) = http_get(api_port, "/api/v1/drafts");
    assert_eq!(status, 401, "{body}");
    let (status, openapi) = http_get(api_port, "/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(openapi.contains("\"/api/v1/queue/claim\""));

    // A second daemon cannot take the same port: it says which key.
    let second = daemon.dir.path().join("second.toml");
    let text = std::fs::read_to_string(&daemon.config).unwrap().replace(
        &format!("127.0.0.1:{}", daemon.port),
        &format!("127.0.0.1:{}", free_port()),
    );
    std::fs::write(&second, text).unwrap();
    let second_log = daemon.dir.path().join("second.log");
    let mut other = spawn(&second, None, &second_log);
    let status = wait_exit(&mut other, Duration::from_secs(15));
    assert!(!status.success());
    let log = std::fs::read_to_string(&second_log).unwrap();
    assert!(log.contains("api.listen"), "{log}");

    signal(&child, libc::SIGTERM);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}

#[tokio::test]
async fn a_mailbox_that_stops_syncing_is_reported_stalled_once_then_recovers() {
    let mut dovecot = Dovecot::start().await;
    dovecot.deliver("INBOX", &sample_message(0));
    let dir = tempfile::tempdir().unwrap();
    let store_url = support::test_store_url(dir.path()).await;
    support::write_secret(dir.path().join("pw"), &dovecot.password);
    let port = free_port();
    let config = dir.path().join("slushpile.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = '{store_url}'\n[ops]\nlisten = '127.0.0.1:{port}'\n\
             [[mailbox]]\nname = 'submissions'\nhost = '{HOST}'\nport = {}\nca_file = '{}'\n\
             username = '{}'\npassword_file = 'pw'\npoll_interval = '1s'\nstall_after = '3s'\nio_timeout = '2s'\n",
            dovecot.imaps_port(),
            dovecot.ca_pem().display(),
            dovecot.user
        ),
    )
    .unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let log = dir.path().join("daemon.log");
    let _child = spawn(&config, Some(&socket_path), &log);
    let log_text = || std::fs::read_to_string(&log).unwrap();
    let mut buf = [0u8; 4096];
    let mut status_lines = move || {
        let n = socket.recv(&mut buf).expect("a notification within 10 s");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(status_lines().contains("READY=1"), "{}", log_text());

    // Idle in IDLE for longer than stall_after: renewing IDLE keeps proving
    // the mailbox alive, so nothing is reported.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, body) = http_get(port, "/readyz");
    assert_eq!(status, 200, "{body}\n{}", log_text());
    let (_, metrics) = http_get(port, "/metrics");
    assert!(
        metrics.contains("slushpile_mailbox_stalled{mailbox=\"submissions\"} 0"),
        "{metrics}"
    );

    dovecot.kill();
    wait_for(
        "/readyz to report the stall",
        Duration::from_secs(20),
        || {
            let (status, body) = http_get(port, "/readyz");
            status == 503 && body.contains("submissions: stalled: no successful sync for")
        },
    );
    let (_, body) = http_get(port, "/readyz");
    assert!(body.contains("last error: cannot connect"), "{body}");
    let (_, metrics) = http_get(port, "/metrics");
    assert!(
        metrics.contains("slushpile_mailbox_stalled{mailbox=\"submissions\"} 1"),
        "{metrics}"
    );
    let mut stalled_status = String::new();
    while !stalled_status.contains("STALLED") {
        stalled_status = status_lines();
    }
    assert!(
        stalled_status.contains("STATUS=submissions: ") && stalled_status.contains("last error"),
        "{stalled_status}"
    );
    // The watchdog ticks every half second; several ticks later the stall
    // has still been logged only once.
    for _ in 0..4 {
        status_lines();
    }
    let warnings = log_text().matches("the source is stalled").count();
    assert_eq!(warnings, 1, "{}", log_text());

    dovecot.restart().await;
    wait_for("/readyz to recover", Duration::from_secs(30), || {
        http_get(port, "/readyz").0 == 200
    });
    let (_, metrics) = http_get(port, "/metrics");
    assert!(
        metrics.contains("slushpile_mailbox_stalled{mailbox=\"submissions\"} 0"),
        "{metrics}"
    );
}

#[test]
fn a_missing_maildir_stops_the_start_and_one_that_goes_away_raises_the_stall_alarm() {
    let daemon = Daemon::new(&["local"], 1);
    let maildir = daemon.dir.path().join("local");
    // Refused at start: exit 78 naming the key, nothing created.
    let moved = daemon.dir.path().join("elsewhere");
    std::fs::rename(&maildir, &moved).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
        .arg("--config")
        .arg(&daemon.config)
        .arg("run")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("maildir[0].path"), "{stderr}");
    assert!(!maildir.exists(), "nothing is created in its place");

    // Running, then the directory disappears: the source stalls.
    std::fs::rename(&moved, &maildir).unwrap();
    let text = std::fs::read_to_string(&daemon.config).unwrap().replace(
        "poll_interval = '200ms'",
        "poll_interval = '200ms'\nstall_after = '1s'",
    );
    std::fs::write(&daemon.config, text).unwrap();
    let mut child = spawn(&daemon.config, None, &daemon.log());
    let until_ready = Instant::now() + Duration::from_secs(15);
    while !matches!(
        TcpStream::connect(("127.0.0.1", daemon.port)).map(|_| http_get(daemon.port, "/readyz").0),
        Ok(200)
    ) {
        assert!(Instant::now() < until_ready, "never ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::remove_dir_all(&maildir).unwrap();
    let until_stalled = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = http_get(daemon.port, "/readyz");
        if status == 503 {
            assert!(body.contains("local"), "{body}");
            break;
        }
        assert!(Instant::now() < until_stalled, "no stall alarm: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!maildir.exists(), "the Maildir is not recreated");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `slushpile drafts show 1 --json` against the daemon's store, once the
/// draft exists.
fn first_draft(daemon: &Daemon) -> Option<serde_json::Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
        .arg("--config")
        .arg(&daemon.config)
        .args(["drafts", "show", "1", "--json"])
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn the_daemon_reads_documents_left_for_after_the_commit() {
    let daemon = Daemon::new(&["local"], 0);
    // No time for documents before the commit: every one is read after.
    let mut text = std::fs::read_to_string(&daemon.config).unwrap();
    text.push_str("[extract]\ninline_timeout = '0s'\n");
    std::fs::write(&daemon.config, text).unwrap();
    let mut child = spawn(&daemon.config, None, &daemon.log());
    std::fs::write(
        daemon.dir.path().join("local/new/1764300000.doc.test"),
        include_bytes!("fixtures/messages/document_submission.eml"),
    )
    .unwrap();
    let mut draft = serde_json::Value::Null;
    wait_for("the document's text", Duration::from_secs(20), || {
        draft = first_draft(&daemon).unwrap_or_default();
        draft["extraction_pending"] == false && draft["attachments"][0]["article_text"].is_string()
    });
    assert_eq!(draft["status"], "new");
    // Read by the task after the commit, not in the batch.
    let log = std::fs::read_to_string(daemon.log()).unwrap();
    assert!(log.contains("documents read after the commit"), "{log}");
    let article = draft["attachments"][0]["article_text"].as_str().unwrap();
    assert!(article.contains("做好疫情防控期間教師工作"), "{article}");
    child.kill().unwrap();
    child.wait().unwrap();
}
