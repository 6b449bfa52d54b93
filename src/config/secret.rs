//! Passwords are never inline in the config: they come from a file, an
//! environment variable or a systemd credential, and never print.

use std::fmt;
use std::path::Path;

/// A secret string whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The three ways a secret may be configured; at most one may be set.
/// `prefix` names its keys: `password` → `password_file`, `password_env`…
pub(super) struct PasswordSource<'a> {
    pub prefix: &'static str,
    pub file: Option<&'a Path>,
    pub env: Option<&'a str>,
    pub credential: Option<&'a str>,
}

/// Returns the secret (None when no source is set), or the offending key and why.
pub(super) fn resolve(source: PasswordSource<'_>) -> Result<Option<Secret>, (String, String)> {
    let p = source.prefix;
    let key = |suffix: &str| format!("{p}_{suffix}");
    let set = [
        source.file.is_some(),
        source.env.is_some(),
        source.credential.is_some(),
    ];
    match set.iter().filter(|set| **set).count() {
        0 => return Ok(None),
        1 => {}
        _ => {
            return Err((
                key("file"),
                format!("set only one of {p}_file, {p}_env and {p}_credential"),
            ));
        }
    }
    if let Some(path) = source.file {
        let what = p.replace('_', " ");
        return private(path, &what)
            .and_then(|()| read_trimmed(path, &what))
            .map(Some)
            .map_err(|e| (key("file"), e));
    }
    if let Some(var) = source.env {
        return match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Some(Secret(value))),
            _ => Err((
                key("env"),
                format!("environment variable `{var}` is unset or empty"),
            )),
        };
    }
    let name = source.credential.unwrap_or_default();
    let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
        return Err((
            key("credential"),
            format!(
                "credential `{name}` needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=), which is unset: \
                 by hand, give it the service's credentials, e.g. as root \
                 `CREDENTIALS_DIRECTORY=/etc/slushpile/credentials slushpile check`"
            ),
        ));
    };
    if name.contains('/') || name.is_empty() {
        return Err((
            key("credential"),
            format!("`{name}` is not a credential name"),
        ));
    }
    read_trimmed(&Path::new(&dir).join(name), &p.replace('_', " "))
        .map(Some)
        .map_err(|e| (key("credential"), e))
}

/// A secret in a file the group or others may read or change is a secret
/// no longer: refused, naming the command that fixes it. (systemd
/// credentials are left alone: systemd makes them private to the service.)
fn private(path: &Path, what: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {what} from {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{what} file {} can be read or changed by others (mode {:o}): \
             run `chmod 600 {}` (owned by the user slushpile runs as)",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

/// Trailing newlines are what editors leave in password files; other
/// whitespace may be part of the password.
fn read_trimmed(path: &Path, what: &str) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {what} from {}: {e}", path.display()))?;
    let password = text.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(format!("{what} file {} is empty", path.display()));
    }
    Ok(Secret(password.to_string()))
}
