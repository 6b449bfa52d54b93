//! The queue's query parameters, shared by `GET /api/v1/drafts` and the
//! web page, so a view is the same list in both and can be bookmarked.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::Api;
use super::error::ApiError;
use crate::draft::DraftView;
use crate::store::{
    DraftCursor, DraftFilter, DraftSort, Holder, MailKind, SortKey, StatusCounts, StatusView,
};

pub const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

/// A parsed list request: the filter, and the page it asks for.
pub struct ListRequest {
    pub filter: DraftFilter,
    /// 1-based.
    pub page: u32,
    pub limit: u32,
}

/// One page of a list with what the page needs around it.
pub struct Listed {
    pub drafts: Vec<DraftView>,
    pub counts: StatusCounts,
    /// Drafts the whole view holds.
    pub total: u64,
    pub pages: u32,
    pub next_cursor: Option<String>,
}

/// Reads the parameters; `me` is who `holder=me` means.
pub fn request_from(
    query: &HashMap<String, String>,
    api: &Api,
    me: &str,
) -> Result<ListRequest, ApiError> {
    let text = |key: &str| {
        query
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let bad = |key: &str, e: String| ApiError::bad_request(format!("`{key}`: {e}"));
    let parse_time = |key: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(value) = text(key) else {
            return Ok(None);
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(&value) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        let day = NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_err(|_| {
            bad(
                key,
                format!("expected a date (2026-11-28) or an RFC 3339 time, not `{value}`"),
            )
        })?;
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        Ok(api
            .store
            .time_zone()
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc)))
    };
    let flag = |key: &str| -> Result<bool, ApiError> {
        match text(key).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(bad(key, format!("expected true or false, not `{other}`"))),
        }
    };
    let number = |key: &str, max: u32, default: u32| -> Result<u32, ApiError> {
        match text(key) {
            Some(n) => n
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| bad(key, format!("expected 1 to {max}, not `{n}`"))),
            None => Ok(default),
        }
    };

    let status = text("status")
        .map(|s| s.parse::<StatusView>())
        .transpose()
        .map_err(|e| bad("status", e))?
        .unwrap_or(StatusView::All);
    let mail = match text("mail").as_deref() {
        None | Some("all") => None,
        Some(m) => Some(m.parse::<MailKind>().map_err(|e| bad("mail", e))?),
    };
    let holder = match text("holder").as_deref() {
        Some("me") => Some(Holder::Editor(me.to_string())),
        other => other
            .map(str::parse::<Holder>)
            .transpose()
            .map_err(|e| bad("holder", e))?,
    };
    let sort = DraftSort {
        key: text("sort")
            .map(|k| k.parse::<SortKey>())
            .transpose()
            .map_err(|e| bad("sort", e))?
            .unwrap_or_default(),
        descending: match text("order").as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(bad("order", format!("expected asc or desc, not `{other}`")));
            }
        },
    };
    let limit = number("limit", MAX_PAGE, DEFAULT_PAGE)?;
    // Far enough for any queue; the bound keeps the offset in range.
    let page = number("page", u32::MAX / MAX_PAGE, 1)?;
    let after = text("cursor")
        .map(|c| c.parse::<DraftCursor>())
        .transpose()
        .map_err(|e| bad("cursor", e))?;
    if after.is_some() && (page > 1 || !sort.is_default()) {
        return Err(bad(
            "cursor",
            "continues the default order only: use `page` with `sort`".into(),
        ));
    }
    let mut filter = DraftFilter {
        mail,
        holder,
        unseen_mail: flag("unseen_mail")?,
        overdue_before: flag("overdue")?.then(|| api.overdue_before()),
        mailbox: text("mailbox"),
        sender: text("sender"),
        since: parse_time("since")?,
        until: parse_time("until")?,
        text: text("q"),
        sort,
        after,
        offset: (page - 1) * limit,
        limit: Some(limit),
        ..DraftFilter::default()
    };
    status.apply(&mut filter);
    Ok(ListRequest {
        filter,
        page,
        limit,
    })
}

/// The page a request asks for, the counts of its view, and its total.
pub async fn list(api: &Api, request: &ListRequest) -> Result<Listed, ApiError> {
    let drafts = api.store.list_drafts(&request.filter).await?;
    let counts = api.store.status_counts(&request.filter).await?;
    let total = counts.total(&request.filter);
    let filter = &request.filter;
    // Without a cursor the position is known, so the last full page says so.
    let more = match filter.after {
        Some(_) => drafts.len() as u32 == request.limit,
        None => u64::from(filter.offset) + (drafts.len() as u64) < total,
    };
    let next_cursor = match drafts.last() {
        Some(last) if more && filter.sort.is_default() => {
            Some(DraftCursor::after(last).to_string())
        }
        _ => None,
    };
    Ok(Listed {
        drafts,
        total,
        pages: total.div_ceil(u64::from(request.limit)).max(1) as u32,
        next_cursor,
        counts,
    })
}
