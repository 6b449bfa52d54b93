//! A private, real Dovecot per test: its own temp dir, CA, ports and
//! Maildirs. Besides IMAP it serves LMTP (where a private Postfix delivers)
//! and its auth service over TCP (Postfix's SASL backend).

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};
use tokio_rustls::client::TlsStream;

use super::tls::{TestCa, tls_connector};
use super::user::{MailOwner, mail_owner, running_as_root};

/// An authenticated async-imap session over IMAPS.
pub type ImapSession = async_imap::Session<TlsStream<TcpStream>>;

/// Where tests connect. Dovecot counts a connection whose remote IP equals
/// its local IP as "secured", so on this address plaintext LOGIN works on
/// the plain port even before STARTTLS.
pub const HOST: &str = "127.0.0.1";

/// Also served when this machine can bind it. Connections to it come from
/// 127.0.0.1, so Dovecot treats them as insecure: the plain port advertises
/// LOGINDISABLED and refuses LOGIN until STARTTLS, as a remote server would.
pub const STRICT_HOST: &str = "127.0.0.2";

const DOVECOT_BIN: &str = "/usr/sbin/dovecot";
/// Dovecot's real greeting, not its "waiting for auth" placeholder.
const IMAP_GREETING: &str = "* OK [CAPABILITY";
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// `@NAME@` placeholders rather than `format!`, whose brace escaping would
/// make Dovecot's own braces unreadable.
const CONF_TEMPLATE: &str = r#"# Private test instance written by tests/support/dovecot.rs.
# `dovecot -F -c` reads only this file: nothing from /etc/dovecot.

# A fresh runtime dir per start: after SIGKILL the previous one holds a
# stale master.pid and sockets.
base_dir = @DIR@/@RUN@
# Default /var/lib/dovecot is shared with the system instance and not
# writable when the tests run as a normal user.
state_dir = @DIR@/state
# Keeps process titles and the instance registry apart when several test
# instances run in parallel.
instance_name = slushpile-test-@ID@
log_path = @DIR@/dovecot.log
auth_verbose = yes
# Logs what clients send with the RFC 2971 ID command, so tests can prove
# slushpile identifies itself (126.com/163.com require it before SELECT).
imap_id_log = *

protocols = imap lmtp
listen = @LISTEN@

ssl = yes
ssl_cert = <@DIR@/tls/cert.pem
ssl_key = <@DIR@/tls/key.pem
# Dovecot's default, stated because the tests rely on it: LOGIN needs TLS,
# except on connections Dovecot deems local (see HOST / STRICT_HOST).
disable_plaintext_auth = yes
auth_mechanisms = @MECHANISMS@
# A wrong password otherwise costs each test two seconds.
auth_failure_delay = 0

# Every process runs as the one unprivileged owner of the temp dir: Dovecot
# will not serve mail as root, and when not started as root it cannot
# switch users at all.
default_internal_user = @USER@
default_login_user = @USER@
# Some internal sockets (stats-writer, dict, ...) are chowned to this group;
# the default "dovecot" fails unless the owner is in it.
default_internal_group = @GROUP@
first_valid_uid = @UID@
last_valid_uid = @UID@

mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
}

# One passwd-file per user, named after the login. With a single file,
# Dovecot noticed an appended user only sometimes (a user added within a
# second of the previous one stayed unknown: it re-reads by mtime, not on
# every lookup); a file it has not seen yet is read on first use. %Ln: LMTP recipients (and SASL logins) may be full addresses
# such as writer@example.org, which map to the login "writer". Each line
# carries its uid, gid and home, so users have separate Maildirs.
passdb {
  driver = passwd-file
  # Passwords only: an OAuth token is never checked as a password.
  mechanisms = plain login
  args = username_format=%Ln @DIR@/passwd.d/%Ln
}
@OAUTH_PASSDB@
userdb {
  driver = passwd-file
  args = username_format=%Ln @DIR@/passwd.d/%Ln
}

protocol imap {
  # The default of 10 is easy to hit when a daemon test keeps an IDLE
  # connection plus workers open for one user from one IP.
  mail_max_userip_connections = 100
}

