//! The one seam acknowledgements and letters leave through: SMTP (lettre
//! over rustls, certificates always verified) or a directory of .eml files
//! for the demo. Sending is two steps, `hand_over` then `finish`, so the
//! outbox can record the moment in between.

use std::path::PathBuf;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls as SmtpTls, TlsParameters};

pub use super::send_error::SendError;
use super::smtp::{OpenData, SmtpClient};

use crate::config::ack::{SmtpConfig, TransportKind};
use crate::config::{AuthMethod, Tls};

#[derive(Clone)]
pub enum Transport {
    Smtp(Box<SmtpClient>),
    /// XOAUTH2: each connection with a current access token (cached until
    /// shortly before it expires).
    OAuthSmtp(Box<SmtpConfig>),
    File(PathBuf),
}

/// A message about to leave: for SMTP the server has said "go ahead" to
/// DATA and nothing of the message has gone out. The outbox records this
/// moment durably before `finish`.
pub enum Handover {
    Smtp(Box<OpenData>),
    File { target: PathBuf, bytes: Vec<u8> },
}

impl Transport {
    pub fn from_config(smtp: &SmtpConfig) -> Result<Transport, String> {
        if smtp.transport == TransportKind::File {
            let dir = smtp
                .directory
                .clone()
                .ok_or("the file transport needs smtp.directory")?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            return Ok(Transport::File(dir));
        }
        if smtp.auth.is_oauth() {
            // Fails now, not at the first acknowledgement, on a bad ca_file.
            smtp_client(smtp, None)?;
            return Ok(Transport::OAuthSmtp(Box::new(smtp.clone())));
        }
        let credentials = match (&smtp.username, &smtp.password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            )),
            _ => None,
        };
        Ok(Transport::Smtp(Box::new(smtp_client(smtp, credentials)?)))
    }

    /// Connects, negotiates TLS and authenticates, sending nothing.
    pub async fn test(&self) -> Result<(), SendError> {
        match self {
            Transport::OAuthSmtp(config) => {
                let result = oauth_client(config).await?.test().await;
                forget_refused(config, &result);
                result
            }
            Transport::Smtp(client) => client.test().await,
            Transport::File(dir) => {
                if dir.is_dir() {
                    Ok(())
                } else {
                    Err(SendError::permanent(format!(
                        "{} is not a directory",
                        dir.display()
                    )))
                }
            }
        }
    }

    /// Everything before the message's bytes: for SMTP the connection, the
    /// envelope and DATA. Nothing has been delivered when this fails.
    pub async fn hand_over(&self, message: Message, name: &str) -> Result<Handover, SendError> {
        match self {
            Transport::Smtp(client) => client
                .open_data(&message)
                .await
                .map(Box::new)
                .map(Handover::Smtp),
            Transport::OAuthSmtp(config) => {
                let result = oauth_client(config).await?.open_data(&message).await;
                forget_refused(config, &result);
                result.map(Box::new).map(Handover::Smtp)
            }
            Transport::File(dir) => Ok(Handover::File {
                target: dir.join(format!("{name}.eml")),
                bytes: message.formatted(),
            }),
        }
    }
}

impl Handover {
    /// The message itself; Ok once the server (or the file system) has it.
    pub async fn finish(self) -> Result<(), SendError> {
        match self {
            Handover::Smtp(data) => data.finish().await,
            Handover::File { target, bytes } => {
                // Written under a temporary name, then renamed: a reader never sees half a file.
                let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
                let tmp = target.with_file_name(format!(".{}.tmp", name.unwrap_or_default()));
                let transient = |e: std::io::Error| SendError::transient(e.to_string());
                tokio::fs::write(&tmp, bytes).await.map_err(transient)?;
                tokio::fs::rename(&tmp, &target).await.map_err(transient)
            }
        }
    }
}

fn smtp_client(smtp: &SmtpConfig, credentials: Option<Credentials>) -> Result<SmtpClient, String> {
    let host = smtp
        .host
        .clone()
        .ok_or("the smtp transport needs smtp.host")?;
    let mut tls = TlsParameters::builder(host.clone());
    if let Some(path) = &smtp.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read smtp.ca_file {}: {e}", path.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("smtp.ca_file {}: {e}", path.display()))?;
        tls = tls.add_root_certificate(cert);
    }
    let tls = tls
        .build_rustls()
        .map_err(|e| format!("SMTP TLS setup: {e}"))?;
    let mechanisms = if smtp.auth == AuthMethod::Xoauth2 {
        vec![Mechanism::Xoauth2]
    } else {
        DEFAULT_MECHANISMS.to_vec()
    };
    Ok(SmtpClient {
        host,
        port: smtp.port(),
        timeout: smtp.timeout,
        tls: match smtp.tls {
            Tls::Implicit => SmtpTls::Wrapper(tls),
            Tls::Starttls => SmtpTls::Required(tls),
            // Allowed by config validation only towards loopback.
            Tls::None => SmtpTls::None,
        },
        credentials,
        mechanisms,
    })
}

async fn oauth_client(smtp: &SmtpConfig) -> Result<SmtpClient, SendError> {
    // Config validation guarantees both for auth = "xoauth2".
    let (Some(oauth), Some(user)) = (&smtp.oauth, &smtp.username) else {
        return Err(SendError::permanent(
            "smtp.auth = \"xoauth2\" needs smtp.oauth and smtp.username",
        ));
    };
    let token = crate::oauth::access_token(oauth).await?;
    let credentials = Credentials::new(user.clone(), token.expose().to_string());
    smtp_client(smtp, Some(credentials)).map_err(SendError::permanent)
}

/// A refused login may be a token revoked early: the next attempt asks
/// the provider for a new one.
fn forget_refused<T>(smtp: &SmtpConfig, result: &Result<T, SendError>) {
    if result.is_err()
        && let Some(oauth) = &smtp.oauth
    {
        crate::oauth::forget(oauth);
    }
}
