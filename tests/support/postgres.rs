//! A private, real PostgreSQL server: its own temp dir, cluster and loopback
//! port. Tests normally share one per test process through [`shared`] and
//! each take a fresh database from [`Postgres::create_database`].

use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::free_port;

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tempfile::TempDir;
use tokio::sync::OnceCell;

use super::dovecot::{become_subreaper, give, signal};
use super::user::{MailOwner, mail_owner, running_as_root};

/// Where the server listens; nothing else is bound.
pub const HOST: &str = "127.0.0.1";

/// The cluster's superuser. Fixed with `initdb -U` rather than inherited
/// from whichever OS account the server runs as, so URLs do not depend on
/// the machine.
pub const SUPERUSER: &str = "slushpile";

const READY_TIMEOUT_SECS: u32 = 30;
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Appended to the generated postgresql.conf rather than passed with
/// `pg_ctl -o`, which goes through /bin/sh and would need the socket path
/// quoted; here it also survives a restart and shows up in a leftover dir.
/// Only the port, which may change between attempts, is on the command line.
const CONF_TEMPLATE: &str = r#"
# Private test instance written by tests/support/postgres.rs.
listen_addresses = '127.0.0.1'
# The unix socket goes in the instance's own dir: the default
# /var/run/postgresql is the system cluster's and not writable for us.
unix_socket_directories = '@SOCKDIR@'
# Throwaway data: durability only costs time.
fsync = off
synchronous_commit = off
full_page_writes = off
# Every test in the process opens its own pool against this one server, and
# libtest runs as many tests at once as there are CPUs.
max_connections = 300
"#;

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The process-wide server: started by the first test that asks, then
/// reused by every other test in the same binary.
///
/// Statics are never dropped, so [`Postgres`]'s Drop does not stop this one;
/// its reaper (see `spawn_reaper`) does, as soon as the test process exits
/// for whatever reason, including SIGKILL.
pub async fn shared() -> &'static Postgres {
    static SHARED: OnceCell<Postgres> = OnceCell::const_new();
    SHARED.get_or_init(Postgres::start).await
}

/// One running private PostgreSQL. Everything lives in a temp dir that is
/// removed, and the server stopped, on drop or when the test process exits.
///
/// Authentication is `trust`: connect as [`SUPERUSER`] without a password.
pub struct Postgres {
    dir: TempDir,
    /// Canonical, because the reaper compares it with /proc/PID/cwd.
    data: PathBuf,
    bin: PathBuf,
    owner: MailOwner,
    port: u16,
    postmaster: Option<i32>,
    reaper: Child,
    startup: Duration,
}

impl Postgres {
    /// Starts a fresh, empty cluster. Panics (printing the server's log) if
    /// it does not come up.
    pub async fn start() -> Postgres {
        // initdb and `pg_ctl -w` block, and the tokio runtime of a
        // #[tokio::test] has a single worker thread.
        match tokio::task::spawn_blocking(Postgres::start_blocking).await {
            Ok(pg) => pg,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("PostgreSQL start task failed: {e}"),
        }
    }

    /// A new, empty database owned by [`SUPERUSER`]; returns its URL.
    pub async fn create_database(&self) -> String {
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        // A fresh connection every time, not a pool kept in `self`: pools are
        // tied to the runtime that created them, and each #[tokio::test] has
        // its own runtime that ends with the test.
        let mut admin = match PgConnection::connect(&self.url_for("postgres")).await {
            Ok(conn) => conn,
            Err(e) => self.fail(&format!("connect to the postgres database: {e}")),
        };
        let sql = format!("CREATE DATABASE \"{name}\"");
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await {
            self.fail(&format!("CREATE DATABASE {name}: {e}"));
        }
        let _ = admin.close().await;
        self.url_for(&name)
    }

    /// URL of database `db` (which need not exist yet).
    pub fn url_for(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@{HOST}:{}/{db}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Time from creating the temp dir until the server accepted
    /// connections (initdb included).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The instance's temp dir (cluster in `data/`, logs, unix socket).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn postmaster_pid(&self) -> Option<i32> {
        self.postmaster
    }

    pub fn reaper_pid(&self) -> u32 {
        self.reaper.id()
    }

    /// initdb's and pg_ctl's output plus the server log, for failure
    /// messages.
    pub fn log(&self) -> String {
        let mut log = String::new();
        for name in ["initdb.log", "pg_ctl.log", "postgres.log"] {
            if let Ok(text) = fs::read_to_string(self.dir.path().join(name)) {
                log.push_str(&format!("=== {name}\n{text}"));
            }
        }
        log
    }

