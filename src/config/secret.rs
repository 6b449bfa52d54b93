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

/// The three ways a password may be configured; at most one may be set.
pub(super) struct PasswordSource<'a> {
    pub file: Option<&'a Path>,
    pub env: Option<&'a str>,
    pub credential: Option<&'a str>,
}

/// Returns the password (None when no source is set), or the offending key and why.
pub(super) fn resolve(
    source: PasswordSource<'_>,
) -> Result<Option<Secret>, (&'static str, String)> {
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
                "password_file",
                "set only one of password_file, password_env and password_credential".into(),
            ));
        }
    }
    if let Some(path) = source.file {
        return read_trimmed(path)
            .map(Some)
            .map_err(|e| ("password_file", e));
    }
    if let Some(var) = source.env {
        return match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Some(Secret(value))),
            _ => Err((
                "password_env",
                format!("environment variable `{var}` is unset or empty"),
            )),
        };
    }
    let name = source.credential.unwrap_or_default();
    let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
        return Err((
            "password_credential",
            format!(
                "credential `{name}` needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=), which is unset"
            ),
        ));
    };
    if name.contains('/') || name.is_empty() {
        return Err((
            "password_credential",
            format!("`{name}` is not a credential name"),
        ));
    }
    read_trimmed(&Path::new(&dir).join(name))
        .map(Some)
        .map_err(|e| ("password_credential", e))
}

/// Trailing newlines are what editors leave in password files; other
/// whitespace may be part of the password.
fn read_trimmed(path: &Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read password from {}: {e}", path.display()))?;
    let password = text.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(format!("password file {} is empty", path.display()));
    }
    Ok(Secret(password.to_string()))
}
