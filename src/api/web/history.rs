//! The draft's history in words (pure): each event said as an editorial
//! office would say it, in the page's language, never as an event code or
//! JSON. A kind this page does not know yet is shown by its name.

use serde_json::Value;

use super::{Lang, Text};
use crate::draft::{DraftStatus, EventView, Intent, LetterKind};
use crate::export::escape;

/// The history table.
pub fn table(lang: Lang, events: &[EventView]) -> String {
    let rows: String = events
        .iter()
        .map(|e| {
            format!(
                "<tr class=\"event\" data-kind=\"{kind}\" data-actor=\"{actor}\"><td>{at}</td><td>{actor}</td><td>{what}</td></tr>",
                kind = escape(&e.kind),
                actor = escape(&e.actor),
                at = e.at.format("%Y-%m-%d %H:%M"),
                what = escape(&describe(lang, e)),
            )
        })
        .collect();
    format!(
        "<h2>{}</h2><table id=\"history\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>",
        lang.t(Text::History),
        lang.t(Text::When),
        lang.t(Text::Who),
        lang.t(Text::What),
    )
}

/// One event in words.
pub fn describe(lang: Lang, event: &EventView) -> String {
    let zh = lang.is_chinese();
    let d = &event.detail;
    let text = |key: &str| d.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let status = |key: &str| {
        text(key)
            .and_then(|s| s.parse::<DraftStatus>().ok())
            .map(|s| lang.status(s))
    };
    let mut said = match event.kind.as_str() {
        "ingested" => lang.pick("收稿", "收稿", "received").to_string(),
        "quarantined" => lang.pick("隔離", "隔离", "quarantined").to_string(),
        "seen_again" => lang
            .pick(
                "再次收到同一封信，未另立稿件",
                "再次收到同一封信，未另立稿件",
                "the same message again; no new draft",
            )
            .to_string(),
        "follow_up" => {
            let intent = text("intent").and_then(|i| i.parse::<Intent>().ok());
            lang.intent(intent.unwrap_or(Intent::Reply)).to_string()
        }
        "reparsed" => lang
            .pick(
                "依原始郵件重新解析",
                "依原始邮件重新解析",
                "re-read from the raw message",
            )
            .to_string(),
        "edited" => lang
            .pick(
                "修改標題或編者按",
                "修改标题或编者按",
                "title or notes edited",
            )
            .to_string(),
        "ack_queued" if text("ack") == Some("pending") => lang
            .pick("回執待寄出", "回执待寄出", "acknowledgement queued")
            .to_string(),
        "ack_queued" => lang
            .pick("不寄回執", "不寄回执", "no acknowledgement")
            .to_string(),
        "ack_sent" => lang
            .pick("回執已寄出", "回执已寄出", "acknowledgement sent")
            .to_string(),
        "ack_failed" => lang
            .pick("回執寄送失敗", "回执寄送失败", "acknowledgement failed")
            .to_string(),
        "ack_uncertain" => lang
            .pick(
                "回執寄送中斷，可能已寄達，不再重寄",
                "回执寄送中断，可能已寄达，不再重寄",
                "acknowledgement interrupted after it was handed over: probably delivered, not sent again",
            )
            .to_string(),
        "letter_sent" | "letter_failed" | "letter_uncertain" => {
            let kind = text("letter").and_then(|k| k.parse::<LetterKind>().ok());
            let kind = kind.map_or("", |k| lang.letter_kind(k));
            match (event.kind.as_str(), lang) {
                ("letter_sent", Lang::En) => format!("{kind} sent"),
                ("letter_sent", _) => format!("已寄出{kind}"),
                ("letter_uncertain", Lang::Zh) => format!("{kind}寄送中斷，可能已寄達，不再重寄"),
                ("letter_uncertain", Lang::Hans) => format!("{kind}寄送中断，可能已寄达，不再重寄"),
                ("letter_uncertain", Lang::En) => {
                    format!("{kind} interrupted after it was handed over: probably delivered, not sent again")
                }
                (_, Lang::Zh) => format!("{kind}寄送失敗"),
                (_, Lang::Hans) => format!("{kind}寄送失败"),
                (_, Lang::En) => format!("{kind} could not be sent"),
            }
        }
        "withdrawal_requested" => lang
            .pick(
                "作者來信要求撤稿",
                "作者来信要求撤稿",
                "the contributor asked to withdraw",
            )
            .to_string(),
        "revision_received" => lang
            .pick(
                "作者寄回修改稿，重回新稿",
                "作者寄回修改稿，重回新稿",
                "the revision came back: new again",
            )
            .to_string(),
        "lease_expired" => lang
            .pick(
                "認領逾時，放回隊列",
                "认领逾时，放回队列",
                "the claim ran out: back in the queue",
            )
            .to_string(),
        "purged" => lang
            .pick("已永久刪除", "已永久删除", "deleted for good")
            .to_string(),
        "claimed" | "released" | "sent_for_signoff" | "signed_off" | "returned" | "rejected"
        | "archived" | "reopened" | "revision_requested" | "withdrawn" => {
            match (status("from"), status("to")) {
                (Some(from), Some(to)) => format!("{from} → {to}"),
                _ => event.kind.clone(),
            }
        }
        other => other.to_string(),
    };
    let mut more = Vec::new();
    for key in ["reason", "note", "subject", "error", "title"] {
        if let Some(value) = text(key) {
            more.push(value.to_string());
        }
    }
    match text("letter") {
        Some("none") => more.push(
            lang.pick(
                "不寄信給作者",
                "不寄信给作者",
                "no letter to the contributor",
            )
            .to_string(),
        ),
        Some("accept_proposed") => more.push(
            lang.pick(
                "附擬寄的錄用信",
                "附拟寄的录用信",
                "with the proposed acceptance letter",
            )
            .to_string(),
        ),
        Some(kind) if !event.kind.starts_with("letter_") => {
            if let Ok(kind) = kind.parse::<LetterKind>() {
                let letter = lang.letter_kind(kind);
                more.push(match lang {
                    Lang::Zh => format!("寄{letter}給作者"),
                    Lang::Hans => format!("寄{letter}给作者"),
                    Lang::En => format!("{letter} to the contributor"),
                });
            }
        }
        _ => {}
    }
    if !more.is_empty() {
        said.push_str(if zh { "：" } else { ": " });
        said.push_str(&more.join(if zh { "；" } else { "; " }));
    }
    said
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn event(kind: &str, detail: Value) -> EventView {
        EventView {
            at: chrono::FixedOffset::east_opt(8 * 3600)
                .and_then(|z| z.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).single())
                .unwrap(),
            kind: kind.into(),
            actor: "li".into(),
            detail,
        }
    }

    #[test]
    fn workflow_steps_read_as_statuses_with_the_note_and_the_letter() {
        let e = event(
            "rejected",
            json!({ "from": "claimed", "to": "rejected", "note": "篇幅過長", "letter": "decline" }),
        );
        assert_eq!(
            describe(Lang::Zh, &e),
            "編輯中 → 退稿：篇幅過長；寄退稿通知給作者"
        );
        let e = event(
            "signed_off",
            json!({ "from": "sent_for_signoff", "to": "signed_off", "letter": "none" }),
        );
        assert_eq!(describe(Lang::Zh, &e), "送簽 → 簽發：不寄信給作者");
    }

    #[test]
    fn mail_events_say_what_happened_never_json() {
        let e = event(
            "follow_up",
            json!({ "intent": "status", "subject": "Re: 查詢", "from": "a@example.org" }),
        );
        assert_eq!(describe(Lang::Zh, &e), "查詢進度：Re: 查詢");
        let e = event(
            "ack_queued",
            json!({ "ack": "suppressed", "reason": "auto-reply" }),
        );
        assert_eq!(describe(Lang::En, &e), "no acknowledgement: auto-reply");
        let e = event(
            "letter_sent",
            json!({ "letter": "accept", "message_id": "<x@y>" }),
        );
        assert_eq!(describe(Lang::Zh, &e), "已寄出錄用通知");
        let e = event("letter_uncertain", json!({ "letter": "decline" }));
        assert_eq!(
            describe(Lang::Hans, &e),
            "退稿通知寄送中断，可能已寄达，不再重寄"
        );
        let e = event("ack_uncertain", json!({}));
        assert_eq!(describe(Lang::Zh, &e), "回執寄送中斷，可能已寄達，不再重寄");
        let e = event(
            "withdrawn",
            json!({ "from": "withdrawal_requested", "to": "withdrawn", "letter": "withdrawn" }),
        );
        assert_eq!(
            describe(Lang::En, &e),
            "withdrawal requested → withdrawn: withdrawal confirmation to the contributor"
        );
    }
}
