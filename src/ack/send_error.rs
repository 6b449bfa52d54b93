//! How a send failed, which decides what the outbox does next: retry,
//! give up, or never send again.

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    message: String,
    transient: bool,
    unanswered: bool,
}

impl SendError {
    /// 4xx replies, connection and TLS trouble, timeouts: worth retrying.
    /// 5xx replies are permanent.
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// The message was handed over but the server never answered: it may
    /// have kept it, so it must not be sent again.
    pub fn is_unanswered(&self) -> bool {
        self.unanswered
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            transient: false,
            unanswered: false,
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            transient: true,
            unanswered: false,
        }
    }

    pub fn unanswered(self) -> Self {
        SendError {
            unanswered: true,
            ..self
        }
    }
}

impl From<crate::oauth::OAuthError> for SendError {
    fn from(e: crate::oauth::OAuthError) -> Self {
        SendError {
            transient: e.is_transient(),
            message: e.to_string(),
            unanswered: false,
        }
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        SendError {
            transient: !e.is_permanent(),
            message: e.to_string(),
            unanswered: false,
        }
    }
}
