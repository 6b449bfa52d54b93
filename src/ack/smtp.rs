//! One SMTP session per message, driven step by step so the outbox can
//! record the hand-over between the server's "go ahead" to DATA and the
//! message's bytes: lettre's transport sends all of it in one call.

use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use super::send_error::SendError;

/// Where and how to connect; certificates are always verified.
#[derive(Clone)]
pub struct SmtpClient {
    pub host: String,
    pub port: u16,
    pub timeout: Duration,
    pub tls: Tls,
    pub credentials: Option<Credentials>,
    pub mechanisms: Vec<Mechanism>,
}

/// A session whose server has accepted the envelope and said "go ahead" to
/// DATA: nothing of the message has gone out yet.
pub struct OpenData {
    connection: AsyncSmtpConnection,
    bytes: Vec<u8>,
    timeout: Duration,
}

impl SmtpClient {
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let hello = ClientId::default();
        let wrapper = match &self.tls {
            Tls::Wrapper(parameters) => Some(parameters.clone()),
            _ => None,
        };
        let mut connection = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &hello,
            wrapper,
            None,
        )
        .await?;
        if let Tls::Required(parameters) = &self.tls {
            connection.starttls(parameters.clone(), &hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(&self.mechanisms, credentials).await?;
        }
        Ok(connection)
    }

    /// Connects, negotiates TLS, authenticates and asks for NOOP.
    pub async fn test(&self) -> Result<(), SendError> {
        let testing = async {
            let mut connection = self.connect().await?;
            let answered = connection.test_connected().await;
            connection.quit().await.ok();
            Ok::<_, SendError>(answered)
        };
        let answered = tokio::time::timeout(self.timeout, testing)
            .await
            .map_err(|_| self.silent("to NOOP"))??;
        if answered {
            Ok(())
        } else {
            Err(SendError::transient("the server did not answer NOOP"))
        }
    }

    /// Everything up to the server's 354: connection, envelope, DATA.
    pub async fn open_data(&self, message: &Message) -> Result<OpenData, SendError> {
        let bytes = message.formatted();
        let opening = async {
            let mut connection = self.connect().await?;
            match envelope_and_data(&mut connection, message, bytes.is_ascii()).await {
                Ok(()) => Ok(connection),
                Err(e) => {
                    connection.abort().await;
                    Err(e)
                }
            }
        };
        // lettre bounds only the TCP connect; a server that stops talking
        // must not hold the outbox.
        let connection = tokio::time::timeout(self.timeout, opening)
            .await
            .map_err(|_| self.silent("before the message"))??;
        Ok(OpenData {
            connection,
            bytes,
            timeout: self.timeout,
        })
    }

    fn silent(&self, when: &str) -> SendError {
        SendError::transient(format!(
            "{}:{} did not answer within {} s {when}",
            self.host,
            self.port,
            self.timeout.as_secs()
        ))
    }
}

async fn envelope_and_data(
    connection: &mut AsyncSmtpConnection,
    message: &Message,
    ascii: bool,
) -> Result<(), SendError> {
    let envelope = message.envelope();
    let mut options = Vec::new();
    let non_ascii = |a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii();
    if envelope.from().is_some_and(non_ascii) || envelope.to().iter().any(non_ascii) {
        if !connection
            .server_info()
            .supports_feature(Extension::SmtpUtfEight)
        {
            return Err(SendError::permanent(
                "the server does not accept non-ASCII addresses (no SMTPUTF8)",
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    // Our messages are 7-bit (encoded words, base64 or quoted-printable
    // bodies); the parameter is for the day one is not.
    if !ascii {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    connection
        .command(Mail::new(envelope.from().cloned(), options))
        .await?;
    for to in envelope.to() {
        connection
            .command(Rcpt::new(to.clone(), Vec::new()))
            .await?;
    }
    connection.command(Data).await?;
    Ok(())
}

impl OpenData {
    /// The message and the final dot, then the server's answer. An error
    /// without a reply code leaves it unknown whether the server kept it.
    pub async fn finish(mut self) -> Result<(), SendError> {
        let sending = self.connection.message(&self.bytes);
        match tokio::time::timeout(self.timeout, sending).await {
            Ok(Ok(_)) => {
                // The message is the server's; a slow goodbye changes nothing.
                tokio::time::timeout(self.timeout, self.connection.quit())
                    .await
                    .ok();
                Ok(())
            }
            Ok(Err(e)) => {
                let unanswered = e.status().is_none();
                self.connection.abort().await;
                let error = SendError::from(e);
                Err(if unanswered {
                    error.unanswered()
                } else {
                    error
                })
            }
            Err(_) => Err(SendError::transient(format!(
                "no answer within {} s after the message",
                self.timeout.as_secs()
            ))
            .unanswered()),
        }
    }
}
