//! Configuration: one TOML file, `SLUSHPILE_<SECTION>__<KEY>` environment
//! overrides, secrets read from files, environment or systemd credentials.
//! Every error names the file, the key and what was expected.

pub mod ack;
mod cidr;
pub mod duration;
mod env_override;
mod oauth;
mod secret;
mod sender_auth;
mod service;
mod sources;
mod suggest;
mod validate;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use cidr::Cidr;
pub use oauth::{AuthMethod, OAuthConfig};
pub use secret::Secret;
pub use sender_auth::{AuthConfig, OnFail};
pub use service::{
    ApiConfig, Extract, General, Limits, LogConfig, LogFormat, OpsConfig, Retention, StoreConfig,
};
pub use sources::{AfterIngest, MailboxConfig, MaildirConfig, Tls};

/// Where the config is looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/slushpile/slushpile.toml";
pub const ENV_PATH: &str = "SLUSHPILE_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {file}: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {file}: {message}")]
    Syntax { file: PathBuf, message: String },
    #[error("config file {file}: key `{key}`: {message}")]
    Key {
        file: PathBuf,
        key: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(skip)]
    pub file: PathBuf,
    #[serde(default)]
    pub general: General,
    pub store: StoreConfig,
    #[serde(default)]
    pub limits: Limits,
    /// Reading the article out of attached documents.
    #[serde(default)]
    pub extract: Extract,
    #[serde(default, rename = "mailbox")]
    pub mailboxes: Vec<MailboxConfig>,
    #[serde(default, rename = "maildir")]
    pub maildirs: Vec<MaildirConfig>,
    #[serde(default)]
    pub log: LogConfig,
    /// Outgoing mail for acknowledgements.
    pub smtp: Option<ack::SmtpConfig>,
    /// With no [ack] section nothing is acknowledged.
    pub ack: Option<ack::AckConfig>,
    /// Metrics and health endpoint; none without this section.
    pub ops: Option<OpsConfig>,
    /// Editors' HTTP API and web page; no listener without this section.
    pub api: Option<ApiConfig>,
    /// Sender authentication computed here; without this section only a
    /// trusted Authentication-Results header (`[ack] authserv_id`) counts.
    pub auth: Option<AuthConfig>,
    /// Automatic purging of rejected and archived drafts; none by default.
    #[serde(default)]
    pub retention: Retention,
}

/// The config file to use: `--config`, else `$SLUSHPILE_CONFIG`, else the default.
pub fn locate(explicit: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    match std::env::var_os(ENV_PATH) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(DEFAULT_PATH),
    }
}

