//! A slushpile with a Maildir source and the file transport (one .eml per
//! message sent) in a temporary directory, driven through the binary:
//! what tests of acknowledgements and letters to contributors share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new(ack_extra: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store_url = super::test_store_url_blocking(dir.path());
        let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
        std::fs::write(
            dir.path().join("slushpile.toml"),
            format!(
                "[store]\nurl = '{store_url}'\n\
                 [[maildir]]\nname = 'submissions'\npath = 'Maildir'\n\
                 [smtp]\ntransport = 'file'\ndirectory = 'outbox'\nfrom = 'submissions@example.org'\n\
                 [ack]\ntemplates = '{}'\nskip_older_than = '36500d'\nauthserv_id = 'mx.example.org'\n{ack_extra}\n",
                templates.display()
            ),
        )
        .unwrap();
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(dir.path().join("Maildir").join(sub)).unwrap();
        }
        Env { dir }
    }

    pub fn deliver(&self, name: &str, raw: &str) {
        std::fs::write(
            self.dir.path().join("Maildir/new").join(name),
            raw.replace('\n', "\r\n"),
        )
        .unwrap();
    }

    /// Exact bytes into the Maildir (`deliver` writes text with CRLF).
    pub fn deliver_bytes(&self, name: &str, raw: &[u8]) {
        std::fs::write(self.dir.path().join("Maildir/new").join(name), raw).unwrap();
    }

    /// The binary with this config, whatever its exit status.
    pub fn try_run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(self.dir.path().join("slushpile.toml"))
            .args(args)
            .output()
            .unwrap()
    }

    /// `drafts transition REFERENCE --to TO --as EDITOR [extra…]`.
    pub fn transition(&self, reference: &str, to: &str, editor: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "drafts",
            "transition",
            reference,
            "--to",
            to,
            "--as",
            editor,
        ];
        args.extend(extra);
        self.run(&args)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
            .arg("--config")
            .arg(self.dir.path().join("slushpile.toml"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    pub fn drafts(&self) -> Vec<Value> {
        let output = self.run(&["drafts", "list", "--json"]);
        serde_json::from_slice::<Value>(&output.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn ack_of(&self, message_id: &str) -> Value {
        let draft = self
            .drafts()
            .into_iter()
            .find(|d| d["message_id"] == message_id)
            .unwrap();
        draft["ack"].clone()
    }

    pub fn outbox(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("outbox"))
            .map(|dir| {
                dir.map(|e| e.unwrap().path())
                    .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// One draft as `drafts show --json` prints it.
    pub fn draft(&self, reference: &str) -> Value {
        let output = self.run(&["drafts", "show", reference, "--json"]);
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Every message sent so far, parsed: (Message-ID, In-Reply-To, subject, text).
    pub fn sent(&self) -> Vec<Sent> {
        self.outbox()
            .iter()
            .map(|path| {
                let raw = std::fs::read(path).unwrap();
                let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
                Sent {
                    message_id: parsed.message_id().unwrap_or_default().to_string(),
                    in_reply_to: parsed.in_reply_to().as_text().map(str::to_string),
                    to: parsed
                        .to()
                        .and_then(|t| t.first())
                        .and_then(|a| a.address())
                        .unwrap_or_default()
                        .to_string(),
                    subject: parsed.subject().unwrap_or_default().to_string(),
                    text: parsed
                        .body_text(0)
                        .unwrap_or_default()
                        .replace("\r\n", "\n"),
                }
            })
            .collect()
    }
}

/// A message the file transport wrote.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub to: String,
    pub subject: String,
    pub text: String,
}
