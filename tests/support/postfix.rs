//! A private, real Postfix per test: its own config, queue and log in a temp
//! dir, three loopback SMTP ports, and delivery only to the private Dovecot.
//!
//! Needs root: Postfix's master must start as root to switch its daemons to
//! `mail_owner`. The Debian package's `postfix` user and `postdrop` group
//! are used; no system Postfix needs to run (or is touched).

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

use super::dovecot::{Dovecot, HOST, accepts, become_subreaper, greets, reap_group, signal};
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
const POSTQUEUE_BIN: &str = "/usr/sbin/postqueue";
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
# After the final dot, before the answer: recipients whose mail the server
# keeps the sender waiting for (`Postfix::answer_late`).
smtpd_end_of_data_restrictions =
    check_recipient_access texthash:@DIR@/etc/end_of_data_access

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

enum Ownership {
    /// master has not bound every port yet.
    NotYet,
    Ours,
    /// Someone else listens on this port too.
    Shared(u16),
}

struct LaunchError {
    /// Worth another attempt (with new ports, unless restarting).
    retry: bool,
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
        fs::create_dir(root.join("etc")).expect("create config_directory");
        create_postfix_dirs(root);
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
        write_config(&root.join("etc/main.cf"), &main_cf);
        write_config(
            &root.join("etc/recipient_access"),
            &format!("{REJECTED} {REJECTED_REPLY}\n{TEMPFAIL} {TEMPFAIL_REPLY}\n"),
        );
        write_config(&root.join("etc/end_of_data_access"), "");

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
        // Another test may take a port before master binds it, or pick the
        // same one for its Postfix: then pick new ones (see `pick_ports`).
        for attempt in 1.. {
            [postfix.smtp_port, postfix.starttls_port, postfix.smtps_port] = pick_ports();
            postfix.write_master_cf();
            match postfix.launch().await {
                Ok(()) => return postfix,
                Err(e) if e.retry && attempt < 10 => {
                    let why = e.message.lines().next().unwrap_or_default();
                    eprintln!("Postfix start attempt {attempt}: {why}; trying new ports");
                }
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

    /// Time the last start (or start_again) took until master owned all
    /// three ports and both plain-text ports greeted.
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
        let out = Command::new(POSTQUEUE_BIN)
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
                Err(e) if e.retry && attempt < 50 => sleep(Duration::from_millis(100)).await,
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
        write_config(&self.config_dir().join("master.cf"), &master_cf);
    }

    /// From the next connection on, mail to `address` is answered
    /// `seconds` after its final dot (and then accepted): the window in
    /// which a sender has handed a message over without knowing its fate.
    pub fn answer_late(&self, address: &str, seconds: u32) {
        self.add_rule("end_of_data_access", address, &format!("sleep {seconds}"));
    }

    fn add_recipient_rule(&self, address: &str, reply: &str) {
        self.add_rule("recipient_access", address, reply);
    }

    fn add_rule(&self, map: &str, address: &str, reply: &str) {
        assert!(
            !address.is_empty() && !address.contains(char::is_whitespace),
            "address without whitespace: {address:?}"
        );
        let path = self.config_dir().join(map);
        let mut text = fs::read_to_string(&path).expect("read an access map");
        text.push_str(&format!("{address} {reply}\n"));
        // Renamed into place: an smtpd starting now reads old or new, whole.
        let tmp = path.with_extension("tmp");
        write_config(&tmp, &text);
        fs::rename(&tmp, &path).expect("replace an access map");
    }

    /// `postfix check`'s verdict on the config, only after master failed:
    /// it costs 0.3 s (a shell script running postconf many times), and
    /// more when the machine is busy.
    fn check(&self) -> (bool, String) {
        match Command::new(POSTFIX_BIN)
            .arg("-c")
            .arg(self.config_dir())
            .arg("check")
            .stdin(Stdio::null())
            .output()
        {
            Ok(out) => (
                out.status.success(),
                format!(
                    "postfix check: {}{}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            ),
            Err(e) => (
                false,
                format!("cannot run {POSTFIX_BIN}: {e} (scripts/test installs postfix)"),
            ),
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
            // Leaves stdout/stderr (stderr.log) open instead of /dev/null.
            // master's own early errors still go to syslog only, but
            // anything else printed there ends up in failure messages.
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
                // master opens its listeners before it starts postlogd, so
                // a failed bind is logged only to syslog (/dev/log), which
                // is usually absent: ask the ports instead.
                let taken: Vec<u16> = [self.smtp_port, self.starttls_port, self.smtps_port]
                    .into_iter()
                    .filter(|&port| TcpListener::bind((HOST, port)).is_err())
                    .collect();
                let log = self.log();
                let new_log = log.get(log_len..).unwrap_or(&log);
                let in_use = !taken.is_empty() || new_log.contains("Address already in use");
                // Ports free again and a config `postfix check` accepts:
                // most likely a bind race with a port that was taken only
                // for a moment, so worth another try.
                let (config_ok, verdict) = if in_use {
                    (true, String::new())
                } else {
                    self.check()
                };
                return Err(LaunchError {
                    retry: in_use || config_ok,
                    message: format!(
                        "Postfix master exited during startup ({status}), ports in use: \
                         {taken:?} (errors before postlogd runs go only to syslog)\n{verdict}"
                    ),
                });
            }
            match self.ownership(master.id()) {
                Ownership::NotYet => {}
                Ownership::Shared(port) => {
                    signal(-(master.id() as i32), libc::SIGKILL);
                    let _ = master.wait();
                    reap_group(master.id() as i32);
                    return Err(LaunchError {
                        retry: true,
                        message: format!(
                            "port {port} is also bound by another process (Postfix \
                             listens with SO_REUSEPORT, so a second one does not fail)"
                        ),
                    });
                }
                Ownership::Ours => {
                    if greets(self.smtp_port, "220 ").await
                        && greets(self.starttls_port, "220 ").await
                        && accepts(self.smtps_port).await
                    {
                        break;
                    }
                }
            }
            if Instant::now() > deadline {
                signal(-(master.id() as i32), libc::SIGKILL);
                let _ = master.wait();
                reap_group(master.id() as i32);
                return Err(LaunchError {
                    retry: false,
                    message: format!("Postfix not ready after {READY_TIMEOUT:?}"),
                });
            }
            sleep(Duration::from_millis(5)).await;
        }
        self.startup = began.elapsed();
        self.master = Some(master);
        Ok(())
    }

    /// Whether master alone listens on our ports. Postfix sets SO_REUSEPORT
    /// on its listeners, so when two instances (both root) pick the same
    /// port both binds succeed and the kernel splits connections between
    /// them: a test would then talk to the other test's Postfix. Whichever
    /// instance sees the port shared after binding it backs off.
    fn ownership(&self, master: u32) -> Ownership {
        let ours = socket_inodes(master);
        let mut all_ours = true;
        for port in [self.smtp_port, self.starttls_port, self.smtps_port] {
            let listeners = listening_inodes(port);
            if listeners.len() > 1 {
                return Ownership::Shared(port);
            }
            all_ours &= listeners.iter().any(|inode| ours.contains(inode));
        }
        if all_ours {
            Ownership::Ours
        } else {
            Ownership::NotYet
        }
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

/// Three distinct ports on 127.0.0.1, chosen at random below the kernel's
/// ephemeral range: bind(0) (the Dovecot and PostgreSQL harnesses) and
/// outgoing connections never take those, and random picks make two
/// Postfix instances unlikely to want the same one. `ownership` catches
/// the rest.
fn pick_ports() -> [u16; 3] {
    let ephemeral_low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let range = if ephemeral_low > 12000 {
        10000..ephemeral_low
    } else {
        // Unusual kernel setting: fall back to the top of the port space.
        50000..65535
    };
    loop {
        let ports: [u16; 3] = std::array::from_fn(|_| fastrand::u16(range.clone()));
        let distinct = ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2];
        if distinct && ports.iter().all(|&p| TcpListener::bind((HOST, p)).is_ok()) {
            return ports;
        }
    }
}

/// Inodes of the sockets listening on 127.0.0.1:`port` (/proc/net/tcp).
fn listening_inodes(port: u16) -> Vec<u64> {
    // The kernel prints the address as the in-memory (network order) u32
    // in host-order hex.
    let local = format!(
        "{:08X}:{port:04X}",
        u32::from_ne_bytes(Ipv4Addr::LOCALHOST.octets())
    );
    const LISTEN: &str = "0A";
    fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(1) == Some(&local.as_str()) && fields.get(3) == Some(&LISTEN) {
                fields.get(9)?.parse().ok()
            } else {
                None
            }
        })
        .collect()
}

/// Inodes of the sockets process `pid` has open.
fn socket_inodes(pid: u32) -> HashSet<u64> {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|fd| {
            let target = fs::read_link(fd.path()).ok()?;
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// Writes a file Postfix reads as configuration (main.cf, master.cf, a
/// texthash map) with an mtime a minute in the past. Postfix takes a file
/// modified within the last second for one still being edited and re-reads
/// it every 0.3 s until it is older: a just-written main.cf made master take
/// 1.5-2.5 s to start, and a fresh map would delay every new smtpd alike.
fn write_config(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    let past = SystemTime::now() - Duration::from_secs(60);
    File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(past))
        .unwrap_or_else(|e| panic!("backdate {}: {e}", path.display()));
}

/// What `postfix check` (post-install create-missing) would create, per
/// /etc/postfix/postfix-files, in a millisecond instead of 0.3 s: master
/// refuses to run without these owners and modes. `root` is the temp dir.
fn create_postfix_dirs(root: &Path) {
    let postfix = uid_of(MAIL_OWNER);
    let postdrop = gid_of(SETGID_GROUP);
    let dirs: &[(&str, Option<u32>, Option<u32>, u32)] = &[
        ("data", Some(postfix), None, 0o700),
        ("queue", None, None, 0o755),
        ("queue/active", Some(postfix), None, 0o700),
        ("queue/bounce", Some(postfix), None, 0o700),
        ("queue/corrupt", Some(postfix), None, 0o700),
        ("queue/defer", Some(postfix), None, 0o700),
        ("queue/deferred", Some(postfix), None, 0o700),
        ("queue/flush", Some(postfix), None, 0o700),
        ("queue/hold", Some(postfix), None, 0o700),
        ("queue/incoming", Some(postfix), None, 0o700),
        ("queue/private", Some(postfix), None, 0o700),
        ("queue/maildrop", Some(postfix), Some(postdrop), 0o730),
        ("queue/public", Some(postfix), Some(postdrop), 0o710),
        ("queue/pid", None, None, 0o755),
        ("queue/saved", Some(postfix), None, 0o700),
        ("queue/trace", Some(postfix), None, 0o700),
    ];
    for &(sub, uid, gid, mode) in dirs {
        let path = root.join(sub);
        fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        chown(&path, uid, gid).unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
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
