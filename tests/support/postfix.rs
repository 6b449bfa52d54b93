//! A private, real Postfix per test: its own config, queue and log in a temp
//! dir, three loopback SMTP ports, and delivery only to the private Dovecot.
//!
//! Needs root: Postfix's master must start as root to switch its daemons to
//! `mail_owner`. The Debian package's `postfix` user and `postdrop` group
//! are used; no system Postfix needs to run (or is touched).

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

use super::dovecot::{
    Dovecot, HOST, accepts, become_subreaper, free_ports, greets, reap_group, signal,
};
use super::tls::TestCa;
use super::user::running_as_root;

/// The only domain Postfix delivers (over LMTP to the private Dovecot).
/// Everything else hits `default_transport = error`.
pub const TEST_DOMAIN: &str = "example.org";

/// Always refused at RCPT with this permanent reply.
pub const REJECTED: &str = "rejected@example.org";
pub const REJECTED_REPLY: &str = "550 5.1.1 no such user";
/// Always refused at RCPT with this temporary reply.
pub const TEMPFAIL: &str = "tempfail@example.org";
pub const TEMPFAIL_REPLY: &str = "450 4.2.0 try later";

const POSTFIX_BIN: &str = "/usr/sbin/postfix";
const MASTER_BIN: &str = "/usr/lib/postfix/sbin/master";
const MAIL_OWNER: &str = "postfix";
const SETGID_GROUP: &str = "postdrop";
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// `@NAME@` placeholders, as in dovecot.rs. Nothing is read from
/// /etc/postfix: `-c` points every program at this directory.
const MAIN_CF: &str = r#"# Private test instance written by tests/support/postfix.rs.
compatibility_level = 3.6
queue_directory = @DIR@/queue
data_directory = @DIR@/data
mail_owner = postfix
setgid_group = postdrop
# Tells parallel instances apart in logs and process titles.
syslog_name = @NAME@
# No syslog daemon is needed (or polluted): postlogd writes this file.
maillog_file = @DIR@/maillog
maillog_file_prefixes = @DIR@

myhostname = postfix.slushpile.test
mydomain = slushpile.test
myorigin = $myhostname

# Safety: nothing leaves the machine. Only example.org is a known domain;
# it goes over LMTP to the private Dovecot. Everything else, including
# this host's own names, resolves to the error transport, which makes
# smtpd refuse such recipients at RCPT with the text below.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = @DOMAIN@
relay_transport = lmtp:inet:[127.0.0.1]:@LMTP_PORT@
relayhost =
transport_maps =
local_transport = error:5.7.1 local delivery is disabled in tests
default_transport = error:5.7.1 only @DOMAIN@ is delivered in tests
# Numeric next hops only; never ask DNS, even for MX records.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no

smtpd_tls_chain_files = @DIR@/etc/key.pem, @DIR@/etc/cert.pem
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:@AUTH_PORT@
smtpd_tls_auth_only = yes
# Recipients refused on purpose come first, even for authenticated and
# loopback clients (which is every client here).
smtpd_recipient_restrictions =
    check_recipient_access texthash:@DIR@/etc/recipient_access,
    permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination

# Deferred mail (Dovecot down, say) is retried within seconds, not minutes.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"#;

/// Chroot column `n`: a chroot needs a populated jail, and nothing here is
/// exposed beyond loopback. `max_use=1` on the listeners: texthash maps are
/// read when an smtpd starts, so each connection gets a fresh smtpd that
/// sees the latest `reject_*` entries.
const MASTER_CF: &str = r#"# Private test instance written by tests/support/postfix.rs.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:@SMTP_PORT@ inet n - n - - smtpd
  -o max_use=1
127.0.0.1:@STARTTLS_PORT@ inet n - n - - smtpd
  -o max_use=1
  -o smtpd_tls_security_level=may
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:@SMTPS_PORT@ inet n - n - - smtpd
  -o max_use=1
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"#;

static INSTANCES: AtomicUsize = AtomicUsize::new(0);

