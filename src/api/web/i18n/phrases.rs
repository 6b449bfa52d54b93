//! Longer things the page says: what a file is, and why the workflow
//! refused a step, in each language.

use super::Lang;
use crate::draft::DraftStatus;

impl Lang {
    /// What a file is, by its type, in words (the MIME type stays in a tooltip).
    pub fn file_kind(self, content_type: &str) -> &'static str {
        let t = content_type.to_ascii_lowercase();
        if t.contains("wordprocessingml") || t.contains("msword") || t.contains("opendocument.text")
        {
            self.pick("文書檔", "文档", "document")
        } else if t.contains("pdf") {
            self.pick("PDF 檔", "PDF 文件", "PDF")
        } else if t.contains("rtf") {
            self.pick("RTF 文書檔", "RTF 文档", "RTF document")
        } else if t.starts_with("image/") {
            self.pick("圖片", "图片", "image")
        } else if t.starts_with("message/") {
            self.pick("郵件", "邮件", "message")
        } else if t.starts_with("text/") {
            self.pick("文字檔", "文本文件", "text")
        } else if t.contains("zip") || t.contains("rar") || t.contains("7z") {
            self.pick("壓縮檔", "压缩文件", "archive")
        } else {
            self.pick("檔案", "文件", "file")
        }
    }

    /// Why a document's text is missing or partial, in words: the reader's
    /// own note is English and technical, so the page says what it means
    /// for the editor (the raw reason stays in the API and `drafts show`).
    pub fn extraction_note(self, note: &str) -> &'static str {
        use crate::message::extract::DEFERRED_NOTE;
        if note == DEFERRED_NOTE {
            self.pick(
                "正文提取中，稍後重新整理即可看到。",
                "正文提取中，稍后刷新即可看到。",
                "Reading the document; reload shortly to see its text.",
            )
        } else if note.starts_with("text cut at") {
            self.pick(
                "正文過長，只保留了前面部分。",
                "正文过长，只保留了前面部分。",
                "Very long text: only the beginning is kept.",
            )
        } else if note.starts_with("text incomplete") {
            self.pick(
                "正文只讀出一部分（檔案過大或讀取逾時），請下載原檔閱讀。",
                "正文只读出一部分（文件过大或读取超时），请下载原文件阅读。",
                "Only part of the text could be read (too large or too slow); download the file to read it.",
            )
        } else if note.starts_with("no text found") {
            self.pick(
                "文件中沒有文字（可能是掃描圖片）。",
                "文件中没有文字（可能是扫描图片）。",
                "The document has no text (a scan?).",
            )
        } else if note.contains("is not a") {
            self.pick(
                "檔案內容與副檔名不符，未提取正文。",
                "文件内容与扩展名不符，未提取正文。",
                "The file is not what its name says; no text was read.",
            )
        } else {
            self.pick(
                "未能提取正文（檔案損壞、加密或過於龐大），請下載原檔閱讀。",
                "未能提取正文（文件损坏、加密或过于庞大），请下载原文件阅读。",
                "The text could not be read (damaged, encrypted or too large); download the file to read it.",
            )
        }
    }

    /// A workflow refusal in words, with statuses as the page names them.
    pub fn refusal(self, error: &crate::workflow::WorkflowError) -> String {
        use crate::workflow::WorkflowError::*;
        let status = |code: &str| {
            code.parse::<DraftStatus>()
                .map_or(code.to_string(), |s| self.status(s).to_string())
        };
        match error {
            InvalidTransition { from, to, allowed } if allowed == "nowhere" => {
                let (from, to) = (status(from), status(to));
                match self {
                    Lang::Zh => format!("這份稿件已是「{from}」，不能再改為「{to}」。"),
                    Lang::Hans => format!("这份稿件已是「{from}」，不能再改为「{to}」。"),
                    Lang::En => format!("This draft is {from} and cannot become {to}."),
                }
            }
            InvalidTransition { from, to, allowed } => {
                let (from, to) = (status(from), status(to));
                let allowed: Vec<String> = allowed.split(", ").map(status).collect();
                match self {
                    Lang::Zh => format!(
                        "這份稿件現在是「{from}」，不能改為「{to}」；可以改為：{}。",
                        allowed.join("、")
                    ),
                    Lang::Hans => format!(
                        "这份稿件现在是「{from}」，不能改为「{to}」；可以改为：{}。",
                        allowed.join("、")
                    ),
                    Lang::En => format!(
                        "This draft is {from} and cannot become {to}; it can become: {}.",
                        allowed.join(", ")
                    ),
                }
            }
            NotHolder { holder, .. } if holder == "nobody" => self
                .pick(
                    "這份稿件目前沒有人認領：請先認領。",
                    "这份稿件目前没有人认领：请先认领。",
                    "Nobody holds this draft: claim it first.",
                )
                .to_string(),
            NotHolder { holder, .. } => match self {
                Lang::Zh => format!("這份稿件由 {holder} 認領，只有認領的編輯可以這樣做。"),
                Lang::Hans => format!("这份稿件由 {holder} 认领，只有认领的编辑可以这样做。"),
                Lang::En => format!("{holder} holds this draft: only its holder can do that."),
            },
            SignerOnly { .. } => self
                .pick(
                    "只有簽發人可以這樣做。",
                    "只有签发人可以这样做。",
                    "Only a signer can do that.",
                )
                .to_string(),
        }
    }
}
