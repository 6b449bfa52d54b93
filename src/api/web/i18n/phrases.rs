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
            NotAssignable { status: code } => {
                let now = status(code);
                match self {
                    Lang::Zh => format!("這份稿件已是「{now}」，只有新稿或編輯中的稿件可以交辦。"),
                    Lang::Hans => {
                        format!("这份稿件已是「{now}」，只有新稿或编辑中的稿件可以交办。")
                    }
                    Lang::En => {
                        format!("This draft is {now}: only new or claimed drafts can be assigned.")
                    }
                }
            }
            StillHeld { holder } => match self {
                Lang::Zh => format!("{holder} 的認領尚未逾時，不能接手。"),
                Lang::Hans => format!("{holder} 的认领尚未逾时，不能接手。"),
                Lang::En => format!("{holder}'s claim has not run out: it cannot be taken over."),
            },
            BadComment { max } => match self {
                Lang::Zh => format!("留言不能空白，也不能超過 {max} 字。"),
                Lang::Hans => format!("留言不能空白，也不能超过 {max} 字。"),
                Lang::En => format!("A comment cannot be empty or longer than {max} characters."),
            },
            UnknownEditor { name } => match self {
                Lang::Zh => format!("沒有名為 {name} 的在職編輯。"),
                Lang::Hans => format!("没有名为 {name} 的在职编辑。"),
                Lang::En => format!("There is no active editor called {name}."),
            },
        }
    }

    /// Why an acknowledgement was not sent, in words: the policy's reason
    /// is English and technical (it stays in the API and `drafts show`).
    pub fn ack_reason(self, reason: &str) -> &'static str {
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| reason.starts_with(p));
        if starts(&["null sender", "automated sender", "bounce"]) {
            self.pick(
                "系統寄來的郵件（退信或自動通知），不寄回執",
                "系统寄来的邮件（退信或自动通知），不寄回执",
                "sent by a system (a bounce or notice): not acknowledged",
            )
        } else if starts(&["Auto-Submitted", "X-Auto", "auto-reply"]) {
            self.pick(
                "自動回覆的郵件，不寄回執",
                "自动回复的邮件，不寄回执",
                "an auto-reply: not acknowledged",
            )
        } else if starts(&["Precedence", "List-", "mailing list"]) {
            self.pick(
                "郵件列表或群發郵件，不寄回執",
                "邮件列表或群发邮件，不寄回执",
                "list or bulk mail: not acknowledged",
            )
        } else if starts(&["sender is on the deny list"]) {
            self.pick(
                "寄件人在不回覆名單上",
                "寄件人在不回复名单上",
                "the sender is on the do-not-reply list",
            )
        } else if starts(&["mail from our own address"]) {
            self.pick(
                "本刊自己的地址寄來的郵件",
                "本刊自己的地址寄来的邮件",
                "mail from our own address",
            )
        } else if starts(&["forwarded by an editor"]) {
            self.pick(
                "由編輯轉寄的稿件，不寄回執給原作者",
                "由编辑转寄的稿件，不寄回执给原作者",
                "forwarded by an editor: the writer is not acknowledged",
            )
        } else if starts(&["quarantined"]) {
            self.pick(
                "隔離中的來信，不寄回執",
                "隔离中的来信，不寄回执",
                "quarantined mail: not acknowledged",
            )
        } else if starts(&["older than"]) {
            self.pick(
                "來信日期過舊，不補寄回執",
                "来信日期过旧，不补寄回执",
                "too old to acknowledge now",
            )
        } else if starts(&["rate limited"]) {
            self.pick(
                "短時間內已多次寄回執給這個地址",
                "短时间内已多次寄回执给这个地址",
                "this address was acknowledged several times just now",
            )
        } else if starts(&["sender authentication failed", "sender not authenticated"]) {
            self.pick(
                "寄件人驗證未通過，不寄回執",
                "寄件人验证未通过，不寄回执",
                "the sender could not be authenticated: not acknowledged",
            )
        } else {
            self.pick("不寄回執", "不寄回执", "not acknowledged")
        }
    }

    /// What a send that did not go through means for the editor; the
    /// server's own words stay in the API.
    pub fn send_error(self, state: &str) -> &'static str {
        match state {
            "failed" => self.pick(
                "郵件伺服器拒收，不再重試",
                "邮件服务器拒收，不再重试",
                "the mail server refused it; not retried",
            ),
            _ => self.pick(
                "上次寄送未成功，稍後自動重試",
                "上次寄送未成功，稍后自动重试",
                "the last attempt did not go through; it will be retried",
            ),
        }
    }

    /// Why a message was quarantined, in words (the parser's reason is
    /// English and technical; it stays in the API and `drafts show`).
    pub fn quarantine_reason(self, reason: &str) -> &'static str {
        let starts = |prefix: &str| reason.starts_with(prefix);
        if starts("too_big") {
            self.pick(
                "郵件超過大小上限，只保留了信頭",
                "邮件超过大小上限，只保留了信头",
                "larger than the size limit: only its headers were kept",
            )
        } else if starts("hostile") {
            self.pick(
                "郵件結構異常（層次過深、分段過多或信頭過長），疑為惡意郵件",
                "邮件结构异常（层次过深、分段过多或信头过长），疑为恶意邮件",
                "built to overwhelm a reader (too deep, too many parts or huge headers)",
            )
        } else if starts("unparseable") || starts("parser panicked") {
            self.pick(
                "無法解析的郵件，請下載原始郵件查看",
                "无法解析的邮件，请下载原始邮件查看",
                "the message could not be read: download the raw message",
            )
        } else if starts(crate::message::auth_results::QUARANTINE_PREFIX) {
            self.pick(
                "寄件人驗證未通過（疑為冒名）",
                "寄件人验证未通过（疑为冒名）",
                "the sender could not be authenticated (possibly forged)",
            )
        } else {
            self.pick(
                "原因不明，請查看原始郵件",
                "原因不明，请查看原始邮件",
                "see the raw message",
            )
        }
    }

    /// A DMARC, DKIM or SPF result in words.
    pub fn auth_result(self, result: Option<&str>) -> &'static str {
        match result.map(str::to_ascii_lowercase).as_deref() {
            Some("pass") => self.pick("通過", "通过", "pass"),
            Some("fail") => self.pick("未通過", "未通过", "fail"),
            Some("softfail") => self.pick("存疑", "存疑", "soft fail"),
            Some("neutral") => self.pick("無結論", "无结论", "neutral"),
            Some("temperror" | "permerror") => self.pick("查驗出錯", "查验出错", "error"),
            None | Some("none") => self.pick("無", "无", "none"),
            Some(_) => self.pick("其他", "其他", "other"),
        }
    }

    /// "由 mx.example.org 判定": who judged the sender.
    pub fn judged_by(self, host: &str) -> String {
        match self {
            Lang::Zh => format!("由 {host} 判定"),
            Lang::Hans => format!("由 {host} 判定"),
            Lang::En => format!("judged by {host}"),
        }
    }
}
