//! API errors: JSON `{"error": {"code", "message"}}` with a stable code that
//! clients branch on, and the HTTP status that goes with it.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::{ChangeError, EditorError, StoreError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no {what}"))
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid editor token is required: Authorization: Bearer sp_…",
        )
    }

    pub fn purged(reference: &str) -> ApiError {
        ApiError::new(
            StatusCode::GONE,
            "purged",
            format!("draft {reference} was withdrawn and purged"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        if let StoreError::Invalid(message) = e {
            ApiError::bad_request(message)
        } else if e.is_transient() {
            tracing::warn!(error = %e, "store busy or unreachable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the store is busy or unreachable: try again",
            )
        } else {
            tracing::error!(error = %e, "store failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the store failed; the server log has details",
            )
        }
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> ApiError {
        match e {
            ChangeError::NotFound(key) => ApiError::not_found(format_args!("draft {key}")),
            ChangeError::Refused(refused) => {
                let status = match refused {
                    crate::workflow::WorkflowError::SignerOnly { .. } => StatusCode::FORBIDDEN,
                    crate::workflow::WorkflowError::UnknownEditor { .. }
                    | crate::workflow::WorkflowError::BadComment { .. } => {
                        StatusCode::UNPROCESSABLE_ENTITY
                    }
                    _ => StatusCode::CONFLICT,
                };
                ApiError::new(status, refused.code(), refused.to_string())
            }
            ChangeError::Store(e) => e.into(),
        }
    }
}

impl From<EditorError> for ApiError {
    fn from(e: EditorError) -> ApiError {
        match e {
            EditorError::Store(e) => e.into(),
            other => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                other.to_string(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"slushpile\""),
            );
        }
        response
    }
}