service imap-login {
  # chroot needs root; the login dir of our base_dir is fine unchrooted.
  chroot =
  # One long-lived, pre-forked login process that is already connected to
  # auth. With the default (a fresh process per connection) the greeting is
  # often "* OK Waiting for authentication process to respond.." followed
  # later by the real "* OK [CAPABILITY ...]".
  service_count = 0
  process_min_avail = 1
  inet_listener imap {
    port = @IMAP_PORT@
  }
  inet_listener imaps {
    port = @IMAPS_PORT@
    ssl = yes
  }
}
service anvil {
  # Same reason as imap-login: chroot needs root.
  chroot =
}
service auth-worker {
  # Defaults to root, which an unprivileged master cannot switch to.
  user = $default_internal_user
}
# Where the private Postfix delivers. Only on 127.0.0.1, even when
# STRICT_HOST is served: fewer ports that must be free on both.
service lmtp {
  inet_listener lmtp {
    address = @HOST@
    port = @LMTP_PORT@
  }
}
# Postfix's SASL backend (smtpd_sasl_type = dovecot) over TCP: a unix
# socket would sit in a base_dir that changes with every start and belong
# to a user Postfix's smtpd (running as "postfix") cannot connect as.
service auth {
  inet_listener auth {
    address = @HOST@
    port = @AUTH_PORT@
  }
}
"#;

static INSTANCES: AtomicUsize = AtomicUsize::new(0);
static DELIVERIES: AtomicUsize = AtomicUsize::new(0);

/// One running (or stopped) private Dovecot. Everything lives in a temp dir
/// removed on drop; dropping also SIGKILLs the server.
///
/// Connect to [`HOST`] (or "localhost") on `imaps_port()` (implicit TLS) or
/// `imap_port()` (STARTTLS), trusting `ca_pem()`. Folder separator is `.`
/// (Dovecot's Maildir++ default).
///
/// Mail users: `user` (the submissions mailbox) exists from the start;
/// [`Dovecot::add_user`] adds more. LMTP on `lmtp_port()` takes recipients
/// as `LOGIN@any.domain` (case-insensitive) and delivers to that user's
/// INBOX; unknown logins get 550.
pub struct Dovecot {
    /// IMAP login name of the submissions mailbox ("editor").
    pub user: String,
    /// IMAP password (plain ASCII, no spaces).
    pub password: String,
    dir: TempDir,
    ca: TestCa,
    owner: MailOwner,
    id: String,
    imap_port: u16,
    imaps_port: u16,
    lmtp_port: u16,
    auth_port: u16,
    strict_host: bool,
    child: Option<Child>,
    starts: u32,
    startup: Duration,
    /// Token introspection endpoint for the oauth2 passdb, when tokens are
    /// accepted (XOAUTH2, OAUTHBEARER).
    introspection_url: Option<String>,
}

struct LaunchError {
    address_in_use: bool,
    message: String,
}

impl Dovecot {
    /// Starts a fresh instance with an empty INBOX. Panics (printing
    /// Dovecot's log) if it does not come up.
    pub async fn start() -> Dovecot {
        Dovecot::start_with(None).await
    }

    /// Also accepts SASL XOAUTH2 and OAUTHBEARER, validating each bearer
    /// token at `introspection_url` (RFC 7662, POSTed as a form): IMAP, and
    /// SMTP AUTH through the auth service a private Postfix uses.
    pub async fn start_with_oauth(introspection_url: &str) -> Dovecot {
        Dovecot::start_with(Some(introspection_url.to_string())).await
    }

