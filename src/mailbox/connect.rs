//! Opening an authenticated IMAP session: TCP, TLS (implicit or STARTTLS),
//! greeting, LOGIN (or SASL XOAUTH2 / OAUTHBEARER), then the RFC 2971 `ID`
//! command some providers require.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::types::UnsolicitedResponse;
use async_imap::{Client, Session};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use super::MailboxError;
use crate::config::{AuthMethod, MailboxConfig, Tls};

/// TLS or (loopback-only) plain TCP behind one type, as async-imap needs one.
#[derive(Debug)]
pub enum ImapStream {
    Tls(Box<TlsStream<BufReader<TcpStream>>>),
    Plain(TcpStream),
}

/// rustls reads the socket 4 KiB at a time: a buffer under it turns the
/// ~200k reads of a 800 MB download into ~12k.
const TLS_READ_BUFFER: usize = 64 * 1024;

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

pub type ImapSession = Session<ImapStream>;

/// What the server told us about itself after login.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    pub idle: bool,
    pub move_ext: bool,
    pub uidplus: bool,
    pub id: bool,
    /// Everything advertised, for `slushpile check`.
    pub capabilities: Vec<String>,
}

pub async fn open(config: &MailboxConfig) -> Result<(ImapSession, ServerInfo), MailboxError> {
    let server = format!("{}:{}", config.host, config.port());
    let timeout = config.io_timeout;
    let connect_error = |reason: String| MailboxError::Connect {
        server: server.clone(),
        reason,
    };

    let tcp = within(
        timeout,
        TcpStream::connect((config.host.as_str(), config.port())),
    )
    .await
    .map_err(&connect_error)?
    .map_err(|e| connect_error(e.to_string()))?;
    tcp.set_nodelay(true).ok();

    let stream = match config.tls {
        Tls::None => ImapStream::Plain(tcp),
        Tls::Implicit => ImapStream::Tls(Box::new(handshake(config, &server, tcp).await?)),
        Tls::Starttls => {
            let tcp = starttls(tcp, timeout).await.map_err(&connect_error)?;
            ImapStream::Tls(Box::new(handshake(config, &server, tcp).await?))
        }
    };
    let mut client = Client::new(stream);
    if config.tls != Tls::Starttls {
        // After STARTTLS there is no second greeting.
        within(timeout, client.read_response())
            .await
            .map_err(&connect_error)?
            .map_err(|e| connect_error(format!("no greeting: {e}")))?
            .ok_or_else(|| connect_error("connection closed before the greeting".into()))?;
    }

    let mut session = if config.auth.is_oauth() {
        authenticate(client, config, &server).await?
    } else {
        let login = within(
            timeout,
            client.login(
                &config.username,
                config.password.as_ref().map_or("", |p| p.expose()),
            ),
        )
        .await
        .map_err(&connect_error)?;
        login.map_err(|(e, _)| MailboxError::Login {
            server: server.clone(),
            username: config.username.clone(),
            reason: describe_login_failure(config, &e),
        })?
    };

    let caps = within(timeout, session.capabilities())
        .await
        .map_err(&connect_error)?
        .map_err(|e| MailboxError::protocol(&server, "CAPABILITY", e))?;
    let info = ServerInfo {
        idle: caps.has_str("IDLE"),
        move_ext: caps.has_str("MOVE"),
        uidplus: caps.has_str("UIDPLUS"),
        id: caps.has_str("ID"),
        capabilities: {
            use async_imap::types::Capability;
            let mut all: Vec<String> = caps
                .iter()
                .map(|c| match c {
                    Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                    Capability::Auth(mechanism) => format!("AUTH={mechanism}"),
                    Capability::Atom(atom) => atom.clone(),
                })
                .collect();
            all.sort();
            all
        },
    };
    if info.id {
        // 126.com/163.com answer SELECT with "Unsafe Login" until the client identifies itself.
        let identity = [
            ("name", Some("slushpile")),
            ("version", Some(env!("CARGO_PKG_VERSION"))),
        ];
        within(timeout, session.id(identity))
            .await
            .map_err(&connect_error)?
            .map_err(|e| MailboxError::protocol(&server, "ID", e))?;
    }
    Ok((session, info))
}

async fn handshake(
    config: &MailboxConfig,
    server: &str,
    tcp: TcpStream,
) -> Result<TlsStream<BufReader<TcpStream>>, MailboxError> {
    let tls_error = |reason: String| MailboxError::Tls {
        server: server.to_string(),
        reason,
    };
    let tls_config = super::tls::client_config(config.ca_file.as_deref()).map_err(tls_error)?;
    let name = ServerName::try_from(config.host.clone())
        .map_err(|e| tls_error(format!("bad host name: {e}")))?;
    within(
        config.io_timeout,
        TlsConnector::from(tls_config)
            .connect(name, BufReader::with_capacity(TLS_READ_BUFFER, tcp)),
    )
    .await
    .map_err(tls_error)?
    .map_err(|e| tls_error(e.to_string()))
}