impl Config {
    /// Reads, overrides from the process environment, validates and resolves secrets.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let mut config = Self::load_without_secrets(file)?;
        config.resolve_secrets()?;
        Ok(config)
    }

    /// [`Config::load`] for commands that only use the store.
    pub fn load_without_secrets(file: &Path) -> Result<Config, ConfigError> {
        let read_error = |source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        };
        let text = std::fs::read_to_string(file).map_err(read_error)?;
        let file = std::path::absolute(file).map_err(read_error)?;
        Self::from_toml(&file, &text, std::env::vars())
    }

    /// The pure part of [`Config::load`], for tests: `file` is only used to
    /// resolve relative paths and in error messages.
    pub fn from_toml(
        file: &Path,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let syntax = |message: String| ConfigError::Syntax {
            file: file.to_path_buf(),
            message,
        };
        let mut value: toml::Value = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
        env_override::apply(&mut value, env).map_err(|(key, message)| ConfigError::Key {
            file: file.to_path_buf(),
            key,
            message,
        })?;
        let mut config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
            let key = e.path().to_string();
            let message = suggest::explain(&key, &e.into_inner().to_string(), text);
            ConfigError::Key {
                file: file.to_path_buf(),
                key,
                message,
            }
        })?;
        config.file = file.to_path_buf();
        config.resolve_paths();
        config.validate()?;
        Ok(config)
    }

    fn base_dir(&self) -> PathBuf {
        self.file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    fn resolve_paths(&mut self) {
        let base = self.base_dir();
        let absolute = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        for mailbox in &mut self.mailboxes {
            mailbox.ca_file.as_mut().map(absolute);
            mailbox.password_file.as_mut().map(absolute);
            if let Some(oauth) = &mut mailbox.oauth {
                oauth.paths_mut().for_each(absolute);
            }
        }
        for maildir in &mut self.maildirs {
            absolute(&mut maildir.path);
            maildir.processed.as_mut().map(absolute);
        }
        if let Some(smtp) = &mut self.smtp {
            smtp.ca_file.as_mut().map(absolute);
            smtp.password_file.as_mut().map(absolute);
            smtp.directory.as_mut().map(absolute);
            if let Some(oauth) = &mut smtp.oauth {
                oauth.paths_mut().for_each(absolute);
            }
        }
        if let Some(ack) = &mut self.ack {
            absolute(&mut ack.templates);
        }
        if let Some(rest) = self.store.url.strip_prefix("sqlite://")
            && !rest.starts_with('/')
            && !rest.starts_with(':')
        {
            self.store.url = format!("sqlite://{}", base.join(rest).display());
        }
    }

    fn key_error(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Key {
            file: self.file.clone(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Reads every password from its file, variable or credential. Only the
    /// commands that talk to IMAP or SMTP need them, so that an editor at
    /// the server can run `drafts list` without the daemon's credentials.
    pub fn resolve_secrets(&mut self) -> Result<(), ConfigError> {
        match self.resolve_secrets_each().into_iter().next() {
            Some((_, error)) => Err(error),
            None => Ok(()),
        }
    }

    /// Every secret that can be read, and for each source whose secret
    /// cannot, its name (`mailbox NAME`, `smtp`) and why: `check` reports
    /// them all rather than stopping at the first.
    pub fn resolve_secrets_each(&mut self) -> Vec<(String, ConfigError)> {
        let mut failures = Vec::new();
        for i in 0..self.mailboxes.len() {
            if let Err(error) = self.resolve_mailbox_secret(i) {
                failures.push((format!("mailbox {}", self.mailboxes[i].name), error));
            }
        }
        if let Err(error) = self.resolve_smtp_secrets() {
            failures.push(("smtp".to_string(), error));
        }
        failures
    }

    fn resolve_mailbox_secret(&mut self, i: usize) -> Result<(), ConfigError> {
        let key = |k: &str| format!("mailbox[{i}].{k}");
        if let Some(oauth) = &self.mailboxes[i].oauth {
            let oauth = self.resolve_oauth(&key("oauth"), oauth)?;
            self.mailboxes[i].oauth = Some(oauth);
            return Ok(());
        }
        let password = secret::resolve((&self.mailboxes[i]).into())
            .map_err(|(k, message)| self.key_error(key(&k), message))?
            .ok_or_else(|| {
                self.key_error(
                    key("password_file"),
                    "no password source: set one of password_file, password_env or password_credential",
                )
            })?;
        self.mailboxes[i].password = Some(password);
        Ok(())
    }

    fn resolve_smtp_secrets(&mut self) -> Result<(), ConfigError> {
        if let Some(oauth) = self.smtp.as_ref().and_then(|smtp| smtp.oauth.as_ref()) {
            let oauth = self.resolve_oauth("smtp.oauth", oauth)?;
            if let Some(smtp) = &mut self.smtp {
                smtp.oauth = Some(oauth);
            }
        }
        if let Some(smtp) = &self.smtp {
            let password = secret::resolve(secret::PasswordSource {
                prefix: "password",
                file: smtp.password_file.as_deref(),
                env: smtp.password_env.as_deref(),
                credential: smtp.password_credential.as_deref(),
            })
            .map_err(|(k, message)| self.key_error(format!("smtp.{k}"), message))?;
            if let Some(smtp) = &mut self.smtp {
                smtp.password = password;
            }
        }
        Ok(())
    }

    /// The refresh token is required; a client secret only when the
    /// provider registered the client as confidential.
    fn resolve_oauth(&self, key: &str, oauth: &OAuthConfig) -> Result<OAuthConfig, ConfigError> {
        let error = |(k, message): (String, String)| self.key_error(format!("{key}.{k}"), message);
        let mut oauth = oauth.clone();
        oauth.client_secret = secret::resolve(oauth.client_secret_source()).map_err(error)?;
        let refresh_token = secret::resolve(oauth.refresh_token_source()).map_err(error)?;
        oauth.refresh_token = Some(refresh_token.ok_or_else(|| {
            self.key_error(
                format!("{key}.refresh_token_file"),
                "no refresh token: set one of refresh_token_file, refresh_token_env or refresh_token_credential",
            )
        })?);
        Ok(oauth)
    }

    pub fn parse_options(&self) -> crate::message::ParseOptions {
        crate::message::ParseOptions {
            max_parts: self.limits.max_parts,
            max_depth: self.limits.max_depth,
            own_addresses: self.general.own_addresses.clone(),
            forwarders: self.general.forwarders.clone(),
            extract: self.extract.limits(),
            defer_extraction_at: None,
        }
    }

    /// The provider whose Authentication-Results header is trusted.
    pub fn authserv_id(&self) -> Option<&str> {
        let from_auth = self.auth.as_ref().and_then(|a| a.authserv_id.as_deref());
        from_auth.or_else(|| self.ack.as_ref().and_then(|a| a.authserv_id.as_deref()))
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        // validate() proved it parses.
        self.general
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai)
    }
}

pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests;
