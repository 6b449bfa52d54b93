//! The web page's words: Chinese (Traditional, as the publication writes)
//! first, English on request.

use crate::draft::DraftStatus;
use crate::workflow::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-Hant",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn t(self, key: Text) -> &'static str {
        use Text::*;
        match key {
            AppName => self.pick("稿件庫", "Submissions"),
            SwitchLanguage => self.pick("English", "中文"),
            Login => self.pick("登入", "Log in"),
            Logout => self.pick("登出", "Log out"),
            Token => self.pick("編輯令牌", "Editor token"),
            LoginHelp => self.pick(
                "請貼上管理員給您的令牌(以 sp_ 開頭)。",
                "Paste the token your administrator gave you (it starts with sp_).",
            ),
            LoginFailed => self.pick(
                "令牌無效或已撤銷。",
                "That token is not valid or was revoked.",
            ),
            Queue => self.pick("稿件隊列", "Queue"),
            Quarantine => self.pick("隔離區", "Quarantine"),
            Search => self.pick("搜尋", "Search"),
            SearchHint => self.pick(
                "標題、正文、附件名或附件正文",
                "subject, body, attachment name or document text",
            ),
            AnyStatus => self.pick("全部狀態", "any status"),
            Sender => self.pick("來稿人", "Sender"),
            Mailbox => self.pick("信箱", "Mailbox"),
            Since => self.pick("起", "From"),
            Until => self.pick("止", "Until"),
            Filter => self.pick("篩選", "Filter"),
            ClaimNext => self.pick("認領最早的稿件", "Claim the oldest drafts"),
            Count => self.pick("篇數", "how many"),
            Reference => self.pick("編號", "Reference"),
            Title => self.pick("標題", "Title"),
            Status => self.pick("狀態", "Status"),
            Received => self.pick("收稿時間", "Received"),
            Holder => self.pick("編輯", "Editor"),
            LeaseUntil => self.pick("認領至", "Held until"),
            Reason => self.pick("原因", "Reason"),
            NoDrafts => self.pick("沒有符合的稿件。", "No drafts match."),
            NextPage => self.pick("下一頁", "Next page"),
            Attachments => self.pick("附件", "Attachments"),
            Forwarded => self.pick("轉寄的原稿", "Forwarded originals"),
            ForwardedBy => self.pick("轉寄編輯", "Forwarded by"),
            MayBeIncomplete => self.pick("可能不完整", "may be incomplete"),
            ArticleIn => self.pick("附件正文", "Article in"),
            RawMessage => self.pick("原始郵件（.eml）", "Raw message (.eml)"),
            Export => self.pick("匯出", "Export"),
            History => self.pick("記錄", "History"),
            Note => self.pick("附註", "Note"),
            Actions => self.pick("處理", "Actions"),
            NoActions => self.pick(
                "此稿無可執行的操作。",
                "Nothing can be done with this draft now.",
            ),
            EditorsTitle => self.pick("編者標題", "Editors' title"),
            Notes => self.pick("編者按", "Notes"),
            Save => self.pick("儲存", "Save"),
            SenderAuth => self.pick("寄件人驗證", "Sender authentication"),
            Acknowledgement => self.pick("回執", "Acknowledgement"),
            Back => self.pick("返回", "Back"),
            Refused => self.pick("未能執行", "Not done"),
            SubmittedTitle => self.pick("原標題", "Submitted title"),
            When => self.pick("時間", "When"),
            Who => self.pick("操作人", "Who"),
            What => self.pick("事項", "What"),
            SignedInAs => self.pick("登入身分", "Signed in as"),
            Thread => self.pick("作者來信", "Contributor's mail"),
            NewMail => self.pick("有新來信", "new mail"),
            Overdue => self.pick("逾期未覆", "overdue"),
            OnlyNewMail => self.pick("只看有新來信", "Only with new mail"),
            OnlyOverdue => self.pick("只看逾期", "Only overdue"),
            Version => self.pick("第 {} 版", "version {}"),
            Letters => self.pick("致作者信", "Letters to the contributor"),
            LetterSubject => self.pick("信件標題", "Subject"),
            LetterBody => self.pick("信件內容", "Letter"),
            NoLetter => self.pick("不寄信給作者", "Decide without a letter"),
            Unnamed => self.pick("（未命名）", "(unnamed)"),
            StaleForm => self.pick(
                "這個表單已經過期：請重新整理頁面再試一次。",
                "This form has expired: reload the page and try again.",
            ),
            TooManyFailures => self.pick(
                "這個權杖從這裡登入失敗太多次，請十五分鐘後再試。",
                "Too many failed attempts with this token from here: try again in 15 minutes.",
            ),
            ConfirmReject => self.pick(
                "確認退稿（除非勾選不寄信，作者將收到上面的退稿通知）",
                "Confirm: the contributor gets the letter above unless you chose none",
            ),
            LetterFromTemplate => self.pick(
                "留空則寄出範本信件。",
                "Leave empty to send the template's letter.",
            ),
            ProposedLetter => self.pick(
                "編輯擬寄的錄用信",
                "The acceptance letter the editor proposes",
            ),
        }
    }

    pub fn status(self, status: DraftStatus) -> &'static str {
        match status {
            DraftStatus::New => self.pick("新稿", "new"),
            DraftStatus::Claimed => self.pick("編輯中", "claimed"),
            DraftStatus::SentForSignoff => self.pick("送簽", "sent for sign-off"),
            DraftStatus::SignedOff => self.pick("簽發", "signed off"),
            DraftStatus::Rejected => self.pick("退稿", "rejected"),
            DraftStatus::Archived => self.pick("歸檔", "archived"),
            DraftStatus::Quarantined => self.pick("隔離", "quarantined"),
            DraftStatus::Purged => self.pick("已刪除", "purged"),
            DraftStatus::RevisionRequested => self.pick("待作者修改", "revision requested"),
            DraftStatus::WithdrawalRequested => self.pick("作者要求撤稿", "withdrawal requested"),
            DraftStatus::Withdrawn => self.pick("已撤稿", "withdrawn"),
        }
    }

    /// The button that performs an action.
    pub fn action(self, action: Action) -> &'static str {
        match action {
            Action::Claim => self.pick("認領", "Claim"),
            Action::Release => self.pick("放回隊列", "Release"),
            Action::SendForSignoff => self.pick("送簽", "Send for sign-off"),
            Action::SignOff => self.pick("簽發", "Sign off"),
            Action::Return => self.pick("退回編輯", "Send back"),
            Action::Reject => self.pick("退稿", "Reject"),
            Action::Archive => self.pick("歸檔", "Archive"),
            Action::Reopen => self.pick("重新開啟", "Reopen"),
            Action::ReleaseFromQuarantine => self.pick("解除隔離", "Release from quarantine"),
            Action::RequestRevision => self.pick("請作者修改", "Ask for a revision"),
            Action::ConfirmWithdrawal => self.pick("確認撤稿", "Confirm withdrawal"),
        }
    }

    pub fn role(self, role: crate::workflow::Role) -> &'static str {
        match role {
            crate::workflow::Role::Editor => self.pick("編輯", "editor"),
            crate::workflow::Role::Signer => self.pick("簽發人", "signer"),
        }
    }

    /// Between a label and what follows: full-width in Chinese.
    pub fn colon(self) -> &'static str {
        self.pick("：", ": ")
    }

    pub fn list_separator(self) -> &'static str {
        self.pick("，", ", ")
    }

    pub fn parentheses(self) -> (&'static str, &'static str) {
        (self.pick("（", " ("), self.pick("）", ")"))
    }

    /// What a file is, by its type, in words (the MIME type stays in a tooltip).
    pub fn file_kind(self, content_type: &str) -> &'static str {
        let t = content_type.to_ascii_lowercase();
        if t.contains("wordprocessingml") || t.contains("msword") || t.contains("opendocument.text")
        {
            self.pick("文書檔", "document")
        } else if t.contains("pdf") {
            self.pick("PDF 檔", "PDF")
        } else if t.contains("rtf") {
            self.pick("RTF 文書檔", "RTF document")
        } else if t.starts_with("image/") {
            self.pick("圖片", "image")
        } else if t.starts_with("message/") {
            self.pick("郵件", "message")
        } else if t.starts_with("text/") {
            self.pick("文字檔", "text")
        } else if t.contains("zip") || t.contains("rar") || t.contains("7z") {
            self.pick("壓縮檔", "archive")
        } else {
            self.pick("檔案", "file")
        }
    }

    /// A workflow refusal in words, with statuses as the page names them.
    pub fn refusal(self, error: &crate::workflow::WorkflowError) -> String {
        use crate::workflow::WorkflowError::*;
        let status = |code: &str| {
            code.parse::<DraftStatus>()
                .map_or(code.to_string(), |s| self.status(s).to_string())
        };
        match (error, self) {
            (InvalidTransition { from, to, allowed }, _) => {
                let allowed: Vec<String> = allowed.split(", ").map(status).collect();
                match self {
                    Lang::Zh if allowed == ["nowhere"] => format!(
                        "這份稿件已是「{}」，不能再改為「{}」。",
                        status(from),
                        status(to)
                    ),
                    Lang::Zh => format!(
                        "這份稿件現在是「{}」，不能改為「{}」；可以改為：{}。",
                        status(from),
                        status(to),
                        allowed.join("、")
                    ),
                    Lang::En => format!(
                        "This draft is {} and cannot become {}; it can become: {}.",
                        status(from),
                        status(to),
                        allowed.join(", ")
                    ),
                }
            }
            (NotHolder { holder, .. }, Lang::Zh) if holder == "nobody" => {
                "這份稿件目前沒有人認領：請先認領。".to_string()
            }
            (NotHolder { holder, .. }, Lang::Zh) => {
                format!("這份稿件由 {holder} 認領，只有認領的編輯可以這樣做。")
            }
            (NotHolder { holder, .. }, Lang::En) if holder == "nobody" => {
                "Nobody holds this draft: claim it first.".to_string()
            }
            (NotHolder { holder, .. }, Lang::En) => {
                format!("{holder} holds this draft: only its holder can do that.")
            }
            (SignerOnly { .. }, Lang::Zh) => "只有簽發人可以這樣做。".to_string(),
            (SignerOnly { .. }, Lang::En) => "Only a signer can do that.".to_string(),
        }
    }

    pub fn letter_kind(self, kind: crate::draft::LetterKind) -> &'static str {
        use crate::draft::LetterKind::*;
        match kind {
            Accept => self.pick("錄用通知", "acceptance"),
            Revise => self.pick("修改意見", "revision request"),
            Decline => self.pick("退稿通知", "decline"),
            Status => self.pick("進度答覆", "status answer"),
            Withdrawn => self.pick("撤稿確認", "withdrawal confirmation"),
        }
    }

    pub fn letter_state(self, state: &str) -> &'static str {
        match state {
            "held" => self.pick("待簽發時寄出", "sent on sign-off"),
            "pending" => self.pick("待寄出", "queued"),
            "sent" => self.pick("已寄出", "sent"),
            "failed" => self.pick("寄送失敗", "failed"),
            "suppressed" => self.pick("不寄出", "not sent"),
            "cancelled" => self.pick("已取消", "cancelled"),
            _ => self.pick("其他", "other"),
        }
    }

    pub fn intent(self, intent: crate::draft::Intent) -> &'static str {
        use crate::draft::Intent::*;
        match intent {
            Reply => self.pick("來信", "reply"),
            Status => self.pick("查詢進度", "status request"),
            Withdraw => self.pick("要求撤稿", "withdrawal request"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Text {
    AppName,
    SwitchLanguage,
    Login,
    Logout,
    Token,
    LoginHelp,
    LoginFailed,
    Queue,
    Quarantine,
    Search,
    SearchHint,
    AnyStatus,
    Sender,
    Mailbox,
    Since,
    Until,
    Filter,
    ClaimNext,
    Count,
    Reference,
    Title,
    Status,
    Received,
    Holder,
    LeaseUntil,
    Reason,
    NoDrafts,
    NextPage,
    Attachments,
    Forwarded,
    ForwardedBy,
    MayBeIncomplete,
    ArticleIn,
    RawMessage,
    Export,
    History,
    Note,
    Actions,
    NoActions,
    EditorsTitle,
    Notes,
    Save,
    SenderAuth,
    Acknowledgement,
    Back,
    Refused,
    SubmittedTitle,
    When,
    Who,
    What,
    SignedInAs,
    Thread,
    NewMail,
    Overdue,
    OnlyNewMail,
    OnlyOverdue,
    /// `{}` is the number.
    Version,
    Letters,
    LetterSubject,
    LetterBody,
    NoLetter,
    LetterFromTemplate,
    ConfirmReject,
    TooManyFailures,
    Unnamed,
    StaleForm,
    ProposedLetter,
}

#[cfg(test)]
mod tests;