    fn start_blocking() -> Postgres {
        let began = Instant::now();
        become_subreaper();
        let owner = mail_owner().clone();
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            // Short: the unix socket lives here and socket paths are capped
            // at 108 bytes.
            .prefix("slushpg")
            .tempdir()
            .expect("create PostgreSQL temp dir");
        // The 0700 dir root created must be the server's: initdb refuses to
        // run as root and creates the data dir inside it.
        give(dir.path(), &owner);
        let data = dir
            .path()
            .canonicalize()
            .expect("canonicalize PostgreSQL temp dir")
            .join("data");
        // Before anything else runs, so that from here on a dying test
        // process never leaves a server or a temp dir behind.
        let reaper = spawn_reaper(&owner, &data, dir.path());
        let mut pg = Postgres {
            dir,
            data,
            bin,
            owner,
            port: 0,
            postmaster: None,
            reaper,
            startup: Duration::ZERO,
        };
        pg.initdb();
        // Free ports are found by binding port 0 and letting go, so another
        // test may grab one before the server does: then pick a new one.
        for attempt in 1.. {
            pg.port = free_port();
            match pg.launch() {
                Ok(()) => break,
                Err(address_in_use) if address_in_use && attempt < 5 => continue,
                Err(_) => pg.fail("pg_ctl start failed"),
            }
        }
        pg.startup = began.elapsed();
        pg
    }

    fn initdb(&self) {
        let out = self.log_file("initdb.log");
        let status = self
            .command("initdb")
            .arg("-D")
            .arg(&self.data)
            .args(["-U", SUPERUSER, "--auth=trust", "--no-sync"])
            .args(["--locale=C.UTF-8", "-E", "UTF8", "--no-instructions"])
            .stdout(out.try_clone().expect("dup initdb.log"))
            .stderr(out)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => self.fail(&format!("initdb failed ({s})")),
            Err(e) => self.fail(&format!(
                "cannot run {}: {e} (scripts/test installs postgresql)",
                self.bin.join("initdb").display()
            )),
        }
        let sockdir = self.dir.path().display().to_string().replace('\'', "''");
        let conf = CONF_TEMPLATE.replace("@SOCKDIR@", &sockdir);
        let path = self.data.join("postgresql.conf");
        let mut text = fs::read_to_string(&path).expect("read postgresql.conf");
        text.push_str(&conf);
        fs::write(&path, text).expect("write postgresql.conf");
    }

    /// `Err(true)` when the port was taken in the meantime.
    fn launch(&mut self) -> Result<(), bool> {
        let log_path = self.dir.path().join("postgres.log");
        let log_len = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0) as usize;
        let out = self.log_file("pg_ctl.log");
        let status = self
            .command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&log_path)
            .args(["-w", "-t", &READY_TIMEOUT_SECS.to_string()])
            .args(["-o", &format!("-p {}", self.port)])
            .stdout(out.try_clone().expect("dup pg_ctl.log"))
            .stderr(out)
            .status()
            .unwrap_or_else(|e| self.fail(&format!("cannot run pg_ctl: {e}")));
        if status.success() {
            let pid = fs::read_to_string(self.data.join("postmaster.pid"))
                .ok()
                .and_then(|s| s.lines().next()?.trim().parse().ok())
                .unwrap_or_else(|| self.fail("no PID in postmaster.pid after start"));
            self.postmaster = Some(pid);
            return Ok(());
        }
        // A timed-out start may leave a postmaster running.
        self.pg_ctl_stop();
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        let new_log = log.get(log_len..).unwrap_or(&log);
        Err(new_log.contains("Address already in use"))
    }

    /// Immediate shutdown, then makes sure the postmaster is gone. `pg_ctl
    /// stop -w` returns once postmaster.pid is removed, which the postmaster
    /// does only after all its backends have exited (stragglers are
    /// SIGKILLed after 5 s); what may remain is the postmaster itself as our
    /// zombie (we are the subreaper it was handed to when pg_ctl exited), or
    /// a live one if pg_ctl failed.
    fn stop(&mut self) {
        let Some(pid) = self.postmaster.take() else {
            return;
        };
        if !self.pg_ctl_stop() {
            signal(pid, libc::SIGQUIT);
        }
        if !wait_gone(pid, STOP_TIMEOUT) {
            eprintln!("PostgreSQL postmaster {pid} still there after {STOP_TIMEOUT:?}; killing it");
            signal(pid, libc::SIGKILL);
            wait_gone(pid, STOP_TIMEOUT);
        }
    }

    fn pg_ctl_stop(&self) -> bool {
        let out = self.log_file("pg_ctl.log");
        self.command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "-t", "10"])
            .stdout(out.try_clone().expect("dup pg_ctl.log"))
            .stderr(out)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A PostgreSQL program run as the owner of the temp dir.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        as_owner(&mut cmd, &self.owner);
        cmd.current_dir(self.dir.path()).stdin(Stdio::null());
        cmd
    }

    fn log_file(&self, name: &str) -> File {
        File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join(name))
            .unwrap_or_else(|e| panic!("open {name}: {e}"))
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n--- PostgreSQL log ({}) ---\n{}",
            self.dir.path().display(),
            self.log()
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if std::thread::panicking() && self.postmaster.is_some() {
            eprintln!(
                "--- PostgreSQL log ({}) ---\n{}",
                self.dir.path().display(),
                self.log()
            );
        }
        self.stop();
        // Closing its lifeline makes the reaper run now: it finds no
        // postmaster and removes the temp dir.
        drop(self.reaper.stdin.take());
        let _ = self.reaper.wait();
    }
}