/// One running (or stopped) private Postfix, delivering `@example.org` mail
/// to a [`Dovecot`]'s users over LMTP. Dropping it SIGKILLs every Postfix
/// process of this instance and removes the temp dir (queue included).
///
/// Ports, all on [`HOST`], all with the test CA's certificate for
/// "localhost" and "127.0.0.1":
/// - `smtp_port()`: plain SMTP, no STARTTLS, no AUTH; loopback clients may
///   send (mynetworks).
/// - `starttls_port()`: STARTTLS offered; AUTH PLAIN/LOGIN only after it.
/// - `smtps_port()`: implicit TLS (wrapper mode) with AUTH PLAIN/LOGIN.
///
/// AUTH checks Dovecot's users; `sasl_user` is one made for this instance.
pub struct Postfix {
    /// SMTP AUTH login (a Dovecot mail user, so it also has a mailbox).
    pub sasl_user: String,
    pub sasl_password: String,
    dir: TempDir,
    name: String,
    smtp_port: u16,
    starttls_port: u16,
    smtps_port: u16,
    master: Option<Child>,
    startup: Duration,
}

struct LaunchError {
    address_in_use: bool,
    message: String,
}

impl Postfix {
    /// Starts a fresh instance with an empty queue, delivering to
    /// `dovecot` and presenting `tls`'s server certificate (normally
    /// `dovecot.tls()`). Panics (printing Postfix's log) if it does not
    /// come up.
    pub async fn start(dovecot: &Dovecot, tls: &TestCa) -> Postfix {
        assert!(
            running_as_root(),
            "the Postfix harness needs root: master(8) must switch its daemons to {MAIL_OWNER}"
        );
        become_subreaper();
        let n = INSTANCES.fetch_add(1, Ordering::Relaxed);
        let name = format!("slushpile-postfix-{}-{n}", std::process::id());
        let sasl_user = format!("mailer{n}");
        let sasl_password = dovecot.add_user(&sasl_user);
        let dir = tempfile::Builder::new()
            .prefix("slushpf")
            .tempdir()
            .expect("create Postfix temp dir");
        let root = dir.path();
        // Postfix's daemons run as `postfix` and open data_directory (and
        // the queue, by relative paths after chdir) themselves.
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
        for sub in ["etc", "queue", "data"] {
            fs::create_dir(root.join(sub)).expect("create Postfix dirs");
        }
        chown(root.join("data"), Some(uid_of(MAIL_OWNER)), None).expect("chown data_directory");
        gid_of(SETGID_GROUP);
        // Copies, read by smtpd as root before it drops privileges; the
        // originals may sit in a dir only Dovecot's user can enter.
        for (from, to) in [(&tls.key_pem, "key.pem"), (&tls.cert_pem, "cert.pem")] {
            fs::copy(from, root.join("etc").join(to)).expect("copy TLS files");
        }
        fs::set_permissions(root.join("etc/key.pem"), fs::Permissions::from_mode(0o600))
            .expect("chmod key");
        let main_cf = MAIN_CF
            .replace("@DIR@", &root.display().to_string())
            .replace("@NAME@", &name)
            .replace("@DOMAIN@", TEST_DOMAIN)
            .replace("@LMTP_PORT@", &dovecot.lmtp_port().to_string())
            .replace("@AUTH_PORT@", &dovecot.auth_port().to_string());
        fs::write(root.join("etc/main.cf"), main_cf).expect("write main.cf");
        fs::write(
            root.join("etc/recipient_access"),
            format!("{REJECTED} {REJECTED_REPLY}\n{TEMPFAIL} {TEMPFAIL_REPLY}\n"),
        )
        .expect("write recipient_access");

        let mut postfix = Postfix {
            sasl_user,
            sasl_password,
            dir,
            name,
            smtp_port: 0,
            starttls_port: 0,
            smtps_port: 0,
            master: None,
            startup: Duration::ZERO,
        };
        // Free ports are found by binding port 0 and letting go, so another
        // test may grab one before master does: then pick new ones.
        for attempt in 1.. {
            [postfix.smtp_port, postfix.starttls_port, postfix.smtps_port] = free_ports(false);
            postfix.write_master_cf();
            if attempt == 1 {
                postfix.check();
            }
            match postfix.launch().await {
                Ok(()) => return postfix,
                Err(e) if e.address_in_use && attempt < 5 => continue,
                Err(e) => postfix.fail(&e.message),
            }
        }
        unreachable!()
    }

    pub fn smtp_port(&self) -> u16 {
        self.smtp_port
    }

    pub fn starttls_port(&self) -> u16 {
        self.starttls_port
    }

    pub fn smtps_port(&self) -> u16 {
        self.smtps_port
    }

