use super::*;
use crate::workflow::WorkflowError;

#[test]
fn refusals_name_statuses_as_the_page_does() {
    let stale = WorkflowError::InvalidTransition {
        from: "claimed",
        to: "claimed",
        allowed: "new, sent_for_signoff, rejected".into(),
    };
    assert_eq!(
        Lang::Zh.refusal(&stale),
        "這份稿件現在是「編輯中」，不能改為「編輯中」；可以改為：新稿、送簽、退稿。"
    );
    let held = WorkflowError::NotHolder {
        holder: "li".into(),
        actor: "zhao".into(),
    };
    assert_eq!(
        Lang::Zh.refusal(&held),
        "這份稿件由 li 認領，只有認領的編輯可以這樣做。"
    );
    for text in [Lang::Zh.refusal(&stale), Lang::Zh.refusal(&held)] {
        assert!(!text.contains("claimed") && !text.contains(':'), "{text}");
    }
}

#[test]
fn files_are_named_by_kind_not_by_mime_type() {
    let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    assert_eq!(Lang::Zh.file_kind(docx), "文書檔");
    assert_eq!(Lang::Zh.file_kind("application/pdf"), "PDF 檔");
    assert_eq!(Lang::En.file_kind("image/png"), "image");
    assert_eq!(Lang::Zh.file_kind("application/octet-stream"), "檔案");
}

/// Every text of the page in its three versions, as this module and its
/// phrases write them: `self.pick("繁", "简", "en")`.
fn every_pick() -> Vec<[String; 3]> {
    let source = [
        include_str!("../i18n.rs"),
        include_str!("phrases.rs"),
        include_str!("queue.rs"),
        include_str!("desk.rs"),
        include_str!("statistics.rs"),
    ]
    .concat();
    let mut found = Vec::new();
    for call in source.split("self.pick(").skip(1) {
        let mut texts = Vec::new();
        let mut rest = call;
        while texts.len() < 3 {
            let Some(start) = rest.find('"') else { break };
            let tail = &rest[start + 1..];
            let end = tail.find('"').unwrap_or(tail.len());
            texts.push(tail[..end].to_string());
            rest = &tail[(end + 1).min(tail.len())..];
        }
        if let Ok(three) = <[String; 3]>::try_from(texts) {
            found.push(three);
        }
    }
    found
}

#[test]
fn simplified_pages_have_no_traditional_characters() {
    let picks = every_pick();
    assert!(picks.len() > 100, "{} texts read", picks.len());
    for [hant, hans, en] in picks {
        let traditional: Vec<char> = hans
            .chars()
            .filter(|c| crate::ack::language::TRADITIONAL.contains(*c))
            .collect();
        assert!(
            traditional.is_empty(),
            "{hans:?} (from {hant:?}) has {traditional:?}"
        );
        assert!(!en.is_empty(), "{hant:?} has no English");
    }
    assert_eq!(Lang::Hans.t(Text::Queue), "稿件队列");
    assert_eq!(
        Lang::from_code("zh"),
        Some(Lang::Zh),
        "an earlier release's cookie"
    );
}

#[test]
fn queue_figures_read_as_each_language_writes_them() {
    assert_eq!(Lang::Zh.page_summary(120, 2, 3), "共 120 篇，第 2／3 頁");
    assert_eq!(Lang::Hans.page_summary(120, 2, 3), "共 120 篇，第 2／3 页");
    assert_eq!(Lang::En.page_summary(1, 1, 1), "1 draft, page 1 of 1");
    assert_eq!(Lang::Zh.length(1234567), "1,234,567 字");
    assert_eq!(Lang::En.length(999), "999 chars");
    assert_eq!(Lang::Zh.waiting(0), "不到 1 天");
    assert_eq!(Lang::En.waiting(3), "3 days");
}

#[test]
fn acknowledgement_reasons_are_said_not_quoted() {
    for reason in [
        "Auto-Submitted: auto-replied",
        "null sender (Return-Path: <>)",
        "List-Id header present",
        "rate limited: 3 acknowledgements to this address within 24h",
        "older than 30d (skip_older_than)",
        "something new",
    ] {
        for lang in [Lang::Zh, Lang::Hans] {
            let said = lang.ack_reason(reason);
            assert!(
                !said.chars().any(|c| c.is_ascii_alphabetic()),
                "{reason}: {said}"
            );
        }
    }
    assert_eq!(
        Lang::Zh.ack_reason("Auto-Submitted: auto-replied"),
        "自動回覆的郵件，不寄回執"
    );
}

#[test]
fn sender_authentication_is_said_in_words() {
    assert_eq!(Lang::Zh.auth_result(Some("pass")), "通過");
    assert_eq!(Lang::Hans.auth_result(Some("FAIL")), "未通过");
    assert_eq!(Lang::Zh.auth_result(None), "無");
    assert_eq!(
        Lang::Zh.judged_by("mx.example.org"),
        "由 mx.example.org 判定"
    );
}
