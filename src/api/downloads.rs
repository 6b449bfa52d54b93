//! Responses that carry files: the raw message, attachments and exports,
//! shared by the API and the web page.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::Api;
use super::error::ApiError;
use crate::draft::{DraftStatus, DraftView};
use crate::export::Format;
use crate::export::printable::is_bidi_control;
use crate::store::DraftKey;

/// A draft, purged or not (then only its reference and status remain).
pub async fn find_draft(api: &Api, key: &DraftKey) -> Result<DraftView, ApiError> {
    api.store
        .draft(key)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("draft {key}")))
}

/// A draft that exists and was not purged.
pub async fn live_draft(api: &Api, key: &DraftKey) -> Result<DraftView, ApiError> {
    let draft = find_draft(api, key).await?;
    if draft.status == DraftStatus::Purged {
        return Err(ApiError::purged(&draft.reference));
    }
    Ok(draft)
}

pub async fn raw(api: &Api, key: &DraftKey) -> Result<Response, ApiError> {
    let draft = live_draft(api, key).await?;
    let bytes = api
        .store
        .raw(draft.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("raw message of {key}")))?;
    Ok(file(
        "message/rfc822",
        &format!("{}.eml", draft.reference),
        bytes,
    ))
}

/// `which` is the attachment's index or its path (`2.0`).
pub async fn attachment(api: &Api, key: &DraftKey, which: &str) -> Result<Response, ApiError> {
    let draft = live_draft(api, key).await?;
    let listed = draft
        .attachments
        .iter()
        .find(|a| a.is(which))
        .ok_or_else(|| ApiError::not_found(format_args!("attachment {which} of {key}")))?;
    let index = listed.index;
    let raw = api
        .store
        .raw(draft.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("raw message of {key}")))?;
    let (_, bytes) = crate::message::attachment_content(&raw, index)
        .ok_or_else(|| ApiError::not_found(format_args!("attachment {index} of {key}")))?;
    let fallback = format!("{}-{}", draft.reference, listed.path);
    let name = listed.filename.as_deref().unwrap_or(&fallback);
    Ok(file(&listed.content_type, name, bytes))
}

/// A follow-up's exact bytes (`number` as the thread shows it).
pub async fn follow_up_raw(api: &Api, key: &DraftKey, number: u32) -> Result<Response, ApiError> {
    let draft = live_draft(api, key).await?;
    let bytes = api
        .store
        .follow_up_raw(draft.id, number)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("mail {number} of {key}")))?;
    Ok(file(
        "message/rfc822",
        &format!("{}-{number}.eml", draft.reference),
        bytes,
    ))
}

/// An attachment of a follow-up, by index or path.
pub async fn follow_up_attachment(
    api: &Api,
    key: &DraftKey,
    number: u32,
    which: &str,
) -> Result<Response, ApiError> {
    let draft = live_draft(api, key).await?;
    let missing =
        || ApiError::not_found(format_args!("attachment {which} of mail {number} of {key}"));
    let listed = draft
        .thread
        .iter()
        .find(|f| f.number == number)
        .and_then(|f| f.attachments.iter().find(|a| a.is(which)))
        .ok_or_else(missing)?;
    let raw = api
        .store
        .follow_up_raw(draft.id, number)
        .await?
        .ok_or_else(missing)?;
    let (_, bytes) = crate::message::attachment_content(&raw, listed.index).ok_or_else(missing)?;
    let fallback = format!("{}-{number}-{}", draft.reference, listed.path);
    let name = listed.filename.as_deref().unwrap_or(&fallback);
    Ok(file(&listed.content_type, name, bytes))
}

pub async fn export(api: &Api, key: &DraftKey, format: Format) -> Result<Response, ApiError> {
    let draft = live_draft(api, key).await?;
    let html = api.store.body_html(draft.id).await?;
    let events = api.store.events(draft.id).await?;
    let document = crate::export::render(format, &draft, html.as_deref(), &events);
    let name = format!("{}.{}", draft.reference, format.extension());
    Ok(file(format.content_type(), &name, document.into_bytes()))
}

/// A download: always `attachment` (never rendered in our origin), the
/// original name kept for every browser.
fn file(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&content_disposition(name))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// RFC 6266: an ASCII `filename` for old clients and the exact name as
/// RFC 5987 `filename*`, e.g. `filename*=UTF-8''%E6%8A%95%E7%A8%BF.docx`.
pub fn content_disposition(name: &str) -> String {
    // Path separators, control characters and bidi overrides (which make
    // `invoice<U+202E>txt.exe` read as a text file) never reach a client's disk.
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_control() || c == '/' || c == '\\' || is_bidi_control(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let ascii: String = clean
        .chars()
        .map(|c| {
            if c.is_ascii() && c != '"' && c != '%' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in clean.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn chinese_names_travel_as_rfc5987_with_an_ascii_fallback() {
        assert_eq!(
            content_disposition("投稿 v2.docx"),
            "attachment; filename=\"__ v2.docx\"; filename*=UTF-8''%E6%8A%95%E7%A8%BF%20v2.docx"
        );
    }

    #[test]
    fn a_bidi_override_cannot_disguise_the_extension() {
        let header = content_disposition("invoice\u{202E}txt.exe");
        assert!(
            header.contains("filename*=UTF-8''invoice_txt.exe"),
            "{header}"
        );
    }

    #[test]
    fn quotes_separators_and_control_characters_cannot_escape() {
        let header = content_disposition("../a\"b\r\n%.txt");
        assert_eq!(
            header,
            "attachment; filename=\".._a_b___.txt\"; filename*=UTF-8''.._a%22b__%25.txt"
        );
    }
}