    /// Time the last start took until all three ports answered (the
    /// one-off `postfix check` of a new instance not included).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The instance's temp dir (`etc/` is its config_directory, `queue/`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn is_running(&mut self) -> bool {
        match &mut self.master {
            Some(child) => child.try_wait().expect("poll Postfix master").is_none(),
            None => false,
        }
    }

    /// Postfix's mail log plus anything master printed, for failure
    /// messages and for asserting on what happened to a message.
    pub fn log(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("maillog"), read("stderr.log"))
    }

    /// Waits until the log has a line containing every one of `needles`
    /// (postlogd writes asynchronously) and returns that line. Panics with
    /// the log after `limit`.
    pub async fn wait_for_log(&self, needles: &[&str], limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let log = self.log();
            if let Some(line) = log
                .lines()
                .find(|line| needles.iter().all(|n| line.contains(n)))
            {
                return line.to_string();
            }
            if Instant::now() > deadline {
                self.fail(&format!("no log line with {needles:?} after {limit:?}"));
            }
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// From the next connection on, RCPT TO `address` gets `550 5.1.1 no
    /// such user`, as [`REJECTED`] always does.
    pub fn reject_permanently(&self, address: &str) {
        self.add_recipient_rule(address, REJECTED_REPLY);
    }

    /// From the next connection on, RCPT TO `address` gets `450 4.2.0 try
    /// later`, as [`TEMPFAIL`] always does.
    pub fn reject_temporarily(&self, address: &str) {
        self.add_recipient_rule(address, TEMPFAIL_REPLY);
    }

    /// Messages still in the queue (incoming, active, deferred or held):
    /// accepted but neither delivered nor bounced yet.
    pub fn queued(&self) -> usize {
        // The queue manager renames files between active/ and deferred/
        // while we read the directories one after the other, so one scan
        // can miss a message or see it twice. Queue IDs dedupe; two equal
        // scans in a row rule out a miss.
        let mut last = self.queue_ids();
        loop {
            let now = self.queue_ids();
            if now == last {
                return now.len();
            }
            last = now;
        }
    }

    /// Waits until [`Postfix::queued`] is 0: the queue file of a delivered
    /// message goes a moment after the recipient's mailbox has it.
    pub async fn wait_for_empty_queue(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.queued() > 0 {
            if Instant::now() > deadline {
                self.fail(&format!(
                    "{} messages still queued after {limit:?}",
                    self.queued()
                ));
            }
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asks the queue manager to retry deferred mail now (`postqueue -f`),
    /// e.g. after Dovecot came back.
    pub fn flush(&self) {
        let out = Command::new("postqueue")
            .arg("-c")
            .arg(self.config_dir())
            .arg("-f")
            .output()
            .expect("run postqueue");
        if !out.status.success() {
            self.fail(&format!(
                "postqueue -f failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }

    /// Graceful shutdown, what `postfix stop` does: SIGTERM to master,
    /// which takes its daemons down. Clients then see connection refused.
    /// The queue is kept for [`Postfix::start_again`].
    pub fn stop(&mut self) {
        let Some(mut master) = self.master.take() else {
            return;
        };
        signal(master.id() as i32, libc::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while master.try_wait().expect("poll Postfix master").is_none() {
            if Instant::now() > deadline {
                eprintln!("Postfix master ignored SIGTERM for {STOP_TIMEOUT:?}; killing it");
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        signal(-(master.id() as i32), libc::SIGKILL);
        master.wait().expect("reap Postfix master");
        reap_group(master.id() as i32);
    }

    /// Starts a stopped instance again on the same ports with the same
    /// queue (deferred mail is then retried). No-op if running.
    pub async fn start_again(&mut self) {
        if self.is_running() {
            return;
        }
        for attempt in 1.. {
            match self.launch().await {
                Ok(()) => return,
                // Killed daemons may take a moment to release the ports.
                Err(e) if e.address_in_use && attempt < 50 => {
                    sleep(Duration::from_millis(100)).await
                }
                Err(e) => self.fail(&e.message),
            }
        }
    }

    /// Queue file names (= queue IDs) below the queues that hold mail.
    fn queue_ids(&self) -> BTreeSet<String> {
        fn collect(dir: &Path, ids: &mut BTreeSet<String>) {
            for entry in fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
            {
                match entry.file_type() {
                    // deferred/ and hold/ are hashed into subdirectories.
                    Ok(t) if t.is_dir() => collect(&entry.path(), ids),
                    Ok(t) if t.is_file() => {
                        ids.insert(entry.file_name().to_string_lossy().into_owned());
                    }
                    _ => {}
                }
            }
        }
        let mut ids = BTreeSet::new();
        for queue in ["incoming", "active", "deferred", "hold"] {
            collect(&self.dir.path().join("queue").join(queue), &mut ids);
        }
        ids
    }

    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    fn write_master_cf(&self) {
        let master_cf = MASTER_CF
            .replace("@SMTP_PORT@", &self.smtp_port.to_string())
            .replace("@STARTTLS_PORT@", &self.starttls_port.to_string())
            .replace("@SMTPS_PORT@", &self.smtps_port.to_string());
        fs::write(self.config_dir().join("master.cf"), master_cf).expect("write master.cf");
    }

    fn add_recipient_rule(&self, address: &str, reply: &str) {
        assert!(
            !address.is_empty() && !address.contains(char::is_whitespace),
            "address without whitespace: {address:?}"
        );
        let path = self.config_dir().join("recipient_access");
        let mut text = fs::read_to_string(&path).expect("read recipient_access");
        text.push_str(&format!("{address} {reply}\n"));
        // Renamed into place: an smtpd starting now reads old or new, whole.
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, text).expect("write recipient_access");
        fs::rename(&tmp, &path).expect("replace recipient_access");
    }

    /// `postfix check` validates the config and creates the queue's
    /// subdirectories with the owners and modes Postfix insists on.
    fn check(&self) {
        let out = Command::new(POSTFIX_BIN)
            .arg("-c")
            .arg(self.config_dir())
            .arg("check")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {POSTFIX_BIN}: {e} (scripts/test installs postfix)")
            });
        if !out.status.success() {
            self.fail(&format!(
                "postfix check failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }

    /// master(8) in the foreground as our child rather than `postfix
    /// start` (which daemonizes and runs the slower postfix-script checks):
    /// we supervise it like Dovecot and see its exit.
    async fn launch(&mut self) -> Result<(), LaunchError> {
        let root = self.dir.path();
        let log_len = self.log().len();
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("stderr.log"))
            .expect("open stderr.log");
        let began = Instant::now();
        let mut master = Command::new(MASTER_BIN)
            .arg("-c")
            .arg(self.config_dir())
            // Keeps stderr (our stderr.log) for errors before postlogd runs.
            .arg("-d")
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup stderr.log"))
            .stderr(out)
            // Own process group: on SIGTERM master signals its whole group
            // (kill(-getpid())), which must not include this test process;
            // and one SIGKILL to the group takes every daemon down.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {MASTER_BIN}: {e} (scripts/test installs postfix)")
            });

        let deadline = began + READY_TIMEOUT;
        loop {
            if let Some(status) = master.try_wait().expect("poll Postfix master") {
                signal(-(master.id() as i32), libc::SIGKILL);
                reap_group(master.id() as i32);
                // postlogd may still be writing the reason.
                sleep(Duration::from_millis(100)).await;
                let log = self.log();
                let new_log = log.get(log_len..).unwrap_or(&log);
                return Err(LaunchError {
                    address_in_use: new_log.contains("Address already in use"),
                    message: format!("Postfix master exited during startup ({status})"),
                });
            }
            if greets(self.smtp_port, "220 ").await
                && greets(self.starttls_port, "220 ").await
                && accepts(self.smtps_port).await
            {
                break;
            }
            if Instant::now() > deadline {
                signal(-(master.id() as i32), libc::SIGKILL);
                let _ = master.wait();
                reap_group(master.id() as i32);
                return Err(LaunchError {
                    address_in_use: false,
                    message: format!("Postfix not ready after {READY_TIMEOUT:?}"),
                });
            }
            sleep(Duration::from_millis(5)).await;
        }
        self.startup = began.elapsed();
        self.master = Some(master);
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut master) = self.master.take() {
            signal(-(master.id() as i32), libc::SIGKILL);
            master.wait().expect("reap Postfix master");
            reap_group(master.id() as i32);
        }
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n--- Postfix {} log ({}) ---\n{}",
            self.name,
            self.dir.path().display(),
            self.log()
        )
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if std::thread::panicking() && self.master.is_some() {
            eprintln!(
                "--- Postfix {} log ({}) ---\n{}",
                self.name,
                self.dir.path().display(),
                self.log()
            );
        }
        self.kill();
    }
}

fn uid_of(user: &str) -> u32 {
    getent_id("passwd", user).unwrap_or_else(|| {
        panic!("no {user} user: the postfix package creates it (scripts/test installs postfix)")
    })
}

fn gid_of(group: &str) -> u32 {
    getent_id("group", group).unwrap_or_else(|| {
        panic!("no {group} group: the postfix package creates it (scripts/test installs postfix)")
    })
}

fn getent_id(database: &str, name: &str) -> Option<u32> {
    let out = Command::new("getent")
        .args([database, name])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()?
        .split(':')
        .nth(2)?
        .parse()
        .ok()
}
