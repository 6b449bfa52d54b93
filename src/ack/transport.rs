//! The one seam acknowledgements leave through: SMTP (lettre over rustls,
//! certificates always verified) or a directory of .eml files for the demo.

use std::path::PathBuf;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls as SmtpTls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::ack::{SmtpConfig, TransportKind};
use crate::config::{AuthMethod, Tls};

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    message: String,
    transient: bool,
}

impl SendError {
    /// 4xx replies, connection and TLS trouble, timeouts: worth retrying.
    /// 5xx replies are permanent.
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            transient: false,
        }
    }
}

impl From<crate::oauth::OAuthError> for SendError {
    fn from(e: crate::oauth::OAuthError) -> Self {
        SendError {
            transient: e.is_transient(),
            message: e.to_string(),
        }
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        SendError {
            transient: !e.is_permanent(),
            message: e.to_string(),
        }
    }
}

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// XOAUTH2: a connection per message, each with a current access token
    /// (cached until shortly before it expires).
    OAuthSmtp(Box<SmtpConfig>),
    File(PathBuf),
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
            smtp_transport(smtp, None)?;
            return Ok(Transport::OAuthSmtp(Box::new(smtp.clone())));
        }
        let credentials = match (&smtp.username, &smtp.password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            )),
            _ => None,
        };
        Ok(Transport::Smtp(smtp_transport(smtp, credentials)?))
    }

    /// Connects, negotiates TLS and authenticates, sending nothing.
    pub async fn test(&self) -> Result<(), SendError> {
        match self {
            Transport::OAuthSmtp(config) => {
                let smtp = oauth_transport(config).await?;
                let result = test_connection(&smtp).await;
                forget_refused(config, &result);
                result
            }
            Transport::Smtp(smtp) => test_connection(smtp).await,
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

    pub async fn send(&self, message: Message, name: &str) -> Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(SendError::from),
            Transport::OAuthSmtp(config) => {
                let smtp = oauth_transport(config).await?;
                let result = smtp
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(SendError::from);
                forget_refused(config, &result);
                result
            }
            Transport::File(dir) => {
                // Written under a temporary name, then renamed: a reader never sees half a file.
                let target = dir.join(format!("{name}.eml"));
                let tmp = dir.join(format!(".{name}.eml.tmp"));
                let transient = |e: std::io::Error| SendError {
                    message: e.to_string(),
                    transient: true,
                };
                tokio::fs::write(&tmp, message.formatted())
                    .await
                    .map_err(transient)?;
                tokio::fs::rename(&tmp, &target).await.map_err(transient)
            }
        }
    }
}

async fn test_connection(smtp: &AsyncSmtpTransport<Tokio1Executor>) -> Result<(), SendError> {
    match smtp.test_connection().await {
        Ok(true) => Ok(()),
        Ok(false) => Err(SendError {
            message: "the server did not answer NOOP".into(),
            transient: true,
        }),
        Err(e) => Err(SendError::from(e)),
    }
}

fn smtp_transport(
    smtp: &SmtpConfig,
    credentials: Option<Credentials>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
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
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(smtp.port())
        .timeout(Some(smtp.timeout))
        .tls(match smtp.tls {
            Tls::Implicit => SmtpTls::Wrapper(tls),
            Tls::Starttls => SmtpTls::Required(tls),
            // Allowed by config validation only towards loopback.
            Tls::None => SmtpTls::None,
        });
    if let Some(credentials) = credentials {
        builder = builder.credentials(credentials);
        if smtp.auth == AuthMethod::Xoauth2 {
            builder = builder.authentication(vec![Mechanism::Xoauth2]);
        }
    }
    Ok(builder.build())
}

async fn oauth_transport(
    smtp: &SmtpConfig,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    // Config validation guarantees both for auth = "xoauth2".
    let (Some(oauth), Some(user)) = (&smtp.oauth, &smtp.username) else {
        return Err(SendError::permanent(
            "smtp.auth = \"xoauth2\" needs smtp.oauth and smtp.username",
        ));
    };
    let token = crate::oauth::access_token(oauth).await?;
    let credentials = Credentials::new(user.clone(), token.expose().to_string());
    smtp_transport(smtp, Some(credentials)).map_err(SendError::permanent)
}

/// A refused login may be a token revoked early: the next attempt asks
/// the provider for a new one.
fn forget_refused(smtp: &SmtpConfig, result: &Result<(), SendError>) {
    if result.is_err()
        && let Some(oauth) = &smtp.oauth
    {
        crate::oauth::forget(oauth);
    }
}