    async fn start_with(introspection_url: Option<String>) -> Dovecot {
        become_subreaper();
        let owner = mail_owner().clone();
        let dir = tempfile::Builder::new()
            // Short: base_dir holds unix sockets, whose paths are capped at
            // 108 bytes.
            .prefix("slushdc")
            .tempdir()
            .expect("create Dovecot temp dir");
        let root = dir.path();
        let strict_host = can_bind(STRICT_HOST);
        let mut names = vec!["localhost", HOST];
        if strict_host {
            names.push(STRICT_HOST);
        }
        let ca = TestCa::generate(&root.join("tls"), &names);
        for sub in [
            "home/Maildir/cur",
            "home/Maildir/new",
            "home/Maildir/tmp",
            "passwd.d",
            "users",
            "state",
        ] {
            fs::create_dir_all(root.join(sub)).expect("create Dovecot dirs");
        }
        let user = "editor".to_string();
        let password = "slush-pile-secret".to_string();
        write_passwd_entry(root, &owner, &user, &password, &root.join("home"));
        give_tree(root, &owner);

        let id = format!(
            "{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, Ordering::Relaxed)
        );
        let mut dovecot = Dovecot {
            user,
            password,
            dir,
            ca,
            owner,
            id,
            imap_port: 0,
            imaps_port: 0,
            lmtp_port: 0,
            auth_port: 0,
            strict_host,
            child: None,
            starts: 0,
            startup: Duration::ZERO,
            introspection_url,
        };
        // Free ports are found by binding port 0 and letting go, so another
        // test may grab one before Dovecot does: then pick new ones.
        for attempt in 1.. {
            [
                dovecot.imap_port,
                dovecot.imaps_port,
                dovecot.lmtp_port,
                dovecot.auth_port,
            ] = free_ports(strict_host);
            match dovecot.launch().await {
                Ok(()) => return dovecot,
                Err(e) if e.address_in_use && attempt < 5 => continue,
                Err(e) => dovecot.fail(&e.message),
            }
        }
        unreachable!()
    }

    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// LMTP on [`HOST`], no TLS, no auth: where the private Postfix
    /// delivers `@example.org` mail.
    pub fn lmtp_port(&self) -> u16 {
        self.lmtp_port
    }

    /// Dovecot's auth service (the protocol Postfix's `smtpd_sasl_type =
    /// dovecot` speaks) on [`HOST`]. Same users and passwords as IMAP.
    pub fn auth_port(&self) -> u16 {
        self.auth_port
    }

    /// Creates mail user `login` with an empty INBOX and returns its
    /// password. LMTP accepts `login@example.org` (any domain) at once, no
    /// reload needed. Panics if the user exists or the name is unusable.
    pub fn add_user(&self, login: &str) -> String {
        // The login names a file (passwd.d/LOGIN) and a home dir, and
        // Dovecot lowercases before looking it up (%Ln).
        assert!(
            !login.is_empty()
                && login
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
                && !login.starts_with('.'),
            "test logins are lowercase ASCII letters, digits, - _ . : {login:?}"
        );
        let root = self.dir.path();
        assert!(
            !root.join("passwd.d").join(login).exists(),
            "mail user {login} already exists"
        );
        let home = root.join("users").join(login);
        self.create_owned_dir(&home.join("Maildir"));
        for sub in ["cur", "new", "tmp"] {
            self.create_owned_dir(&home.join("Maildir").join(sub));
        }
        let password = format!("{login}-secret");
        write_passwd_entry(root, &self.owner, login, &password, &home);
        password
    }

    /// `login`'s Maildir (its INBOX); [`Dovecot::maildir`] for `user`.
    pub fn user_maildir(&self, login: &str) -> PathBuf {
        if login == self.user {
            return self.maildir();
        }
        self.dir.path().join("users").join(login).join("Maildir")
    }

    /// Like [`Dovecot::count`], in `login`'s mailbox.
    pub fn count_for(&self, login: &str, folder: &str) -> usize {
        count_messages(&folder_dir_in(&self.user_maildir(login), folder))
    }

    /// Whether [`STRICT_HOST`] is served on this machine.
    pub fn has_strict_host(&self) -> bool {
        self.strict_host
    }

    pub fn ca_pem(&self) -> &Path {
        &self.ca.ca_pem
    }

    pub fn tls(&self) -> &TestCa {
        &self.ca
    }

