//! The web page's words: Traditional Chinese (as the publication writes)
//! first, Simplified Chinese and English on request. Every text is written
//! out in all three.

use crate::draft::DraftStatus;
use crate::workflow::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Traditional Chinese, the default.
    Zh,
    /// Simplified Chinese.
    Hans,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Zh, Lang::Hans, Lang::En];

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            // `zh` is the cookie an earlier release set.
            "zh" | "zh-Hant" => Some(Lang::Zh),
            "zh-Hans" => Some(Lang::Hans),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-Hant",
            Lang::Hans => "zh-Hans",
            Lang::En => "en",
        }
    }

    pub fn html_lang(self) -> &'static str {
        self.code()
    }

    /// The language's own name, for the switch at the top of each page.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Zh => "繁體中文",
            Lang::Hans => "简体中文",
            Lang::En => "English",
        }
    }

    pub fn is_chinese(self) -> bool {
        self != Lang::En
    }

    /// The text in this language, from its three versions.
    pub(super) fn pick(
        self,
        hant: &'static str,
        hans: &'static str,
        en: &'static str,
    ) -> &'static str {
        match self {
            Lang::Zh => hant,
            Lang::Hans => hans,
            Lang::En => en,
        }
    }

    pub fn t(self, key: Text) -> &'static str {
        use Text::*;
        match key {
            AppName => self.pick("稿件庫", "稿件库", "Submissions"),
            Login => self.pick("登入", "登录", "Log in"),
            Logout => self.pick("登出", "退出", "Log out"),
            Token => self.pick("編輯令牌", "编辑令牌", "Editor token"),
            LoginHelp => self.pick(
                "請貼上管理員給您的令牌（以 sp_ 開頭）。",
                "请粘贴管理员给您的令牌（以 sp_ 开头）。",
                "Paste the token your administrator gave you (it starts with sp_).",
            ),
            LoginFailed => self.pick(
                "令牌無效或已撤銷。",
                "令牌无效或已撤销。",
                "That token is not valid or was revoked.",
            ),
            Queue => self.pick("稿件隊列", "稿件队列", "Queue"),
            Quarantine => self.pick("隔離區", "隔离区", "Quarantine"),
            Search => self.pick("搜尋", "搜索", "Search"),
            SearchHint => self.pick(
                "標題、正文、附件名或附件正文",
                "标题、正文、附件名或附件正文",
                "subject, body, attachment name or document text",
            ),
            Sender => self.pick("來稿人", "来稿人", "Sender"),
            Mailbox => self.pick("信箱", "邮箱", "Mailbox"),
            Since => self.pick("起", "起", "From"),
            Until => self.pick("止", "止", "Until"),
            Filter => self.pick("篩選", "筛选", "Filter"),
            ClaimNext => self.pick(
                "認領最早的稿件",
                "认领最早的稿件",
                "Claim the oldest drafts",
            ),
            Count => self.pick("篇數", "篇数", "how many"),
            Reference => self.pick("編號", "编号", "Reference"),
            Title => self.pick("標題", "标题", "Title"),
            Status => self.pick("狀態", "状态", "Status"),
            Received => self.pick("收稿時間", "收稿时间", "Received"),
            Holder => self.pick("編輯", "编辑", "Editor"),
            LeaseUntil => self.pick("認領至", "认领至", "Held until"),
            Reason => self.pick("原因", "原因", "Reason"),
            NoDrafts => self.pick("沒有符合的稿件。", "没有符合的稿件。", "No drafts match."),
            Attachments => self.pick("附件", "附件", "Attachments"),
            Forwarded => self.pick("轉寄的原稿", "转寄的原稿", "Forwarded originals"),
            ForwardedBy => self.pick("轉寄編輯", "转寄编辑", "Forwarded by"),
            MayBeIncomplete => self.pick("可能不完整", "可能不完整", "may be incomplete"),
            ArticleIn => self.pick("附件正文", "附件正文", "Article in"),
            RawMessage => self.pick("原始郵件（.eml）", "原始邮件（.eml）", "Raw message (.eml)"),
            Export => self.pick("匯出", "导出", "Export"),
            History => self.pick("記錄", "记录", "History"),
            Note => self.pick("附註", "附注", "Note"),
            Actions => self.pick("處理", "处理", "Actions"),
            NoActions => self.pick(
                "此稿無可執行的操作。",
                "此稿无可执行的操作。",
                "Nothing can be done with this draft now.",
            ),
            EditorsTitle => self.pick("編者標題", "编者标题", "Editors' title"),
            Notes => self.pick("編者按", "编者按", "Notes"),
            Save => self.pick("儲存", "保存", "Save"),
            SenderAuth => self.pick("寄件人驗證", "寄件人验证", "Sender authentication"),
            Acknowledgement => self.pick("回執", "回执", "Acknowledgement"),
            Back => self.pick("返回", "返回", "Back"),
            Refused => self.pick("未能執行", "未能执行", "Not done"),
            SubmittedTitle => self.pick("原標題", "原标题", "Submitted title"),
            When => self.pick("時間", "时间", "When"),
            What => self.pick("事項", "事项", "What"),
            SignedInAs => self.pick("登入身分", "登录身份", "Signed in as"),
            Thread => self.pick("作者來信", "作者来信", "Contributor's mail"),
            NewMail => self.pick("有新來信", "有新来信", "new mail"),
            Overdue => self.pick("逾期未覆", "逾期未复", "overdue"),
            OnlyNewMail => self.pick("只看有新來信", "只看有新来信", "Only with new mail"),
            OnlyOverdue => self.pick("只看逾期", "只看逾期", "Only overdue"),
            Version => self.pick("第 {} 版", "第 {} 版", "version {}"),
            Letters => self.pick("致作者信", "致作者信", "Letters to the contributor"),
            LetterSubject => self.pick("信件標題", "信件标题", "Subject"),
            LetterBody => self.pick("信件內容", "信件内容", "Letter"),
            NoLetter => self.pick("不寄信給作者", "不寄信给作者", "Decide without a letter"),
            Unnamed => self.pick("（未命名）", "（未命名）", "(unnamed)"),
            StaleForm => self.pick(
                "這個表單已經過期：請重新整理頁面再試一次。",
                "这个表单已经过期：请刷新页面再试一次。",
                "This form has expired: reload the page and try again.",
            ),
            TooManyFailures => self.pick(
                "這個權杖從這裡登入失敗太多次，請十五分鐘後再試。",
                "这个令牌从这里登录失败太多次，请十五分钟后再试。",
                "Too many failed attempts with this token from here: try again in 15 minutes.",
            ),
            ConfirmReject => self.pick(
                "確認退稿（除非勾選不寄信，作者將收到上面的退稿通知）",
                "确认退稿（除非勾选不寄信，作者将收到上面的退稿通知）",
                "Confirm: the contributor gets the letter above unless you chose none",
            ),
            LetterFromTemplate => self.pick(
                "留空則寄出範本信件。",
                "留空则寄出模板信件。",
                "Leave empty to send the template's letter.",
            ),
            ProposedLetter => self.pick(
                "編輯擬寄的錄用信",
                "编辑拟寄的录用信",
                "The acceptance letter the editor proposes",
            ),
        }
    }

    pub fn status(self, status: DraftStatus) -> &'static str {
        match status {
            DraftStatus::New => self.pick("新稿", "新稿", "new"),
            DraftStatus::Claimed => self.pick("編輯中", "编辑中", "claimed"),
            DraftStatus::SentForSignoff => self.pick("送簽", "送签", "sent for sign-off"),
            DraftStatus::SignedOff => self.pick("簽發", "签发", "signed off"),
            DraftStatus::Rejected => self.pick("退稿", "退稿", "rejected"),
            DraftStatus::Archived => self.pick("歸檔", "归档", "archived"),
            DraftStatus::Quarantined => self.pick("隔離", "隔离", "quarantined"),
            DraftStatus::Purged => self.pick("已刪除", "已删除", "purged"),
            DraftStatus::RevisionRequested => {
                self.pick("待作者修改", "待作者修改", "revision requested")
            }
            DraftStatus::WithdrawalRequested => {
                self.pick("作者要求撤稿", "作者要求撤稿", "withdrawal requested")
            }
            DraftStatus::Withdrawn => self.pick("已撤稿", "已撤稿", "withdrawn"),
        }
    }

    /// The button that performs an action.
    pub fn action(self, action: Action) -> &'static str {
        match action {
            Action::Claim => self.pick("認領", "认领", "Claim"),
            Action::Release => self.pick("放回隊列", "放回队列", "Release"),
            Action::SendForSignoff => self.pick("送簽", "送签", "Send for sign-off"),
            Action::SignOff => self.pick("簽發", "签发", "Sign off"),
            Action::Return => self.pick("退回編輯", "退回编辑", "Send back"),
            Action::Reject => self.pick("退稿", "退稿", "Reject"),
            Action::Archive => self.pick("歸檔", "归档", "Archive"),
            Action::Reopen => self.pick("重新開啟", "重新打开", "Reopen"),
            Action::ReleaseFromQuarantine => {
                self.pick("解除隔離", "解除隔离", "Release from quarantine")
            }
            Action::RequestRevision => self.pick("請作者修改", "请作者修改", "Ask for a revision"),
            Action::ConfirmWithdrawal => self.pick("確認撤稿", "确认撤稿", "Confirm withdrawal"),
        }
    }

    pub fn role(self, role: crate::workflow::Role) -> &'static str {
        match role {
            crate::workflow::Role::Editor => self.pick("編輯", "编辑", "editor"),
            crate::workflow::Role::Signer => self.pick("簽發人", "签发人", "signer"),
        }
    }

    /// Between a label and what follows: full-width in Chinese.
    pub fn colon(self) -> &'static str {
        self.pick("：", "：", ": ")
    }

    pub fn list_separator(self) -> &'static str {
        self.pick("，", "，", ", ")
    }

    pub fn parentheses(self) -> (&'static str, &'static str) {
        (self.pick("（", "（", " ("), self.pick("）", "）", ")"))
    }

    pub fn letter_kind(self, kind: crate::draft::LetterKind) -> &'static str {
        use crate::draft::LetterKind::*;
        match kind {
            Accept => self.pick("錄用通知", "录用通知", "acceptance"),
            Revise => self.pick("修改意見", "修改意见", "revision request"),
            Decline => self.pick("退稿通知", "退稿通知", "decline"),
            Status => self.pick("進度答覆", "进度答复", "status answer"),
            Withdrawn => self.pick("撤稿確認", "撤稿确认", "withdrawal confirmation"),
        }
    }

    pub fn letter_state(self, state: &str) -> &'static str {
        match state {
            "held" => self.pick("待簽發時寄出", "待签发时寄出", "sent on sign-off"),
            "pending" => self.pick("待寄出", "待寄出", "queued"),
            "sent" => self.pick("已寄出", "已寄出", "sent"),
            "failed" => self.pick("寄送失敗", "寄送失败", "failed"),
            "uncertain" => self.pick(
                "可能已寄出（寄送中斷，為免重複不再寄）",
                "可能已寄出（寄送中断，为免重复不再寄）",
                "probably sent (interrupted; not sent again, to avoid a second copy)",
            ),
            "suppressed" => self.pick("不寄出", "不寄出", "not sent"),
            "cancelled" => self.pick("已取消", "已取消", "cancelled"),
            _ => self.pick("其他", "其他", "other"),
        }
    }

    pub fn intent(self, intent: crate::draft::Intent) -> &'static str {
        use crate::draft::Intent::*;
        match intent {
            Reply => self.pick("來信", "来信", "reply"),
            Status => self.pick("查詢進度", "查询进度", "status request"),
            Withdraw => self.pick("要求撤稿", "要求撤稿", "withdrawal request"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Text {
    AppName,
    Login,
    Logout,
    Token,
    LoginHelp,
    LoginFailed,
    Queue,
    Quarantine,
    Search,
    SearchHint,
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

mod desk;
mod phrases;
mod queue;
mod statistics;

pub use desk::DeskText;
pub use queue::QueueText;
pub use statistics::StatsText;
#[cfg(test)]
mod tests;
