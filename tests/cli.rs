//! The command line as an MTA, an editor and ops use it: `ingest` with its
//! sysexits codes, `drafts` in text and JSON, `run --once` over a Maildir.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sha2::Digest;

mod support;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/messages");

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store_url = support::test_store_url_blocking(&dir.path().join("data"));
        std::fs::write(
            dir.path().join("slushpile.toml"),
            format!(
                "[general]\nown_addresses = ['submissions@example.org']\n\
                 forwarders = ['editor@example.org']\n\
                 [store]\nurl = '{store_url}'\n\
                 [[maildir]]\nname = 'local'\npath = 'Maildir'\n"
            ),
        )
        .unwrap();
        Env { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("slushpile.toml")
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(self.config())
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(bytes) = stdin {
            // A command that fails early (a config error, say) may exit
            // before it reads stdin: its exit code is what is tested.
            match child.stdin.take().unwrap().write_all(bytes) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                result => result.unwrap(),
            }
        }
        child.wait_with_output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args, None);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join(name)).unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn ingest_from_stdin_stores_once_and_reports_seen_again() {
    let env = Env::new();
    let raw = fixture("gb2312_superset.eml");
    let first = env.run(&["ingest"], Some(&raw));
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        stdout(&first).contains("stored as SP-"),
        "{}",
        stdout(&first)
    );
    let again = env.run(&["ingest"], Some(&raw));
    assert_eq!(again.status.code(), Some(0));
    assert!(stdout(&again).contains("seen again"), "{}", stdout(&again));

    let drafts = env.json(&["drafts", "list", "--json"]);
    let drafts = drafts.as_array().unwrap();
    assert_eq!(drafts.len(), 1);
    let draft = &drafts[0];
    for key in [
        "id",
        "reference",
        "status",
        "mailbox",
        "message_id",
        "from",
        "subject",
        "title",
        "received_at",
        "body_text",
        "attachments",
        "classification",
        "quarantine_reason",
    ] {
        assert!(draft.get(key).is_some(), "missing {key} in {draft}");
    }
    assert_eq!(draft["status"], "new");
    assert_eq!(draft["mailbox"], "ingest");
    assert!(
        draft["body_text"].as_str().unwrap().contains('镕'),
        "{draft}"
    );

    // `drafts raw` gives back the exact bytes, by reference as by id.
    let reference = draft["reference"].as_str().unwrap();
    assert_eq!(env.run(&["drafts", "raw", reference], None).stdout, raw);
    assert_eq!(env.run(&["drafts", "raw", "1"], None).stdout, raw);
    let shown = env.run(&["drafts", "show", reference], None);
    assert!(
        stdout(&shown).contains("seen_again"),
        "history lists the event: {}",
        stdout(&shown)
    );
}

#[test]
fn ingest_quarantines_what_cannot_be_parsed_and_still_exits_zero() {
    let env = Env::new();
    let output = env.run(&["ingest"], Some(b""));
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("quarantined as SP-"),
        "{}",
        stdout(&output)
    );
    let quarantined = env.json(&["drafts", "list", "--status", "quarantined", "--json"]);
    assert!(
        quarantined[0]["quarantine_reason"]
            .as_str()
            .unwrap()
            .starts_with("unparseable")
    );
}

#[test]
fn ingest_exit_codes_follow_sysexits() {
    let env = Env::new();
    let missing = env.run(&["ingest", "/nonexistent/message.eml"], None);
    assert_eq!(missing.status.code(), Some(66));
    let usage = env.run(&["ingest", "--no-such-flag"], None);
    assert_eq!(usage.status.code(), Some(64));

    // From stdin every other failure is temporary, so the MTA retries.
    std::fs::write(env.config(), "[store]\nurl = 42\n").unwrap();
    let broken_config = env.run(&["ingest"], Some(&fixture("plain_utf8.eml")));
    assert_eq!(broken_config.status.code(), Some(75));
    let stderr = String::from_utf8_lossy(&broken_config.stderr);
    assert!(
        stderr.contains("store.url") && stderr.contains("slushpile.toml"),
        "{stderr}"
    );

    std::fs::write(
        env.config(),
        "[store]\nurl = 'sqlite:///proc/no/such/dir/x.db'\n",
    )
    .unwrap();
    let no_store = env.run(&["ingest"], Some(&fixture("plain_utf8.eml")));
    assert_eq!(
        no_store.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&no_store.stderr)
    );
}

