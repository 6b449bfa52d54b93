//! One tool's run against a fresh Dovecot: the raw client, mbsync or
//! slushpile, with its wall time, peak RSS and CPU (and Dovecot's).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::corpus::Corpus;
use super::support::{Dovecot, HOST};
use super::{Args, SLUSHPILE, Sample, Tool};

struct Measured {
    wall: Duration,
    rss_kb: i64,
    cpu: f64,
    status: i32,
}

/// Writes back what earlier runs left dirty in the page cache, so no run
/// (or the floor's write) pays for another's writeback.
pub fn settle_writeback() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// A fresh Dovecot whose INBOX holds the whole corpus, already indexed so
/// no tool pays for Dovecot's first scan of new/.
async fn seeded_dovecot(corpus: &Corpus, messages: usize) -> Dovecot {
    let dovecot = Dovecot::start().await;
    corpus.seed(&dovecot.maildir());
    let mut session = dovecot.imap_session().await;
    let mailbox = session.select("INBOX").await.expect("SELECT");
    assert_eq!(mailbox.exists as usize, messages, "seeded INBOX");
    session.logout().await.expect("LOGOUT");
    dovecot
}

pub async fn run_tool(tool: Tool, corpus: &Corpus, args: &Args) -> Sample {
    let (messages, baseline) = (args.messages, args.baseline.as_deref());
    let dovecot = seeded_dovecot(corpus, messages).await;
    settle_writeback();
    let work = tempfile::Builder::new()
        .prefix("slushbench-run")
        .tempdir()
        .unwrap();
    let dir = work.path();
    let log = dir.join("output.log");
    let mut cmd = match tool {
        Tool::Raw => {
            let mut cmd = Command::new(std::env::current_exe().unwrap());
            cmd.arg("--raw-client")
                .arg(dovecot.imaps_port().to_string())
                .arg(dovecot.ca_pem())
                .arg(&dovecot.user)
                .arg(&dovecot.password);
            cmd
        }
        Tool::Mbsync => {
            let config = dir.join("mbsyncrc");
            fs::write(&config, mbsync_config(&dovecot, dir)).unwrap();
            // mbsync creates the INBOX Maildir but not the store's root.
            fs::create_dir_all(dir.join("mail")).unwrap();
            let mut cmd = Command::new("mbsync");
            // HOME too: nothing from the user's own ~/.mbsyncrc or state.
            cmd.env("HOME", dir).arg("-c").arg(&config).arg("-a");
            cmd
        }
        Tool::Slushpile | Tool::Baseline => {
            let config = slushpile_config(&dovecot, dir);
            // SLUSHBENCH_WRAP="perf record -g -o /tmp/perf.data --" profiles
            // slushpile in exactly the benchmark's setting.
            let wrap = std::env::var("SLUSHBENCH_WRAP").unwrap_or_default();
            let mut argv: Vec<&str> = wrap.split_whitespace().collect();
            argv.push(match (tool, baseline) {
                (Tool::Baseline, Some(path)) => path.to_str().expect("a UTF-8 path"),
                _ => SLUSHPILE,
            });
            let mut cmd = Command::new(argv[0]);
            cmd.args(&argv[1..])
                .arg("--config")
                .arg(config)
                .args(["run", "--once"]);
            if tool == Tool::Baseline {
                cmd.envs(args.baseline_env.iter().map(|(k, v)| (k, v)));
            }
            cmd
        }
    };
    let out = File::create(&log).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    let server_before = dovecot.cpu_seconds();
    let measured = tokio::task::block_in_place(|| measure(&mut cmd));
    let server_cpu = settled_cpu(&dovecot) - server_before;
    let output = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        measured.status == 0,
        "{tool:?} exited with {}:\n{}",
        measured.status,
        tail(&output)
    );
    let mut store_bytes = 0;
    match tool {
        Tool::Raw => {
            let fetched: usize = output
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            assert_eq!(fetched, messages, "raw client FETCH responses");
        }
        Tool::Mbsync => {
            let inbox = dir.join("mail/INBOX");
            let synced: usize = ["cur", "new"]
                .iter()
                .filter_map(|sub| fs::read_dir(inbox.join(sub)).ok())
                .map(|d| d.count())
                .sum();
            assert_eq!(
                synced,
                messages,
                "mbsync local messages:\n{}",
                tail(&output)
            );
        }
        Tool::Slushpile | Tool::Baseline => {
            let url = store_url(dir);
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let drafts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM drafts")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            assert_eq!(drafts as usize, messages, "drafts:\n{}", tail(&output));
            assert_eq!(dovecot.count("INBOX"), 0, "INBOX after move");
            assert_eq!(dovecot.count("Ingested"), messages, "Ingested after move");
            let packs = fs::read_dir(dir.join("slushpile.db-packs"))
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len());
            store_bytes = ["slushpile.db", "slushpile.db-wal"]
                .iter()
                .filter_map(|f| fs::metadata(dir.join(f)).ok())
                .map(|m| m.len())
                .chain(packs)
                .sum();
        }
    }
    Sample {
        wall: measured.wall.as_secs_f64(),
        rss_kb: measured.rss_kb,
        cpu: measured.cpu,
        server_cpu,
        store_bytes,
    }
}

