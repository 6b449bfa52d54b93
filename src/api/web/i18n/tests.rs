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