#[test]
fn attachments_are_served_from_the_raw_message_with_their_names() {
    let env = Env::new();
    let file = Path::new(FIXTURES).join("rfc2231_filenames.eml");
    let output = env.run(&["ingest", file.to_str().unwrap()], None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let draft = env.json(&["drafts", "show", "1", "--json"]);
    let attachment = &draft["attachments"][0];
    assert!(
        !attachment["filename"].as_str().unwrap().is_ascii(),
        "{attachment}"
    );
    let target = env.dir.path().join("out.bin");
    let saved = env.run(
        &[
            "drafts",
            "attachment",
            "1",
            "0",
            "-o",
            target.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let bytes = std::fs::read(&target).unwrap();
    assert_eq!(bytes.len() as u64, attachment["size"].as_u64().unwrap());
    let missing = env.run(&["drafts", "attachment", "1", "99"], None);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn attachments_inside_forwarded_messages_are_listed_and_served_by_path() {
    let env = Env::new();
    let fixture = |name: &str| Path::new(FIXTURES).join(name);
    for name in ["forward_of_forward.eml", "forwarded_by_editor.eml"] {
        let output = env.run(&["ingest", fixture(name).to_str().unwrap()], None);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let raw = std::fs::read(fixture("forward_of_forward.eml")).unwrap();
    let draft = env.json(&["drafts", "show", "1", "--json"]);
    let paths: Vec<&str> = draft["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["0", "0.0", "0.0.0"], "{draft}");
    assert_eq!(draft["forwarded"][1]["path"], "0.0");
    assert_eq!(
        draft["forwarded"][1]["from"]["address"],
        "wang.fang@example.net"
    );
    let save = |key: &str| {
        let target = env.dir.path().join(format!("{key}.out"));
        let saved = env.run(
            &[
                "drafts",
                "attachment",
                "1",
                key,
                "-o",
                target.to_str().unwrap(),
            ],
            None,
        );
        assert!(
            saved.status.success(),
            "{}",
            String::from_utf8_lossy(&saved.stderr)
        );
        std::fs::read(&target).unwrap()
    };
    // The twice-forwarded original, byte for byte as it stands in the message.
    let eml = save("0.0");
    assert!(eml.starts_with(b"From: Wang Fang <wang.fang@example.net>"));
    assert!(raw.windows(eml.len()).any(|w| w == eml.as_slice()));
    assert_eq!(
        eml.len() as u64,
        draft["attachments"][1]["size"].as_u64().unwrap()
    );
    // The file inside it, decoded: Big5 text naming its source.
    let file = save("0.0.0");
    let (text, _, malformed) = encoding_rs::BIG5.decode(&file);
    assert!(
        !malformed && text.ends_with("（來源：教育部微黨建）\n"),
        "{text}"
    );
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&file)),
        draft["attachments"][2]["sha256"]
    );
    // An index names the same attachment as its path.
    assert_eq!(save("2"), file);
    let missing = env.run(&["drafts", "attachment", "1", "0.9"], None);
    assert_eq!(missing.status.code(), Some(1));

    // Forwarded by an editor (`forwarders`): credited to the original sender.
    let draft = env.json(&["drafts", "show", "2", "--json"]);
    assert_eq!(draft["from"]["address"], "li.yi@example.net", "{draft}");
    assert_eq!(draft["forwarded_by"]["address"], "editor@example.org");
    assert_eq!(draft["attachments"][2]["path"], "1.0");
    let docx = draft["attachments"][2]["filename"].as_str().unwrap();
    assert!(docx.ends_with("上好战“疫”这堂课.docx"), "{docx}");
    let shown = env.run(&["drafts", "show", "2"], None);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("forwarded by:   Editor <editor@example.org>"),
        "{shown}"
    );
}

#[test]
fn run_once_ingests_a_maildir_and_moves_what_it_committed() {
    let env = Env::new();
    let maildir = env.dir.path().join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let names = [
        "plain_utf8.eml",
        "big5_hkscs.eml",
        "hz_gb2312.eml",
        "auto_reply.eml",
        "own_address.eml",
    ];
    for (i, name) in names.iter().enumerate() {
        std::fs::write(
            maildir.join("new").join(format!("1764300000.{i}.test")),
            fixture(name),
        )
        .unwrap();
    }
    let output = env.run(&["run", "--once"], None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The log gives the outcome as plain fields, not a Rust value.
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("ingested=5") && log.contains("synced once") && !log.contains("Tally"),
        "{log}"
    );
    assert_eq!(std::fs::read_dir(maildir.join("new")).unwrap().count(), 0);
    assert_eq!(
        std::fs::read_dir(maildir.join(".Ingested/cur"))
            .unwrap()
            .count(),
        names.len()
    );
    let drafts = env.json(&["drafts", "list", "--json"]);
    let classes: Vec<&str> = drafts
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["classification"].as_str().unwrap())
        .collect();
    assert_eq!(classes.len(), names.len());
    assert!(
        classes.contains(&"auto_reply") && classes.contains(&"own_address"),
        "{classes:?}"
    );

    // A file put back (a crash after commit, before the move) is only an event.
    std::fs::copy(
        Path::new(FIXTURES).join("plain_utf8.eml"),
        maildir.join("cur/1764300000.9.test:2,S"),
    )
    .unwrap();
    assert!(env.run(&["run", "--once"], None).status.success());
    assert_eq!(
        env.json(&["drafts", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        names.len()
    );
}

#[test]
fn reparse_and_migrate_work_on_an_existing_store() {
    let env = Env::new();
    let output = env.run(&["ingest"], Some(&fixture("title_prefixes.eml")));
    assert!(output.status.success());
    let migrate = env.run(&["migrate"], None);
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let reparse = env.run(&["reparse"], None);
    assert!(
        stdout(&reparse).contains("reparsed 1 messages"),
        "{}",
        stdout(&reparse)
    );
}

#[test]
fn the_shipped_configs_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["imap-password", "smtp-password"] {
        std::fs::write(dir.path().join(name), "secret\n").unwrap();
    }
    // The example's optional sections ([api], [ops], [retention]), as an
    // admin would enable them: uncommented, they load too.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/slushpile.example.toml");
    let mut enabled = String::new();
    let mut in_optional = false;
    for line in std::fs::read_to_string(&example).unwrap().lines() {
        if line.starts_with("# [") {
            in_optional = true;
        } else if line.is_empty() {
            in_optional = false;
        }
        match line.strip_prefix("# ") {
            Some(setting) if in_optional && !setting.starts_with('#') => enabled.push_str(setting),
            _ => enabled.push_str(line),
        }
        enabled.push('\n');
    }
    for section in ["[api]", "[ops]", "[retention]"] {
        assert!(
            enabled.contains(&format!("\n{section}\n")),
            "{section} is documented"
        );
    }
    let enabled_path = dir.path().join("enabled.toml");
    std::fs::write(&enabled_path, enabled).unwrap();
    for config in [
        example,
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml"),
        enabled_path,
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(&config)
            .arg("migrate")
            .env("CREDENTIALS_DIRECTORY", dir.path())
            .env(
                "SLUSHPILE_STORE__URL",
                format!("sqlite://{}/x.db", dir.path().display()),
            )
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}: {}",
            config.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn editors_work_the_queue_from_the_terminal_as_named_editors() {
    let env = Env::new();
    for name in ["gb2312_superset.eml", "html_only.eml"] {
        assert!(env.run(&["ingest"], Some(&fixture(name))).status.success());
    }
    let added = env.run(&["editors", "add", "li"], None);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let token = stdout(&added).lines().last().unwrap().to_string();
    assert!(token.starts_with("sp_1_") && token.len() == 69, "{token}");
    let signer = env.run(&["editors", "add", "wang", "--role", "signer"], None);
    assert!(signer.status.success());
    let again = env.run(&["editors", "add", "li"], None);
    assert!(
        !again.status.success(),
        "an active editor is not added twice"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let listed = stdout(&env.run(&["editors", "list"], None));
    assert!(listed.contains("li") && listed.contains("signer") && !listed.contains(&token[5..]));

    let unknown = env.run(&["queue", "claim", "--as", "nobody"], None);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no active editor `nobody`"));
    let claimed = env.json(&["queue", "claim", "--as", "li", "--json"]);
    let reference = claimed[0]["reference"].as_str().unwrap().to_string();
    assert_eq!(claimed[0]["claimed_by"], "li");

    // Role enforced, actor recorded.
    let send = |who: &str, to: &str| {
        env.run(
            &[
                "drafts",
                "transition",
                &reference,
                "--to",
                to,
                "--note",
                "請審",
                "--as",
                who,
            ],
            None,
        )
    };
    assert!(send("li", "sent_for_signoff").status.success());
    let refused = send("li", "signed_off");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only a signer can sign off"));
    assert!(send("wang", "signed_off").status.success());
    let shown = env.json(&["drafts", "show", &reference, "--json"]);
    assert_eq!(shown["status"], "signed_off");

    let markdown = stdout(&env.run(&["drafts", "export", &reference, "--format", "md"], None));
    assert!(markdown.starts_with("# "), "{markdown}");
    assert!(
        markdown.contains(&format!("- 編號 Reference: {reference}")),
        "{markdown}"
    );

    assert!(env.run(&["editors", "revoke", "li"], None).status.success());
    let revoked = env.run(&["queue", "claim", "--as", "li"], None);
    assert!(!revoked.status.success(), "a revoked editor cannot act");

    let purged = env.run(&["drafts", "purge", &reference, "--as", "wang"], None);
    assert!(
        purged.status.success(),
        "{}",
        String::from_utf8_lossy(&purged.stderr)
    );
    let raw = env.run(&["drafts", "raw", &reference], None);
    assert!(!raw.status.success(), "purged bytes are gone");
    assert!(String::from_utf8_lossy(&raw.stderr).contains("withdrawn and purged"));
    let shown = env.json(&["drafts", "show", &reference, "--json"]);
    assert_eq!(shown["status"], "purged");
}

/// The article inside a Word attachment is the draft's text (and, under a
/// subject that says nothing, its title); a store ingested without
/// extraction gets it from `reparse`, since it is derived from the raw bytes.
#[test]
fn the_article_in_an_attached_document_is_read_and_rebuilt_by_reparse() {
    let env = Env::new();
    let config = std::fs::read_to_string(env.config()).unwrap();
    std::fs::write(
        env.config(),
        format!("{config}[extract]\nenabled = false\n"),
    )
    .unwrap();
    let output = env.run(&["ingest"], Some(&fixture("document_submission.eml")));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let draft = env.json(&["drafts", "show", "1", "--json"]);
    assert_eq!(draft["title"], "投稿");
    assert_eq!(draft["attachments"][0]["article_text"], Value::Null);
    let found = env.json(&["drafts", "list", "--search", "堅(jiān)強", "--json"]);
    assert_eq!(found.as_array().unwrap().len(), 0);

    std::fs::write(env.config(), &config).unwrap();
    let reparse = env.run(&["reparse"], None);
    assert!(
        stdout(&reparse).contains("reparsed 1 messages"),
        "{}",
        stdout(&reparse)
    );
    let draft = env.json(&["drafts", "show", "1", "--json"]);
    assert_eq!(draft["title"], "教育部教師司:上好戰(zhàn)“疫”這堂課");
    let documents = Path::new(FIXTURES).join("../documents");
    for (index, golden) in [(0, "article.docx.txt"), (1, "gbk.rtf.txt")] {
        let golden = std::fs::read_to_string(documents.join(golden)).unwrap();
        let (_, text) = golden.split_once("\n\n").unwrap();
        assert_eq!(
            draft["attachments"][index]["article_text"].as_str(),
            Some(text.trim_end()),
            "attachment {index}"
        );
        assert_eq!(draft["attachments"][index]["extraction_note"], Value::Null);
    }
    let found = env.json(&["drafts", "list", "--search", "堅(jiān)強", "--json"]);
    assert_eq!(found.as_array().unwrap().len(), 1);

    let shown = stdout(&env.run(&["drafts", "show", "1"], None));
    assert!(
        shown.contains("article in attachment 0 (《战疫》投稿.docx):\n\n# 教育部教師司"),
        "{shown}"
    );
    let markdown = stdout(&env.run(&["drafts", "export", "1"], None));
    assert!(
        markdown.contains("\n## 附件正文 Article in 0: 《战疫》投稿.docx\n\n### 教育部教師司"),
        "{markdown}"
    );
    assert!(
        markdown.contains("\n#### 二、做好疫情防控期間教師工作\n"),
        "{markdown}"
    );
}

#[test]
fn what_a_sender_wrote_cannot_drive_the_terminal_or_split_a_row() {
    let env = Env::new();
    let raw = "From: a@example.org\r\nTo: submissions@example.org\r\n\
               Subject: =?utf-8?q?=1B]0;owned=07=1B[2J=1B[31mRED=0D=0Aline_two?=\r\n\
               Message-ID: <esc@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
               body \x1b[2J with escapes and invoice\u{202E}txt.exe\r\n";
    assert!(env.run(&["ingest"], Some(raw.as_bytes())).status.success());
    let list = stdout(&env.run(&["drafts", "list"], None));
    assert_eq!(list.lines().count(), 1, "one row: {list:?}");
    let show = stdout(&env.run(&["drafts", "show", "1"], None));
    for shown in [&list, &show] {
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
        assert!(!shown.contains('\u{202E}'), "{shown:?}");
    }
    assert!(show.contains("␛]0;owned␇␛[2J␛[31mRED␍␊line two"), "{show}");
    assert!(show.contains("invoice<U+202E>txt.exe"), "{show}");
}

#[test]
fn check_creates_nothing_and_the_database_is_private_whatever_the_umask() {
    if support::test_backend() != support::Backend::Sqlite {
        return; // PostgreSQL keeps its files itself.
    }
    let env = Env::new();
    let database = env.dir.path().join("data/slushpile.db");
    let report = stdout(&env.run(&["check"], None));
    assert!(report.contains("does not exist yet"), "{report}");
    assert!(!database.exists(), "check created the database");

    // An admin's shell with the usual umask 022.
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022 && exec '{}' --config '{}' migrate",
            env!("CARGO_BIN_EXE_slushpile"),
            env.config().display()
        ))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    let mut checked = 0;
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", database.display()));
        if let Ok(metadata) = std::fs::metadata(&path) {
            let mode = metadata.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 1);
}

#[test]
fn html_nested_200000_deep_is_stored_flattened_with_its_text() {
    let env = Env::new();
    let n = 200_000;
    let raw = format!(
        "From: a@example.net\r\nSubject: x\r\nMessage-ID: <deep@example.net>\r\n\
         Content-Type: text/html\r\n\r\n{}深x{}\r\n",
        "<div>".repeat(n),
        "</div>".repeat(n)
    );
    let output = env.run(&["ingest"], Some(raw.as_bytes()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let draft = env.json(&["drafts", "show", "1", "--json"]);
    assert_eq!(draft["body_text"].as_str().unwrap().trim(), "深x");
    let export = stdout(&env.run(&["drafts", "export", "1", "--format", "html"], None));
    assert!(export.contains("深x"));
    assert!(
        export.matches("<div>").count() <= 128,
        "nesting was flattened"
    );
}

#[test]
fn a_reader_that_stops_early_is_a_normal_end() {
    let env = Env::new();
    let body = "第一行\r\n".repeat(20_000);
    let raw = format!(
        "From: a@example.org\r\nSubject: long\r\nMessage-ID: <long@example.org>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    );
    assert!(env.run(&["ingest"], Some(raw.as_bytes())).status.success());
    // `drafts show 1 | head`: the reader goes away before the end, in
    // text and in JSON.
    for args in [&["drafts", "show", "1"][..], &["drafts", "list", "--json"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(env.config())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(status.success(), "{args:?}: {status}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn check_reports_every_secret_it_cannot_read_and_goes_on() {
    let env = Env::new();
    let config = std::fs::read_to_string(env.config()).unwrap()
        + "[[mailbox]]\nname = 'submissions'\nhost = 'imap.126.com'\nusername = 'u@126.com'\n\
           password_credential = 'imap-password'\n\
           [smtp]\nhost = 'smtp.126.com'\nusername = 'u@126.com'\npassword_env = 'SLUSHPILE_TEST_UNSET'\n\
           from = 'u@126.com'\n";
    std::fs::write(env.config(), config).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
        .arg("--config")
        .arg(env.config())
        .arg("check")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("SLUSHPILE_TEST_UNSET")
        .output()
        .unwrap();
    let report = stdout(&output);
    assert!(!output.status.success());
    assert!(
        report.contains("FAIL mailbox submissions")
            && report.contains("CREDENTIALS_DIRECTORY=/etc/slushpile/credentials slushpile check"),
        "{report}"
    );
    assert!(
        report.contains("FAIL smtp") && report.contains("SLUSHPILE_TEST_UNSET"),
        "{report}"
    );
    // The other checks still ran.
    assert!(
        report.contains("store") && report.contains("maildir local"),
        "{report}"
    );
}

#[test]
fn the_demo_mail_carries_real_documents_whose_article_is_read() {
    let env = Env::new();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo-mail");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&demo)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut args = vec!["ingest".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = env.run(&args, None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = env.json(&["drafts", "list", "--search", "迅速研究部署", "--json"]);
    let draft = &found.as_array().unwrap()[0];
    let documents: Vec<&Value> = draft["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["article_text"].is_string())
        .collect();
    assert_eq!(documents.len(), 2, "the .docx and the .pdf: {draft}");
    for document in documents {
        assert!(document["extraction_note"].is_null(), "{document}");
        assert!(
            document["article_text"]
                .as_str()
                .unwrap()
                .contains("迅速研究部署")
        );
    }
}

#[test]
fn a_second_demo_says_one_is_running_before_anything_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pidfile = root.join("target/demo/daemon.pid");
    if pidfile.exists() {
        return; // A real demo is running here; leave it alone.
    }
    std::fs::create_dir_all(pidfile.parent().unwrap()).unwrap();
    // This test process stands in for the running demo.
    std::fs::write(&pidfile, std::process::id().to_string()).unwrap();
    let output = Command::new(root.join("scripts/demo")).output().unwrap();
    std::fs::remove_file(&pidfile).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "scripts/demo: a demo is already running (pid {})",
            std::process::id()
        )),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing else is printed");
}

/// The queue's views, order and pages, and the desk, at a terminal.
#[test]
fn the_queue_sorts_pages_and_hands_drafts_on_from_the_terminal() {
    let env = Env::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messages");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    for name in &names {
        env.run(&["ingest"], Some(&fixture(name)));
    }
    let all = env.json(&["drafts", "list", "--json"]);
    let all = all.as_array().unwrap();
    // Longest first, two per page: page 2 is the 3rd and 4th longest.
    let mut lengths: Vec<(u64, i64)> = all
        .iter()
        .map(|d| {
            (
                d["length_chars"].as_u64().unwrap(),
                d["id"].as_i64().unwrap(),
            )
        })
        .collect();
    lengths.sort();
    lengths.reverse();
    let page = env.run(
        &[
            "drafts", "list", "--sort", "length", "--desc", "--page", "2", "--limit", "2", "--json",
        ],
        None,
    );
    assert!(
        page.status.success(),
        "{}",
        String::from_utf8_lossy(&page.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&page.stdout).unwrap();
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![lengths[2].1, lengths[3].1]);
    let pages = all.len().div_ceil(2);
    assert!(
        String::from_utf8_lossy(&page.stderr).contains(&format!("page 2 of {pages}")),
        "{}",
        String::from_utf8_lossy(&page.stderr)
    );
    // Automated mail apart; the open work of people's mail.
    let automated = env.json(&["drafts", "list", "--mail", "automated", "--json"]);
    assert!(
        automated
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["classification"] != "normal")
    );
    let open = env.json(&[
        "drafts", "list", "--status", "open", "--mail", "people", "--json",
    ]);
    assert!(!open.as_array().unwrap().is_empty());
    let bad = env.run(&["drafts", "list", "--sort", "size"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("received, title"));

    // Assigned by a signer, found by holder, discussed.
    assert!(env.run(&["editors", "add", "li"], None).status.success());
    assert!(
        env.run(&["editors", "add", "wang", "--role", "signer"], None)
            .status
            .success()
    );
    let reference = open[0]["reference"].as_str().unwrap().to_string();
    let assigned = env.run(
        &[
            "drafts",
            "assign",
            &reference,
            "--to",
            "li",
            "--note",
            "你熟悉這位作者",
            "--as",
            "wang",
        ],
        None,
    );
    assert!(
        assigned.status.success(),
        "{}",
        String::from_utf8_lossy(&assigned.stderr)
    );
    let held = env.json(&["drafts", "list", "--holder", "li", "--json"]);
    assert_eq!(held[0]["reference"], reference.as_str());
    let refused = env.run(&["drafts", "take-over", &reference, "--as", "wang"], None);
    assert!(!refused.status.success(), "li's claim has not run out");
    let commented = env.run(
        &[
            "drafts",
            "comment",
            &reference,
            "--text",
            "結尾可再緊湊些",
            "--as",
            "wang",
        ],
        None,
    );
    assert!(commented.status.success());
    let shown = stdout(&env.run(&["drafts", "show", &reference], None));
    assert!(
        shown.contains("assigned") && shown.contains("結尾可再緊湊些"),
        "{shown}"
    );
}