    /// The user's Maildir (its INBOX); other folders are `.Name` inside it.
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("home/Maildir")
    }

    /// Time the last start took until the server greeted.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => child.try_wait().expect("poll Dovecot").is_none(),
            None => false,
        }
    }

    /// CPU seconds (user + system) used so far by every process of this
    /// instance: the live ones (its process group) plus the children the
    /// master has already reaped (an `imap` process per finished session).
    pub fn cpu_seconds(&self) -> f64 {
        let Some(child) = &self.child else {
            return 0.0;
        };
        let pgid = child.id().to_string();
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let mut total = 0u64;
        for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // Fields after the parenthesised command name, which may hold spaces.
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            let fields: Vec<&str> = rest.split(' ').collect();
            // state ppid pgrp ... utime(14) stime cutime cstime, counted from pid = 1.
            if fields.get(2) != Some(&pgid.as_str()) {
                continue;
            }
            total += fields
                .get(11..15)
                .unwrap_or_default()
                .iter()
                .filter_map(|f| f.parse::<u64>().ok())
                .sum::<u64>();
        }
        total as f64 / ticks
    }

    /// Dovecot's own log plus anything it printed, for failure messages.
    pub fn log(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("dovecot.log"), read("stderr.log"))
    }

    /// Drops `raw` into `folder` the way an MDA does (write in `tmp/`,
    /// rename into `new/`), creating the Maildir++ folder if needed. Dovecot
    /// assigns the UID when it next syncs the folder.
    pub fn deliver(&self, folder: &str, raw: &[u8]) -> PathBuf {
        let dir = self.folder_dir(folder);
        for sub in ["cur", "new", "tmp"] {
            self.create_owned_dir(&dir.join(sub));
        }
        if dir != self.maildir() {
            let marker = dir.join("maildirfolder");
            if !marker.exists() {
                File::create(&marker).expect("create maildirfolder");
                self.give(&marker);
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970");
        let name = format!(
            "{}.M{}P{}Q{}.slushpile-test,S={}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            DELIVERIES.fetch_add(1, Ordering::Relaxed),
            raw.len()
        );
        let tmp = dir.join("tmp").join(&name);
        let mut file = File::create(&tmp).expect("create message in tmp/");
        file.write_all(raw).expect("write message");
        file.sync_all().expect("sync message");
        drop(file);
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600)).expect("chmod message");
        self.give(&tmp);
        let dest = dir.join("new").join(&name);
        fs::rename(&tmp, &dest).expect("move message into new/");
        dest
    }

    /// Messages on disk in `folder` (`new/` + `cur/`), whatever their flags.
    pub fn count(&self, folder: &str) -> usize {
        count_messages(&self.folder_dir(folder))
    }

    pub fn folder_exists(&self, name: &str) -> bool {
        self.folder_dir(name).join("cur").is_dir()
    }

    /// Graceful shutdown (SIGTERM); Dovecot disconnects its clients.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        signal(child.id() as i32, libc::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while child.try_wait().expect("poll Dovecot").is_none() {
            if Instant::now() > deadline {
                eprintln!("Dovecot ignored SIGTERM for {STOP_TIMEOUT:?}; killing it");
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        // Stragglers would keep the listening sockets they inherited.
        signal(-(child.id() as i32), libc::SIGKILL);
        child.wait().expect("reap Dovecot");
        reap_group(child.id() as i32);
    }

    /// Crash: SIGKILL to the master and all its processes at once, then
    /// reap. Clients see their connections drop without a BYE.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The master leads its own process group (see `launch`).
            signal(-(child.id() as i32), libc::SIGKILL);
            child.wait().expect("reap Dovecot");
            reap_group(child.id() as i32);
        }
    }

    /// Stops (if running) and starts again on the same ports with the same
    /// mail, as after a server reboot.
    pub async fn restart(&mut self) {
        self.stop().await;
        for attempt in 1.. {
            match self.launch().await {
                Ok(()) => return,
                // Killed children may take a moment to release the ports.
                Err(e) if e.address_in_use && attempt < 50 => {
                    sleep(Duration::from_millis(100)).await
                }
                Err(e) => self.fail(&e.message),
            }
        }
    }

    /// Forces a new INBOX UIDVALIDITY while keeping its messages, as a
    /// server restored from backup or with rebuilt indexes does: every UID a
    /// client remembered is now meaningless. Returns the new UIDVALIDITY
    /// (checked to differ from the old one). Needs a running server.
    pub async fn recreate_inbox(&mut self) -> u32 {
        let old = self.uid_validity("INBOX").await;
        self.stop().await;
        let maildir = self.maildir();
        for entry in fs::read_dir(&maildir).expect("read Maildir") {
            let entry = entry.expect("read Maildir entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            // dovecot-uidvalidity* stays: it is what makes the next value
            // strictly greater even within the same second.
            let is_index = name.starts_with("dovecot-uidlist")
                || name.starts_with("dovecot.index")
                || name.starts_with("dovecot.list.index");
            if is_index && entry.file_type().expect("file type").is_file() {
                fs::remove_file(entry.path()).expect("remove INBOX index file");
            }
        }
        self.restart().await;
        let new = self.uid_validity("INBOX").await;
        if new == old {
            self.fail(&format!("UIDVALIDITY stayed {old} after recreating INBOX"));
        }
        new
    }

    /// UIDVALIDITY of `folder` as the server reports it (EXAMINE).
    pub async fn uid_validity(&self, folder: &str) -> u32 {
        let mut session = self.imap_session().await;
        let mailbox = session.examine(folder).await.expect("EXAMINE");
        session.logout().await.expect("LOGOUT");
        mailbox
            .uid_validity
            .expect("EXAMINE response without UIDVALIDITY")
    }

    /// TLS (trusting only the test CA) to the IMAPS port, greeting not read.
    pub async fn tls_stream(&self) -> TlsStream<TcpStream> {
        let tcp = TcpStream::connect((HOST, self.imaps_port))
            .await
            .expect("connect IMAPS");
        let name = "localhost".try_into().expect("server name");
        tls_connector(self.ca_pem())
            .connect(name, tcp)
            .await
            .expect("TLS handshake")
    }

    /// Logged-in async-imap session over IMAPS as `user`.
    pub async fn imap_session(&self) -> ImapSession {
        self.session_for(&self.user, &self.password).await
    }

    /// Logged-in async-imap session over IMAPS as any mail user.
    pub async fn session_for(&self, login: &str, password: &str) -> ImapSession {
        let mut client = async_imap::Client::new(self.tls_stream().await);
        client
            .read_response()
            .await
            .expect("read greeting")
            .expect("greeting before EOF");
        match client.login(login, password).await {
            Ok(session) => session,
            Err((e, _)) => self.fail(&format!("IMAP LOGIN as {login} failed: {e}")),
        }
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n--- Dovecot log ({}) ---\n{}",
            self.dir.path().display(),
            self.log()
        )
    }

    async fn launch(&mut self) -> Result<(), LaunchError> {
        self.starts += 1;
        let root = self.dir.path();
        let listen = if self.strict_host {
            format!("{HOST}, {STRICT_HOST}")
        } else {
            HOST.into()
        };
        let conf = CONF_TEMPLATE
            .replace("@DIR@", &root.display().to_string())
            .replace("@RUN@", &format!("run-{}", self.starts))
            .replace("@ID@", &format!("{}-{}", self.id, self.starts))
            .replace("@LISTEN@", &listen)
            .replace("@USER@", &self.owner.name)
            .replace("@UID@", &self.owner.uid.to_string())
            .replace("@GID@", &self.owner.gid.to_string())
            .replace("@GROUP@", &self.owner.group)
            .replace("@IMAP_PORT@", &self.imap_port.to_string())
            .replace("@IMAPS_PORT@", &self.imaps_port.to_string())
            .replace("@HOST@", HOST)
            .replace("@LMTP_PORT@", &self.lmtp_port.to_string())
            .replace("@AUTH_PORT@", &self.auth_port.to_string());
        let (mechanisms, oauth_passdb) = match &self.introspection_url {
            Some(url) => {
                fs::write(
                    root.join("dovecot-oauth2.conf.ext"),
                    format!(
                        "introspection_mode = post\nintrospection_url = {url}\n\
                         username_attribute = username\nactive_attribute = active\n\
                         active_value = true\nforce_introspection = yes\n"
                    ),
                )
                .expect("write dovecot-oauth2.conf.ext");
                (
                    "plain login xoauth2 oauthbearer",
                    format!(
                        "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  \
                         args = {}/dovecot-oauth2.conf.ext\n}}",
                        root.display()
                    ),
                )
            }
            None => ("plain login", String::new()),
        };
        let conf = conf
            .replace("@MECHANISMS@", mechanisms)
            .replace("@OAUTH_PASSDB@", &oauth_passdb);
        let conf_path = root.join("dovecot.conf");
        fs::write(&conf_path, conf).expect("write dovecot.conf");

        let log_len = self.log().len();
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("stderr.log"))
            .expect("open stderr.log");
        let began = Instant::now();
        let mut child = Command::new(dovecot_bin())
            .arg("-F")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup stderr.log"))
            .stderr(out)
            // Own process group, so kill() takes the login, imap and auth
            // processes down with the master in one signal.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e} (scripts/test installs dovecot-imapd)",
                    dovecot_bin()
                )
            });

        let deadline = began + READY_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("poll Dovecot") {
                signal(-(child.id() as i32), libc::SIGKILL);
                reap_group(child.id() as i32);
                let log = self.log();
                let new_log = log.get(log_len..).unwrap_or(&log);
                return Err(LaunchError {
                    address_in_use: new_log.contains("Address already in use"),
                    message: format!("Dovecot exited during startup ({status})"),
                });
            }
            if greets(self.imap_port, IMAP_GREETING).await
                && accepts(self.imaps_port).await
                && accepts(self.lmtp_port).await
                && accepts(self.auth_port).await
            {
                break;
            }
            if Instant::now() > deadline {
                signal(-(child.id() as i32), libc::SIGKILL);
                let _ = child.wait();
                reap_group(child.id() as i32);
                return Err(LaunchError {
                    address_in_use: false,
                    message: format!("Dovecot not ready after {READY_TIMEOUT:?}"),
                });
            }
            sleep(Duration::from_millis(5)).await;
        }
        self.startup = began.elapsed();
        self.child = Some(child);
        Ok(())
    }

    fn folder_dir(&self, folder: &str) -> PathBuf {
        folder_dir_in(&self.maildir(), folder)
    }

    /// Creates `dir` and any missing parents below the temp dir, all owned
    /// by the mail owner.
    fn create_owned_dir(&self, dir: &Path) {
        if dir.is_dir() {
            return;
        }
        fs::create_dir_all(dir).expect("create folder dir");
        // create_dir_all may have made parents too (".Folder" itself).
        let mut d = dir;
        while d != self.dir.path() {
            self.give(d);
            d = d.parent().expect("dir inside the temp dir");
        }
    }

    fn give(&self, path: &Path) {
        give(path, &self.owner);
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!(
                "--- Dovecot log ({}) ---\n{}",
                self.dir.path().display(),
                self.log()
            );
        }
        self.kill();
    }
}

