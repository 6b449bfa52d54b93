//! Several instances on one PostgreSQL, and moving an installation from
//! SQLite to PostgreSQL. Always PostgreSQL, whatever SLUSHPILE_TEST_BACKEND says.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use slushpile::draft::DraftView;
use slushpile::store::{DraftFilter, Store};
use support::{Dovecot, HOST, postgres, sample_message};

const TOTAL: usize = 500;

fn write_config(dir: &Path, dovecot: &Dovecot, store_url: &str, instance: &str) -> PathBuf {
    support::write_secret(dir.join("imap-password"), &dovecot.password);
    let path = dir.join(format!("{instance}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"
[general]
instance = "{instance}"
lease_retry = "1s"
[store]
url = "{store_url}"
[limits]
batch_messages = 25
[[mailbox]]
name = "submissions"
host = "{HOST}"
port = {port}
ca_file = "{ca}"
username = "{user}"
password_file = "imap-password"
poll_interval = "1s"
io_timeout = "10s"
[smtp]
transport = "file"
directory = "outbox-{instance}"
from = "submissions@example.org"
[ack]
templates = "{templates}"
skip_older_than = "36500d"
rate_limit = 1000
claim = "2s"
[log]
level = "info"
"#,
            templates = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config/templates")
                .display(),
            port = dovecot.imaps_port(),
            ca = dovecot.ca_pem().display(),
            user = dovecot.user,
        ),
    )
    .unwrap();
    path
}

struct Instance {
    name: String,
    child: Child,
    log: PathBuf,
}

