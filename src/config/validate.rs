//! What the config must satisfy beyond its types, each failure naming the
//! key: checked at load, before any secret is read.

use std::time::Duration;

use super::{AfterIngest, AuthMethod, Config, ConfigError, OAuthConfig, Tls, ack, is_loopback};

impl Config {
    pub(super) fn validate(&mut self) -> Result<(), ConfigError> {
        if self.general.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(self.key_error(
                "general.time_zone",
                format!(
                    "`{}` is not an IANA time zone such as \"Asia/Shanghai\"",
                    self.general.time_zone
                ),
            ));
        }
        let general = &mut self.general;
        for address in general
            .own_addresses
            .iter_mut()
            .chain(&mut general.forwarders)
        {
            *address = address.trim().to_lowercase();
        }
        let url = &self.store.url;
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|p| url.starts_with(p))
        {
            return Err(self.key_error(
                "store.url",
                "expected \"sqlite://PATH\" or \"postgres://USER@HOST/DB\"",
            ));
        }
        let mut names = std::collections::HashSet::new();
        let sources = self.mailboxes.iter().map(|m| m.name.as_str());
        for (i, name) in sources
            .chain(self.maildirs.iter().map(|m| m.name.as_str()))
            .enumerate()
        {
            if name.is_empty() || !names.insert(name.to_string()) {
                return Err(self.key_error(
                    format!("source #{i} name"),
                    format!(
                        "`{name}` must be non-empty and unique among [[mailbox]] and [[maildir]]"
                    ),
                ));
            }
        }
        for i in 0..self.mailboxes.len() {
            let mailbox = &self.mailboxes[i];
            let key = |k: &str| format!("mailbox[{i}].{k}");
            if mailbox.tls == Tls::None && !is_loopback(&mailbox.host) {
                return Err(self.key_error(
                    key("tls"),
                    format!(
                        "\"none\" sends the password in clear text and is refused for `{}`; \
                         it is allowed only for a loopback host: use \"implicit\" or \"starttls\"",
                        mailbox.host
                    ),
                ));
            }
            if mailbox.after_ingest == AfterIngest::Move && mailbox.move_to == mailbox.folder {
                return Err(self.key_error(key("move_to"), "must differ from `folder`"));
            }
            self.validate_oauth(&key("oauth"), mailbox.auth, mailbox.oauth.as_ref())?;
            self.validate_stall_after(
                key("stall_after"),
                mailbox.poll_interval,
                mailbox.stall_after,
            )?;
        }
        for (i, maildir) in self.maildirs.iter().enumerate() {
            let key = format!("maildir[{i}].stall_after");
            self.validate_stall_after(key, maildir.poll_interval, maildir.stall_after)?;
        }
        if self.limits.batch_messages == 0 {
            return Err(self.key_error("limits.batch_messages", "expected at least 1"));
        }
        self.validate_ack()
    }

    /// OAuth needs its table and the table needs OAuth; the token endpoint
    /// gets the refresh token, so it must be https (or loopback).
    fn validate_oauth(
        &self,
        key: &str,
        auth: AuthMethod,
        oauth: Option<&OAuthConfig>,
    ) -> Result<(), ConfigError> {
        let oauth = match (auth.is_oauth(), oauth) {
            (false, None) => return Ok(()),
            (false, Some(_)) => {
                return Err(self.key_error(
                    key,
                    "is set but auth is \"password\": set auth = \"xoauth2\" or \"oauthbearer\"",
                ));
            }
            (true, None) => {
                return Err(self.key_error(
                    key,
                    "auth = \"xoauth2\" / \"oauthbearer\" needs an oauth table with token_url, client_id and refresh_token_*",
                ));
            }
            (true, Some(oauth)) => oauth,
        };
        let url = url::Url::parse(&oauth.token_url)
            .map_err(|e| self.key_error(format!("{key}.token_url"), format!("not a URL: {e}")))?;
        let loopback = url.host_str().is_some_and(is_loopback);
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(self.key_error(
                format!("{key}.token_url"),
                "must be https:// (plain http only for a loopback host): it carries the refresh token",
            ));
        }
        Ok(())
    }

    /// Every healthy source syncs at least once per `poll_interval`, so a
    /// shorter `stall_after` would raise the alarm on a working source.
    fn validate_stall_after(
        &self,
        key: String,
        poll_interval: Duration,
        stall_after: Duration,
    ) -> Result<(), ConfigError> {
        if stall_after <= poll_interval {
            return Err(self.key_error(
                key,
                format!(
                    "must be longer than poll_interval ({}s), or a working source would be reported stalled",
                    poll_interval.as_secs_f64()
                ),
            ));
        }
        Ok(())
    }

    /// The sources a daemon is about to watch exist: a Maildir path that
    /// is not there would poll nothing forever, looking healthy. Checked
    /// when the daemon starts (and on SIGHUP), not when the config is
    /// read, so that `check` can still report everything else.
    pub fn sources_exist(&self) -> Result<(), ConfigError> {
        for (i, maildir) in self.maildirs.iter().enumerate() {
            if !maildir.path.is_dir() {
                return Err(self.key_error(
                    format!("maildir[{i}].path"),
                    format!(
                        "{} does not exist or is not a directory: create the Maildir \
                         (with new/, cur/ and tmp/) or correct the path",
                        maildir.path.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_ack(&mut self) -> Result<(), ConfigError> {
        let Some(ack) = &self.ack else { return Ok(()) };
        if !ack.enabled {
            return Ok(());
        }
        // `from = "《旗幟》編輯部 <submissions@example.org>"` is what admins
        // write: the name goes to from_name (unless that is set), the
        // address stays.
        if let Some(smtp) = &mut self.smtp
            && let Some((name, address)) = split_display_name(&smtp.from)
        {
            if smtp.from_name.is_none() && !name.is_empty() {
                smtp.from_name = Some(name);
            }
            smtp.from = address;
        }
        let Some(smtp) = &self.smtp else {
            return Err(self.key_error("ack.enabled", "acknowledgements need an [smtp] section"));
        };
        if !is_plain_address(&smtp.from) {
            return Err(self.key_error(
                "smtp.from",
                format!(
                    "`{}` is not an address: expected the submissions address, e.g. \
                     submissions@example.org (a display name goes in from_name)",
                    smtp.from
                ),
            ));
        }
        match smtp.transport {
            ack::TransportKind::File if smtp.directory.is_none() => {
                return Err(
                    self.key_error("smtp.directory", "the file transport needs a directory")
                );
            }
            ack::TransportKind::Smtp if smtp.host.is_none() => {
                return Err(self.key_error("smtp.host", "the smtp transport needs a host"));
            }
            _ => {}
        }
        if smtp.transport == ack::TransportKind::Smtp
            && smtp.tls == Tls::None
            && !is_loopback(smtp.host.as_deref().unwrap_or_default())
        {
            return Err(self.key_error(
                "smtp.tls",
                "\"none\" is allowed only for a loopback host: use \"implicit\" (465) or \"starttls\" (587)",
            ));
        }
        if smtp.auth == AuthMethod::Oauthbearer {
            return Err(self.key_error(
                "smtp.auth",
                "SMTP supports \"password\" or \"xoauth2\" (the mechanism Gmail and Microsoft 365 offer)",
            ));
        }
        self.validate_oauth("smtp.oauth", smtp.auth, smtp.oauth.as_ref())?;
        if smtp.auth.is_oauth() && smtp.username.is_none() {
            return Err(self.key_error(
                "smtp.username",
                "OAuth logs in as a user: set the address the token was issued for",
            ));
        }
        let has_password = smtp.password_file.is_some()
            || smtp.password_env.is_some()
            || smtp.password_credential.is_some();
        if has_password && smtp.username.is_none() {
            return Err(self.key_error("smtp.username", "a password is set but no username"));
        }
        Ok(())
    }
}

/// `Name <address>` → (name, address), quotes around the name dropped.
fn split_display_name(text: &str) -> Option<(String, String)> {
    let (name, rest) = text.trim().split_once('<')?;
    let address = rest.strip_suffix('>')?.trim();
    let name = name.trim().trim_matches('"').trim();
    Some((name.to_string(), address.to_string()))
}

/// One `local@domain` with nothing around it that SMTP would refuse.
fn is_plain_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c))
}
