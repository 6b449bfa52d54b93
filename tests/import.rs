//! `slushpile import`: archives brought in once, never acknowledged,
//! resumable after Ctrl-C, and a dry run that writes nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use slushpile::store::{DraftKey, Store};

mod support;

use support::sample_message;

const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/templates");

struct Env {
    dir: tempfile::TempDir,
    store_url: String,
}

impl Env {
    /// Acknowledgements on, written to files: an import must queue none.
    async fn new(limits: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store_url = support::test_store_url(&dir.path().join("data")).await;
        std::fs::write(
            dir.path().join("slushpile.toml"),
            format!(
                "[store]\nurl = '{store_url}'\n[limits]\n{limits}\n\
                 [smtp]\ntransport = 'file'\ndirectory = 'outbox'\nfrom = 'submissions@example.org'\n\
                 [ack]\ntemplates = '{TEMPLATES}'\nskip_older_than = '36500d'\n"
            ),
        )
        .unwrap();
        Env { dir, store_url }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_slushpile"));
        command
            .arg("--config")
            .arg(self.path("slushpile.toml"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    async fn store(&self) -> Store {
        Store::open_migrated(&self.store_url, chrono_tz::Asia::Shanghai, "test")
            .await
            .unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An mbox as mail clients write it: a `From ` line, the message, an
/// empty line. The messages have CRLF line ends, and so does the framing.
fn write_mbox(path: &Path, messages: &[Vec<u8>]) {
    let mut mbox = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        mbox.extend_from_slice(
            format!(
                "From author{i}@example.org Tue Nov 26 10:{:02}:00 2024\r\n",
                i % 60
            )
            .as_bytes(),
        );
        mbox.extend_from_slice(message);
        mbox.extend_from_slice(b"\r\n");
    }
    std::fs::write(path, mbox).unwrap();
}

fn oversized() -> Vec<u8> {
    format!(
        "From: Big <big@example.org>\r\nTo: submissions@example.org\r\nSubject: 长篇\r\n\
         Message-ID: <big@example.org>\r\nDate: Tue, 26 Nov 2024 10:00:00 +0800\r\n\r\n{}\r\n",
        "字".repeat(20_000)
    )
    .into_bytes()
}

#[tokio::test]
async fn an_mbox_is_imported_once_without_acknowledgements() {
    let env = Env::new("max_message_bytes = 32768").await;
    let mut messages: Vec<Vec<u8>> = (0..20).map(sample_message).collect();
    messages.push(sample_message(3));
    messages.push(oversized());
    let mbox = env.path("archive.mbox");
    write_mbox(&mbox, &messages);
    let mbox_arg = mbox.to_str().unwrap();

    let first = env.run(&["import", "mbox", mbox_arg]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let report = text(&first.stdout);
    assert!(
        report.contains("imported 20 new, 1 duplicates, 0 follow-ups, 1 quarantined"),
        "{report}"
    );
    assert!(
        report.contains("quarantined archive.mbox#22 as SP-")
            && report.contains("too_big: 60") // 20,000 three-byte characters and the headers
            && report.contains("> limit 32768 bytes"),
        "{report}"
    );
    // Not a terminal: plain progress lines on stderr.
    let progress = text(&first.stderr);
    assert!(
        progress.contains("archive.mbox [")
            && progress.contains("22 messages")
            && progress.contains("MB/s"),
        "{progress}"
    );
    // A finished import ends at 100 %, `From ` lines and all.
    let last = progress
        .lines()
        .rev()
        .find(|l| l.contains("archive.mbox ["))
        .unwrap();
    assert!(last.contains("100%") || last.contains("100.0%"), "{last}");

    let store = env.store().await;
    assert_eq!(store.count_drafts().await.unwrap(), 21);
    assert_eq!(store.ack_backlog().await.unwrap(), 0);
    let drafts = store.list_drafts(&Default::default()).await.unwrap();
    let sample = drafts
        .iter()
        .find(|d| d.message_id.as_deref() == Some("sample-000005.39595@mail.example.org"))
        .expect("message 5 imported");
    assert_eq!(sample.mailbox, "import");
    let ack = sample.ack.as_ref().expect("the ack decision is recorded");
    assert_eq!(
        (ack.state.as_str(), ack.reason.as_deref()),
        (
            "suppressed",
            Some("imported from an archive (slushpile import)")
        )
    );
    // The framing is gone: the stored bytes are the message as sent.
    let raw = store.raw(sample.id).await.unwrap().unwrap();
    assert_eq!(raw, sample_message(5));

    // The same archive again: resumed past everything, nothing read twice.
    let again = env.run(&["import", "mbox", mbox_arg]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains(
            "imported 0 new, 0 duplicates, 0 follow-ups, 0 quarantined (resumed after 22 messages"
        ),
        "{}",
        text(&again.stdout)
    );
    // A copy elsewhere has no checkpoint: every message is recognised.
    let copy = env.path("copy.mbox");
    std::fs::copy(&mbox, &copy).unwrap();
    let copied = env.run(&["import", "mbox", copy.to_str().unwrap()]);
    assert!(copied.status.success(), "{}", text(&copied.stderr));
    assert!(
        text(&copied.stdout).contains("imported 0 new, 22 duplicates"),
        "{}",
        text(&copied.stdout)
    );
    assert_eq!(store.count_drafts().await.unwrap(), 21);
    let events = store.events(sample.id).await.unwrap();
    assert!(
        events.iter().filter(|e| e.kind == "seen_again").count() >= 1,
        "{events:?}"
    );
    assert!(
        !env.path("outbox").exists() || std::fs::read_dir(env.path("outbox")).unwrap().count() == 0
    );
    store.close().await;
}

#[tokio::test]
async fn a_maildir_dry_run_writes_nothing_then_the_import_leaves_files_in_place() {
    let env = Env::new("").await;
    let maildir = env.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for i in 0..12 {
        std::fs::write(
            maildir
                .join("cur")
                .join(format!("17000000{i:02}.M1P1.host:2,S")),
            sample_message(100 + i),
        )
        .unwrap();
    }
    std::fs::write(
        maildir.join("new").join("1700000099.M1P1.host"),
        sample_message(100),
    )
    .unwrap();
    let dir_arg = maildir.to_str().unwrap();

    let dry = env.run(&["import", "maildir", dir_arg, "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout)
            .contains("would import 12 new, 1 duplicates, 0 follow-ups, 0 quarantined"),
        "{}",
        text(&dry.stdout)
    );
    let store = env.store().await;
    assert_eq!(store.count_drafts().await.unwrap(), 0);

    let real = env.run(&["import", "maildir", dir_arg, "--mailbox", "archive-2024"]);
    assert!(real.status.success(), "{}", text(&real.stderr));
    assert!(
        text(&real.stdout).contains("imported 12 new, 1 duplicates"),
        "{}",
        text(&real.stdout)
    );
    assert_eq!(store.count_drafts().await.unwrap(), 12);
    let draft = store
        .draft(&DraftKey::Id(1))
        .await
        .unwrap()
        .expect("draft 1");
    assert_eq!(draft.mailbox, "archive-2024");
    assert_eq!(std::fs::read_dir(maildir.join("cur")).unwrap().count(), 12);
    // Once imported, a dry run sees only duplicates.
    let dry = env.run(&["import", "maildir", dir_arg, "--dry-run"]);
    assert!(
        text(&dry.stdout).contains("would import 0 new, 13 duplicates"),
        "{}",
        text(&dry.stdout)
    );
    store.close().await;
}

#[tokio::test]
async fn an_interrupted_import_resumes_where_it_stopped() {
    const N: usize = 4000;
    let env = Env::new("batch_messages = 50").await;
    let messages: Vec<Vec<u8>> = (0..N).map(sample_message).collect();
    let mbox = env.path("big.mbox");
    write_mbox(&mbox, &messages);
    let mbox_arg = mbox.to_str().unwrap();
    let store = env.store().await;

    let child = env.command(&["import", "mbox", mbox_arg]).spawn().unwrap();
    let started = Instant::now();
    while store.count_drafts().await.unwrap() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing committed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let first = child.wait_with_output().unwrap();
    let report = text(&first.stdout);
    assert_eq!(
        first.status.code(),
        Some(130),
        "{report}\n{}",
        text(&first.stderr)
    );
    assert!(
        report.contains("interrupted: run the same command again to resume"),
        "{report}"
    );
    let committed = store.count_drafts().await.unwrap() as usize;
    assert!(committed > 0 && committed < N, "{committed} of {N}");
    assert!(
        report.contains(&format!("imported {committed} new, 0 duplicates")),
        "{report}"
    );

    let second = env.run(&["import", "mbox", mbox_arg]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains(&format!(
            "imported {} new, 0 duplicates, 0 follow-ups, 0 quarantined (resumed after {committed} messages",
            N - committed
        )),
        "{}",
        text(&second.stdout)
    );
    assert_eq!(store.count_drafts().await.unwrap() as usize, N);
    store.close().await;
}
