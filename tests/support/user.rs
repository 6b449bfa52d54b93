//! Which Unix account the private Dovecot serves mail as.
//!
//! Dovecot refuses to access mail as UID 0, and CI runs the tests as root, so
//! as root we pick an unprivileged system account and hand it the test's
//! directories. As a normal user, Dovecot simply runs as that user.

use std::process::Command;
use std::sync::OnceLock;

/// Name/uid/gid of the account that owns a test instance's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailOwner {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// Name of `gid`, for Dovecot's `default_internal_group`.
    pub group: String,
}

/// Account created as a last resort when none of the usual ones exists.
const FALLBACK_ACCOUNT: &str = "slushpile-test";

pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Chosen once per test binary; every instance in it uses the same owner.
pub fn mail_owner() -> &'static MailOwner {
    static OWNER: OnceLock<MailOwner> = OnceLock::new();
    OWNER.get_or_init(choose_owner)
}

fn choose_owner() -> MailOwner {
    if !running_as_root() {
        // SAFETY: as above.
        let uid = unsafe { libc::geteuid() };
        return lookup(&uid.to_string()).unwrap_or_else(|| {
            panic!("uid {uid} has no passwd entry; Dovecot needs a user name to run as")
        });
    }
    if let Ok(name) = std::env::var("SLUSHPILE_TEST_MAIL_USER") {
        return lookup(&name)
            .unwrap_or_else(|| panic!("SLUSHPILE_TEST_MAIL_USER={name}: no such user"));
    }
    // The dovecot package creates `dovecot` (and `dovenull`), so on any
    // machine where the tests can run at all these normally exist.
    for name in ["dovecot", "dovenull"] {
        if let Some(owner) = lookup(name).filter(|o| o.uid != 0) {
            return owner;
        }
    }
    // Another test binary may be creating it concurrently; a failed useradd
    // is fine as long as the account exists afterwards.
    let _ = Command::new("useradd")
        .args(["--system", "--no-create-home", "--user-group"])
        .args(["--shell", "/usr/sbin/nologin", FALLBACK_ACCOUNT])
        .status();
    lookup(FALLBACK_ACCOUNT)
        .or_else(|| lookup("nobody"))
        .expect("no unprivileged account to run Dovecot's mail processes as")
}

/// `getent` rather than libc's getpw* so NSS is honoured without unsafe,
/// non-reentrant calls from parallel test threads.
fn lookup(name_or_uid: &str) -> Option<MailOwner> {
    let out = Command::new("getent")
        .args(["passwd", name_or_uid])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let line = String::from_utf8(out.stdout).ok()?;
    let mut fields = line.trim_end().split(':');
    let name = fields.next()?.to_string();
    let _password = fields.next()?;
    let uid = fields.next()?.parse().ok()?;
    let gid: u32 = fields.next()?.parse().ok()?;
    let group = getent("group", &gid.to_string())?
        .split(':')
        .next()?
        .to_string();
    Some(MailOwner {
        name,
        uid,
        gid,
        group,
    })
}

fn getent(database: &str, key: &str) -> Option<String> {
    let out = Command::new("getent").args([database, key]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()
        .map(|s| s.trim_end().to_string())
}