/// Newest `/usr/lib/postgresql/VERSION/bin` with an initdb (Debian keeps
/// the server programs off PATH), or `$SLUSHPILE_PG_BIN`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SLUSHPILE_PG_BIN") {
        return dir.into();
    }
    let root = Path::new("/usr/lib/postgresql");
    let newest = fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("bin/initdb").is_file())
        .filter_map(|e| {
            // "9.6" must sort below "10".
            let name = e.file_name().to_string_lossy().into_owned();
            let version: Vec<u32> = name
                .split('.')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            Some((version, e.path()))
        })
        .max();
    match newest {
        Some((_, dir)) => dir.join("bin"),
        None => panic!(
            "no {}/*/bin/initdb: scripts/test installs postgresql (or set SLUSHPILE_PG_BIN)",
            root.display()
        ),
    }
}

/// initdb and the server refuse to run as root; as root, run them as the
/// same unprivileged account that owns the Dovecot test instances.
fn as_owner(cmd: &mut Command, owner: &MailOwner) {
    if running_as_root() {
        // std also drops root's supplementary groups when uid is set.
        cmd.uid(owner.uid).gid(owner.gid);
    }
}

/// Stops the server and removes `dir` once the test process is gone.
///
/// The shared server lives in a static, which is never dropped, and any
/// test process can die without unwinding (a panic in a non-test thread,
/// SIGKILL from a timeout, Ctrl-C). pg_ctl puts the postmaster in its own
/// session, so nothing would take it down with us. Hence a small sh process
/// whose stdin is a pipe only this process writes to: the kernel closes the
/// write end however we exit, `cat` sees EOF at once, and the reaper then
/// sends SIGQUIT (PostgreSQL's immediate shutdown, what `pg_ctl stop -m
/// immediate` sends) and waits for postmaster.pid to go. That beats polling
/// `kill -0 PARENT`: no PID reuse, no latency, and no permission issue when
/// the reaper runs as a different user than the test. Our end of the pipe is
/// close-on-exec, so no other child keeps it open.
///
/// It runs as the server's owner, so at worst it can signal that account's
/// processes, and only a process whose cwd is the data dir (the postmaster
/// chdirs there) in case postmaster.pid is stale and its PID reused. Own
/// process group, so a terminal's Ctrl-C, which kills the tests, does not
/// kill the reaper too.
fn spawn_reaper(owner: &MailOwner, data: &Path, dir: &Path) -> Child {
    const SCRIPT: &str = r#"
cat >/dev/null
pidfile="$1/postmaster.pid"
if read -r pid 2>/dev/null <"$pidfile" && [ "$(readlink "/proc/$pid/cwd")" = "$1" ]; then
    kill -QUIT "$pid"
    i=0
    while [ -e "$pidfile" ] && [ "$i" -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
fi
rm -rf "$2"
"#;
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", SCRIPT, "slushpile-pg-reaper"])
        .arg(data)
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    as_owner(&mut cmd, owner);
    cmd.spawn().expect("spawn PostgreSQL reaper")
}

/// Whether `pid` has exited within `limit`; reaps it if it is our child.
fn wait_gone(pid: i32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        // SAFETY: waitpid on a single PID with a null status pointer; for a
        // process that is not our child it just fails with ECHILD.
        if unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) } == pid {
            return true;
        }
        // SAFETY: kill with signal 0 only checks for existence.
        if unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
        {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