pub fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(4000);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[start..]
}

/// Runs `cmd` to completion; peak RSS comes from the kernel's accounting of
/// that one child (wait4), not from sampling.
#[expect(clippy::zombie_processes, reason = "reaped by wait4, for its rusage")]
fn measure(cmd: &mut Command) -> Measured {
    let began = Instant::now();
    let child = cmd.spawn().expect("spawn benchmark child");
    let (status, usage) = wait4(child.id() as i32);
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Measured {
        wall: began.elapsed(),
        rss_kb: usage.ru_maxrss,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        status,
    }
}

/// Dovecot's CPU seconds once the sessions of the run have ended: a
/// session's `imap` process is counted when the master reaps it.
fn settled_cpu(dovecot: &Dovecot) -> f64 {
    let mut last = dovecot.cpu_seconds();
    for _ in 0..30 {
        std::thread::sleep(Duration::from_millis(100));
        let now = dovecot.cpu_seconds();
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// Exit code (or 128 + signal) and the child's resource usage.
pub fn wait4(pid: i32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is a child we spawned.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.raw_os_error(), Some(libc::EINTR), "wait4: {e}");
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    (code, usage)
}

pub fn store_url(dir: &Path) -> String {
    format!("sqlite://{}/slushpile.db", dir.display())
}

pub fn slushpile_config(dovecot: &Dovecot, dir: &Path) -> PathBuf {
    fs::write(dir.join("imap-password"), &dovecot.password).unwrap();
    // slushpile refuses a password file others may read.
    fs::set_permissions(
        dir.join("imap-password"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let config = format!(
        r#"[general]
instance = "bench"
[store]
url = "{url}"
[[mailbox]]
name = "submissions"
host = "{HOST}"
port = {port}
tls = "implicit"
ca_file = "{ca}"
username = "{user}"
password_file = "imap-password"
after_ingest = "move"
"#,
        url = store_url(dir),
        port = dovecot.imaps_port(),
        ca = dovecot.ca_pem().display(),
        user = dovecot.user,
    );
    let path = dir.join("slushpile.toml");
    fs::write(&path, config).unwrap();
    path
}

fn mbsync_config(dovecot: &Dovecot, dir: &Path) -> String {
    // mbsync 1.4 checks only DNS names in the certificate, never IP
    // addresses: connect by the name the test CA also signed.
    format!(
        "IMAPAccount bench\n\
         Host localhost\n\
         Port {port}\n\
         User {user}\n\
         Pass {password}\n\
         SSLType IMAPS\n\
         CertificateFile {ca}\n\
         \n\
         IMAPStore remote\n\
         Account bench\n\
         \n\
         MaildirStore local\n\
         Path {dir}/mail/\n\
         Inbox {dir}/mail/INBOX\n\
         \n\
         Channel bench\n\
         Far :remote:\n\
         Near :local:\n\
         Patterns INBOX\n\
         Sync Pull\n\
         Create Near\n\
         SyncState *\n",
        port = dovecot.imaps_port(),
        user = dovecot.user,
        password = dovecot.password,
        ca = dovecot.ca_pem().display(),
        dir = dir.display(),
    )
}