/// RFC 3501 STARTTLS by hand: async-imap has no helper for it.
async fn starttls(tcp: TcpStream, timeout: Duration) -> Result<TcpStream, String> {
    let mut reader = BufReader::new(tcp);
    let mut line = String::new();
    within(timeout, reader.read_line(&mut line))
        .await?
        .map_err(|e| e.to_string())?;
    if !line.starts_with("* OK") {
        return Err(format!("unexpected greeting: {}", line.trim_end()));
    }
    reader
        .get_mut()
        .write_all(b"s0 STARTTLS\r\n")
        .await
        .map_err(|e| e.to_string())?;
    loop {
        line.clear();
        let n = within(timeout, reader.read_line(&mut line))
            .await?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed during STARTTLS".into());
        }
        if let Some(status) = line.strip_prefix("s0 ") {
            if status.starts_with("OK") {
                break;
            }
            return Err(format!("server refused STARTTLS: {}", status.trim_end()));
        }
    }
    if !reader.buffer().is_empty() {
        // Plaintext injected after the OK would otherwise be read as if protected by TLS.
        return Err("server sent data after STARTTLS OK (possible injection)".into());
    }
    Ok(reader.into_inner())
}

/// SASL XOAUTH2 / OAUTHBEARER with an access token from the `oauth` table.
async fn authenticate(
    client: Client<ImapStream>,
    config: &MailboxConfig,
    server: &str,
) -> Result<ImapSession, MailboxError> {
    let login_error = |reason: String| MailboxError::Login {
        server: server.to_string(),
        username: config.username.clone(),
        reason,
    };
    // Config validation guarantees the table for an OAuth method.
    let Some(oauth) = &config.oauth else {
        return Err(login_error("no oauth table".into()));
    };
    let token = crate::oauth::access_token(oauth)
        .await
        .map_err(|error| MailboxError::OAuth {
            mailbox: config.name.clone(),
            error,
        })?;
    let refusal = Arc::new(Mutex::new(None));
    let sasl = OAuthSasl {
        method: config.auth,
        initial: Some(crate::oauth::initial_response(
            config.auth,
            &config.username,
            token.expose(),
            &config.host,
            config.port(),
        )),
        refusal: refusal.clone(),
    };
    let result = within(
        config.io_timeout,
        client.authenticate(config.auth.mechanism(), sasl),
    )
    .await
    .map_err(|reason| MailboxError::Connect {
        server: server.to_string(),
        reason,
    })?;
    result.map_err(|(e, _)| {
        // The next attempt asks the endpoint for a fresh token.
        crate::oauth::forget(oauth);
        let mut reason = match &e {
            async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => format!(
                "server refused the credentials: {}",
                super::words::server_words(text.trim())
            ),
            other => super::words::server_words(&other.to_string()),
        };
        let refusal = refusal.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(detail) = refusal {
            reason.push_str(&format!(" (server said {detail})"));
        }
        login_error(format!("{} {reason}", config.auth.mechanism()))
    })
}

/// Answers the server's first (empty) challenge with the token; a second
/// challenge is the server's error report (JSON), kept for the message.
struct OAuthSasl {
    method: AuthMethod,
    initial: Option<String>,
    refusal: Arc<Mutex<Option<String>>>,
}

impl async_imap::Authenticator for OAuthSasl {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if let Some(initial) = self.initial.take() {
            return initial.into_bytes();
        }
        let detail = String::from_utf8_lossy(challenge).trim().to_string();
        *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(detail);
        crate::oauth::error_acknowledgement(self.method).to_vec()
    }
}

fn describe_login_failure(config: &MailboxConfig, error: &async_imap::error::Error) -> String {
    match error {
        async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
            super::words::refused_login(config, text)
        }
        other => super::words::server_words(&other.to_string()),
    }
}

async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| format!("no answer within {}s", limit.as_secs()))
}

/// Every IMAP command gets the mailbox's `io_timeout`: a dead connection
/// must turn into a reconnect, not a hang.
pub async fn timed<T>(
    config: &MailboxConfig,
    command: &'static str,
    fut: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, MailboxError> {
    match tokio::time::timeout(config.io_timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(MailboxError::protocol(&config.host, command, e)),
        Err(_) => Err(MailboxError::protocol(
            &config.host,
            command,
            format!("no answer within {}s", config.io_timeout.as_secs()),
        )),
    }
}

/// async-imap queues untagged responses in a bounded channel and drops what
/// does not fit, so they are drained after every command; we learn the
/// mailbox's state by re-selecting, so only "new mail" matters.
/// Returns whether any of them announced new mail (EXISTS / RECENT), or the
/// channel was full: a move of many messages answers with an EXPUNGE each,
/// and an EXISTS after them may have been dropped.
pub fn drain_unsolicited(session: &mut ImapSession) -> bool {
    let full = session.unsolicited_responses.is_full();
    let mut news = false;
    while let Ok(response) = session.unsolicited_responses.try_recv() {
        news |= matches!(
            response,
            UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
        );
    }
    news || full
}