fn folder_dir_in(maildir: &Path, folder: &str) -> PathBuf {
    if folder.eq_ignore_ascii_case("INBOX") {
        return maildir.to_path_buf();
    }
    // Dovecot's Maildir++ maps IMAP "A.B" to ".A.B"; anything else
    // (non-ASCII needs modified UTF-7, '/' is not a separator here)
    // would silently name a different folder than the test meant.
    assert!(
        !folder.is_empty()
            && folder.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
            && !folder.contains(['/', '~', '&']),
        "test folder names must be plain ASCII without / ~ &: {folder:?}"
    );
    maildir.join(format!(".{folder}"))
}

/// Messages on disk in a Maildir folder (`new/` + `cur/`).
fn count_messages(dir: &Path) -> usize {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| fs::read_dir(dir.join(sub)).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .count()
}

/// passwd-file line with uid, gid and home, written under a temporary name
/// and renamed: the auth process may look the user up at any moment.
fn write_passwd_entry(root: &Path, owner: &MailOwner, login: &str, password: &str, home: &Path) {
    let dir = root.join("passwd.d");
    let tmp = dir.join(format!(".{login}.tmp"));
    fs::write(
        &tmp,
        format!(
            "{login}:{{PLAIN}}{password}:{}:{}::{}::\n",
            owner.uid,
            owner.gid,
            home.display()
        ),
    )
    .expect("write passwd-file");
    give(&tmp, owner);
    fs::rename(&tmp, dir.join(login)).expect("move passwd-file into place");
}

