//! The draft's history in words (pure): each event said as an editorial
//! office would say it, in the page's language, never as an event code or
//! JSON. A kind this page does not know yet is shown by its name.

use serde_json::Value;

use super::{Lang, Text};
use crate::draft::{EventView, Intent, LetterKind};
use crate::export::escape;

/// The history table.
pub fn table(lang: Lang, events: &[EventView]) -> String {
    let rows: String = events
        .iter()
        .map(|e| {
            format!(
                "<tr class=\"event\" data-kind=\"{kind}\" data-actor=\"{actor}\"><td>{at}</td><td>{what}</td></tr>",
                kind = escape(&e.kind),
                actor = escape(&e.actor),
                at = e.at.format("%Y-%m-%d %H:%M"),
                what = escape(&describe(lang, e)),
            )
        })
        .collect();
    format!(
        "<h2>{}</h2><table id=\"history\" data-live><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>",
        lang.t(Text::History),
        lang.t(Text::When),
        lang.t(Text::What),
    )
}

/// One event in words.
pub fn describe(lang: Lang, event: &EventView) -> String {
    let zh = lang.is_chinese();
    let d = &event.detail;
    let text = |key: &str| d.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let mut said = match event.kind.as_str() {
        "ingested" => lang.pick("收稿", "收稿", "received").to_string(),
        "quarantined" => {
            let why = text("reason").map_or("", |r| lang.quarantine_reason(r));
            match lang {
                Lang::En => format!("quarantined: {why}"),
                _ => format!("隔離：{why}"),
            }
        }
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
        "ack_queued" if text("ack") == Some("pending") => lang
            .pick("回執待寄出", "回执待寄出", "acknowledgement queued")
            .to_string(),
        "ack_queued" => text("reason")
            .map_or(lang.pick("不寄回執", "不寄回执", "no acknowledgement"), |r| {
                lang.ack_reason(r)
            })
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
        | "archived" | "reopened" | "revision_requested" | "withdrawn" | "assigned" | "renewed"
        | "taken_over" => editor_did(lang, event),
        // Said whole, with the text itself.
        "edited" | "commented" => return editor_wrote(lang, event),
        other => other.to_string(),
    };
    let mut more = Vec::new();
    // Reasons and errors are said above in words; a server's own message
    // stays in the API.
    for key in ["note", "subject", "title"] {
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

/// An edit or a comment, with the words written: every version of 編者按
/// stays readable here.
fn editor_wrote(lang: Lang, event: &EventView) -> String {
    let who = &event.actor;
    let text = |key: &str| event.detail.get(key).and_then(Value::as_str);
    let mut said = Vec::new();
    if let Some(title) = text("title") {
        said.push(match (lang, title.is_empty()) {
            (Lang::En, true) => format!("{who} restored the submitted title"),
            (Lang::En, false) => format!("{who} retitled it “{title}”"),
            (Lang::Zh, true) => format!("{who} 恢復原標題"),
            (Lang::Hans, true) => format!("{who} 恢复原标题"),
            (Lang::Zh, false) => format!("{who} 把標題改為「{title}」"),
            (Lang::Hans, false) => format!("{who} 把标题改为「{title}」"),
        });
    }
    if let Some(notes) = text("notes") {
        said.push(match lang {
            Lang::Zh => format!("{who} 更新編者按：{notes}"),
            Lang::Hans => format!("{who} 更新编者按：{notes}"),
            Lang::En => format!("{who} updated the notes: {notes}"),
        });
    }
    if let Some(comment) = text("text") {
        said.push(match lang {
            Lang::En => format!("{who} commented: {comment}"),
            _ => format!("{who} 留言：{comment}"),
        });
    }
    if said.is_empty() {
        said.push(match lang {
            Lang::Zh => format!("{who} 修改了稿件資料"),
            Lang::Hans => format!("{who} 修改了稿件资料"),
            Lang::En => format!("{who} edited it"),
        });
    }
    said.join(if lang.is_chinese() { "；" } else { "; " })
}

/// What an editor did, as a sentence with their name: "li 認領", "wang
/// 把此稿交給 zhao".
fn editor_did(lang: Lang, event: &EventView) -> String {
    let who = &event.actor;
    let text = |key: &str| {
        event
            .detail
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let from_quarantine = text("from") == Some("quarantined");
    let (hant, hans, en): (&str, &str, &str) = match event.kind.as_str() {
        "claimed" => ("認領", "认领", "claimed it"),
        "released" if from_quarantine => ("解除隔離", "解除隔离", "released it from quarantine"),
        "released" => ("放回隊列", "放回队列", "put it back in the queue"),
        "sent_for_signoff" => ("送簽", "送签", "sent it for sign-off"),
        "signed_off" => ("簽發", "签发", "signed it off"),
        "returned" => ("退回編輯", "退回编辑", "sent it back to the editor"),
        "rejected" => ("退稿", "退稿", "rejected it"),
        "archived" => ("歸檔", "归档", "archived it"),
        "reopened" => ("重新開啟", "重新打开", "reopened it"),
        "revision_requested" => (
            "請作者修改",
            "请作者修改",
            "asked the contributor for a revision",
        ),
        "withdrawn" => ("確認撤稿", "确认撤稿", "confirmed the withdrawal"),
        "edited" => (
            "修改了標題或編者按",
            "修改了标题或编者按",
            "edited the title or notes",
        ),
        "renewed" => ("延長了認領", "延长了认领", "renewed the claim"),
        "assigned" => {
            let to = text("to").unwrap_or("");
            return match lang {
                Lang::Zh => format!("{who} 把此稿交給 {to}"),
                Lang::Hans => format!("{who} 把此稿交给 {to}"),
                Lang::En => format!("{who} assigned it to {to}"),
            };
        }
        "taken_over" => {
            let from = text("from").unwrap_or("");
            return match lang {
                Lang::Zh => format!("{who} 接手 {from} 已逾時的認領"),
                Lang::Hans => format!("{who} 接手 {from} 已逾时的认领"),
                Lang::En => format!("{who} took over {from}'s lapsed claim"),
            };
        }
        other => return other.to_string(),
    };
    format!("{who} {}", lang.pick(hant, hans, en))
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
            "li 退稿：篇幅過長；寄退稿通知給作者"
        );
        let e = event(
            "signed_off",
            json!({ "from": "sent_for_signoff", "to": "signed_off", "letter": "none" }),
        );
        assert_eq!(describe(Lang::Zh, &e), "li 簽發：不寄信給作者");
        let e = event(
            "assigned",
            json!({ "from": "li", "to": "zhao", "note": "你熟悉這位作者" }),
        );
        assert_eq!(describe(Lang::Zh, &e), "li 把此稿交給 zhao：你熟悉這位作者");
        let e = event("edited", json!({ "title": null, "notes": "擬刊一月號" }));
        assert_eq!(describe(Lang::Zh, &e), "li 更新編者按：擬刊一月號");
        let e = event("commented", json!({ "text": "結尾可再緊湊些" }));
        assert_eq!(describe(Lang::Hans, &e), "li 留言：結尾可再緊湊些");
        let e = event("taken_over", json!({ "from": "zhao" }));
        assert_eq!(describe(Lang::En, &e), "li took over zhao's lapsed claim");
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
        assert_eq!(describe(Lang::En, &e), "an auto-reply: not acknowledged");
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
            "li confirmed the withdrawal: withdrawal confirmation to the contributor"
        );
    }
}
