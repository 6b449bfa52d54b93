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
    let source = [include_str!("../i18n.rs"), include_str!("phrases.rs")].concat();
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
