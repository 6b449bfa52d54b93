//! The one seam acknowledgements leave through: SMTP (lettre over rustls,
//! certificates always verified) or a directory of .eml files for the demo.

use std::path::PathBuf;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls as SmtpTls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Tls;
use crate::config::ack::{SmtpConfig, TransportKind};

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
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(Transport::Smtp(builder.build()))
    }

    /// Connects, negotiates TLS and authenticates, sending nothing.
    pub async fn test(&self) -> Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => match smtp.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err(SendError {
                    message: "the server did not answer NOOP".into(),
                    transient: true,
                }),
                Err(e) => Err(SendError::from(e)),
            },
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