fn dovecot_bin() -> String {
    std::env::var("SLUSHPILE_DOVECOT").unwrap_or_else(|_| DOVECOT_BIN.to_string())
}

/// Makes this test process the reaper of orphaned Dovecot processes: once
/// the master is gone its children are reparented to us rather than to PID 1,
/// which in some sandboxes never reaps, leaving zombies behind every test.
pub(super) fn become_subreaper() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: prctl with integer arguments only; failure just means zombies
    // are left to PID 1 as without this call.
    ONCE.call_once(|| unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    });
}

/// Waits for the (already SIGKILLed) rest of a Dovecot process group. Only
/// orphans reparented to us by `become_subreaper` are affected.
pub(super) fn reap_group(pgid: i32) {
    loop {
        // SAFETY: plain waitpid on a process group we created; a null
        // status pointer is allowed.
        let r = unsafe { libc::waitpid(-pgid, std::ptr::null_mut(), 0) };
        if r <= 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return; // ECHILD: nothing left in the group that is ours.
        }
    }
}

pub(super) fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions; ESRCH (already
    // gone) is fine to ignore.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Whether a server on `port` answers with a first line starting with
/// `greeting`: listening alone is not ready (Dovecot's login process may
/// first send "* OK Waiting for authentication process to respond..",
/// Postfix's master listens before smtpd can serve).
pub(super) async fn greets(port: u16, greeting: &str) -> bool {
    let attempt = async {
        let tcp = TcpStream::connect((HOST, port)).await.ok()?;
        let mut line = String::new();
        BufReader::new(tcp).read_line(&mut line).await.ok()?;
        Some(line.starts_with(greeting))
    };
    matches!(
        timeout(Duration::from_secs(1), attempt).await,
        Ok(Some(true))
    )
}

pub(super) async fn accepts(port: u16) -> bool {
    matches!(
        timeout(Duration::from_secs(1), TcpStream::connect((HOST, port))).await,
        Ok(Ok(_))
    )
}

fn can_bind(host: &str) -> bool {
    TcpListener::bind((host, 0)).is_ok()
}

/// `N` distinct ports free on 127.0.0.1 (and on 127.0.0.2 when `strict`).
/// All are held at once while choosing, so they cannot repeat.
fn free_ports<const N: usize>(strict: bool) -> [u16; N] {
    let loopback = Ipv4Addr::LOCALHOST;
    loop {
        let held: Vec<TcpListener> = (0..N)
            .map(|_| TcpListener::bind(SocketAddrV4::new(loopback, 0)).expect("bind free port"))
            .collect();
        let ports: [u16; N] = std::array::from_fn(|i| held[i].local_addr().unwrap().port());
        if !strict || ports.iter().all(|&p| can_bind_port(STRICT_HOST, p)) {
            return ports;
        }
    }
}

fn can_bind_port(host: &str, port: u16) -> bool {
    TcpListener::bind((host, port)).is_ok()
}

/// The temp dir is created 0700 by whoever runs the tests; Dovecot's
/// processes run as `owner` and must reach everything below it.
fn give_tree(path: &Path, owner: &MailOwner) {
    give(path, owner);
    if path.is_dir() {
        for entry in fs::read_dir(path).expect("read dir") {
            give_tree(&entry.expect("dir entry").path(), owner);
        }
    }
}

pub(super) fn give(path: &Path, owner: &MailOwner) {
    if running_as_root() {
        chown(path, Some(owner.uid), Some(owner.gid))
            .unwrap_or_else(|e| panic!("chown {} to {}: {e}", path.display(), owner.name));
    }
}