/// A failing test must not leave daemons running.
impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    fn start(dir: &Path, config: &Path, name: &str) -> Instance {
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .args(["--config", config.to_str().unwrap(), "run"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Instance {
            name: name.to_string(),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn holds_lease(&self) -> bool {
        self.log().contains("holding the mailbox lease")
    }

    fn terminate(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().unwrap();
    }
}

fn assert_one_draft_each(drafts: &[DraftView], expected: usize) {
    let mut ids: Vec<&str> = drafts
        .iter()
        .map(|d| d.message_id.as_deref().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), drafts.len(), "a message became two drafts");
    assert_eq!(drafts.len(), expected);
}

#[tokio::test]
async fn three_instances_share_a_mailbox_and_survive_a_kill_9() {
    let dovecot = Dovecot::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store_url = postgres::shared().await.create_database().await;
    let store = Store::open_migrated(&store_url, chrono_tz::Asia::Shanghai, "test")
        .await
        .unwrap();
    for i in 0..TOTAL / 2 {
        dovecot.deliver("INBOX", &sample_message(i));
    }
    let mut instances: Vec<Instance> = ["ingest-a", "ingest-b", "ingest-c"]
        .iter()
        .map(|name| {
            Instance::start(
                dir.path(),
                &write_config(dir.path(), &dovecot, &store_url, name),
                name,
            )
        })
        .collect();

    // Mail keeps arriving while the holder works; kill it mid-run.
    let mut delivered = TOTAL / 2;
    let started = Instant::now();
    while store.count_drafts().await.unwrap() < 100 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no progress: {}",
            instances[0].log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let holders: Vec<usize> = (0..3).filter(|&i| instances[i].holds_lease()).collect();
    assert_eq!(holders.len(), 1, "exactly one instance holds the lease");
    let mut victim = instances.remove(holders[0]);
    while delivered < TOTAL * 3 / 4 {
        dovecot.deliver("INBOX", &sample_message(delivered));
        delivered += 1;
    }
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    let killed_at = Instant::now();
    let at_kill = store.count_drafts().await.unwrap();

    let takeover = loop {
        if instances.iter().any(Instance::holds_lease) {
            break killed_at.elapsed();
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(15),
            "no takeover within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    while delivered < TOTAL {
        dovecot.deliver("INBOX", &sample_message(delivered));
        delivered += 1;
    }
    let started = Instant::now();
    while store.count_drafts().await.unwrap() < TOTAL as i64 || dovecot.count("INBOX") > 0 {
        if started.elapsed() > Duration::from_secs(60) {
            let logs: Vec<String> = instances
                .iter()
                .map(|i| format!("--- {}\n{}", i.name, i.log()))
                .collect();
            panic!(
                "not drained: {} drafts, {} in INBOX\n{}\n--- killed {}\n{}",
                store.count_drafts().await.unwrap(),
                dovecot.count("INBOX"),
                logs.join("\n"),
                victim.name,
                victim.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "killed {} with {at_kill} of {TOTAL} drafts committed; takeover after {takeover:?} (lease_retry 1 s)",
        victim.name
    );
    // The bound is lease_retry plus reconnecting; generous for a loaded CI machine.
    assert!(
        takeover < Duration::from_secs(5),
        "takeover took {takeover:?}"
    );
    // Every draft acknowledged, each once: all instances send from the
    // shared outbox; only one in flight when the victim died may go twice
    // (same reference, same Message-ID).
    let started = Instant::now();
    while store.ack_backlog().await.unwrap() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "acknowledgements still pending"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut files: Vec<String> = Vec::new();
    for name in ["ingest-a", "ingest-b", "ingest-c"] {
        if let Ok(outbox) = std::fs::read_dir(dir.path().join(format!("outbox-{name}"))) {
            // A dot file is the victim's half-written temporary (it was
            // killed between write and rename): never a delivered message.
            files.extend(
                outbox
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|name| !name.starts_with('.')),
            );
        }
    }
    let sent = files.len();
    files.sort();
    files.dedup();
    eprintln!("{sent} acknowledgement files for {TOTAL} drafts");
    assert_eq!(files.len(), TOTAL, "every draft acknowledged");
    assert!(
        sent <= TOTAL + 1,
        "{sent} acknowledgements for {TOTAL} drafts"
    );
    for instance in &mut instances {
        instance.terminate();
    }
    let drafts = store.list_drafts(&DraftFilter::default()).await.unwrap();
    assert_one_draft_each(&drafts, TOTAL);
    assert_eq!(dovecot.count("Ingested"), TOTAL);
    assert_eq!(dovecot.count("INBOX"), 0);
    let standby = instances
        .iter()
        .filter(|i| i.log().contains("standing by"))
        .count();
    assert!(standby >= 1, "the other instances stood by");
}

#[tokio::test]
async fn store_copy_moves_everything_and_round_trips_every_hash() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/source.db", dir.path().display());
    let config = dir.path().join("slushpile.toml");
    std::fs::write(&config, format!("[store]\nurl = '{sqlite}'\n")).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messages");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    let binary = env!("CARGO_BIN_EXE_slushpile");
    let ingest = Command::new(binary)
        .arg("--config")
        .arg(&config)
        .arg("ingest")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    // A second sighting adds events, so every table has rows.
    Command::new(binary)
        .arg("--config")
        .arg(&config)
        .arg("ingest")
        .arg(&files[0])
        .output()
        .unwrap();

    let postgres = postgres::shared().await.create_database().await;
    let back = format!("sqlite://{}/back.db", dir.path().display());
    for (from, to) in [(&sqlite, &postgres), (&postgres, &back)] {
        let copy = Command::new(binary)
            .args(["store", "copy", "--from", from, "--to", to])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&copy.stdout);
        assert!(
            copy.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&copy.stderr)
        );
        assert!(stdout.contains("raw message hashes verified"), "{stdout}");
    }

    let tz = chrono_tz::Asia::Shanghai;
    let mut views = Vec::new();
    for url in [&sqlite, &postgres, &back] {
        let store = Store::open(url, tz, "test").await.unwrap();
        let drafts = store.list_drafts(&DraftFilter::default()).await.unwrap();
        let mut raws = Vec::new();
        let mut events = Vec::new();
        for d in &drafts {
            raws.push(store.raw(d.id).await.unwrap());
            events.push(store.events(d.id).await.unwrap());
        }
        views.push((drafts, raws, events));
        store.close().await;
    }
    assert_eq!(views[0].0.len(), files.len());
    assert_eq!(views[0], views[1], "SQLite → PostgreSQL changed something");
    assert_eq!(views[0], views[2], "PostgreSQL → SQLite changed something");

    // New drafts in the target continue after the copied ids.
    let store = Store::open(&postgres, tz, "test").await.unwrap();
    let fresh = slushpile::ingest::prepare(
        "m",
        slushpile::ingest::Fetched {
            location: slushpile::store::SourceLocation::File("new.eml".into()),
            internal_date: None,
            body: slushpile::ingest::FetchedBody::Full(sample_message(1)),
        },
        &Default::default(),
        chrono::Utc::now(),
    );
    store.commit_batch(&[fresh], None).await.unwrap();
    assert_eq!(
        store.count_drafts().await.unwrap() as usize,
        files.len() + 1
    );

    // A non-empty target is refused.
    let refused = Command::new(binary)
        .args(["store", "copy", "--from", &sqlite, "--to", &postgres])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("refusing"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// A column the copy does not list is lost on the way: every column of
/// every copied table, as the migrations leave them, is in the list.
#[tokio::test]
async fn store_copy_lists_every_column_the_migrations_create() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/columns.db", dir.path().display());
    let postgres = postgres::shared().await.create_database().await;
    for url in [&sqlite, &postgres] {
        Store::open_migrated(url, chrono_tz::UTC, "test")
            .await
            .unwrap()
            .close()
            .await;
    }
    let sqlite_pool = sqlx::SqlitePool::connect(&sqlite).await.unwrap();
    let postgres_pool = sqlx::PgPool::connect(&postgres).await.unwrap();
    use slushpile::store::copy;
    for table in copy::TABLES {
        let mut listed: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        listed.sort();
        let mut in_sqlite: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(table.name)
                .fetch_all(&sqlite_pool)
                .await
                .unwrap();
        in_sqlite.retain(|c| !copy::PLACED_BY_TARGET.contains(&c.as_str()));
        in_sqlite.sort();
        let mut in_postgres: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1",
        )
        .bind(table.name)
        .fetch_all(&postgres_pool)
        .await
        .unwrap();
        in_postgres.retain(|c| !copy::PLACED_BY_TARGET.contains(&c.as_str()));
        in_postgres.sort();
        assert_eq!(listed, in_sqlite, "{} on SQLite", table.name);
        assert_eq!(listed, in_postgres, "{} on PostgreSQL", table.name);
    }
}
