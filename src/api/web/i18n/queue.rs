//! The queue's words: its views, columns, page numbers and counts.

use super::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueText {
    OpenWork,
    AllStatuses,
    People,
    Automated,
    AnyMail,
    Everyone,
    Mine,
    Unassigned,
    Length,
    Waiting,
    Previous,
    Next,
    Pages,
    Views,
    Kinds,
    Holders,
}

impl Lang {
    pub fn queue(self, key: QueueText) -> &'static str {
        use QueueText::*;
        match key {
            OpenWork => self.pick("待處理", "待处理", "Open"),
            AllStatuses => self.pick("全部", "全部", "All"),
            People => self.pick("來稿", "来稿", "Submissions"),
            Automated => self.pick(
                "自動郵件（自動回覆、退信、郵件列表）",
                "自动邮件（自动回复、退信、邮件列表）",
                "Automated mail (auto-replies, bounces, lists)",
            ),
            AnyMail => self.pick("全部郵件", "全部邮件", "All mail"),
            Everyone => self.pick("所有編輯", "所有编辑", "Everyone's"),
            Mine => self.pick("我的稿件", "我的稿件", "Mine"),
            Unassigned => self.pick("未認領", "未认领", "Unassigned"),
            Length => self.pick("字數", "字数", "Length"),
            Waiting => self.pick("等候", "等候", "Waiting"),
            Previous => self.pick("上一頁", "上一页", "Previous"),
            Next => self.pick("下一頁", "下一页", "Next"),
            Pages => self.pick("頁碼", "页码", "Pages"),
            Views => self.pick("按狀態", "按状态", "By status"),
            Kinds => self.pick("按郵件", "按邮件", "By kind of mail"),
            Holders => self.pick("按編輯", "按编辑", "By editor"),
        }
    }

    /// "共 120 篇，第 2／3 頁".
    pub fn page_summary(self, total: u64, page: u32, pages: u32) -> String {
        match self {
            Lang::Zh => format!("共 {total} 篇，第 {page}／{pages} 頁"),
            Lang::Hans => format!("共 {total} 篇，第 {page}／{pages} 页"),
            Lang::En => format!(
                "{total} draft{}, page {page} of {pages}",
                if total == 1 { "" } else { "s" }
            ),
        }
    }

    /// An article's length: "1,234 字".
    pub fn length(self, chars: u64) -> String {
        let digits = chars.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        match self {
            Lang::En => format!("{grouped} chars"),
            _ => format!("{grouped} 字"),
        }
    }

    /// How long a draft has been in its status: "3 天", "不到 1 天".
    pub fn waiting(self, days: i64) -> String {
        match (self, days) {
            (Lang::En, ..=0) => "under a day".into(),
            (Lang::En, 1) => "1 day".into(),
            (Lang::En, n) => format!("{n} days"),
            (_, ..=0) => "不到 1 天".into(),
            (_, n) => format!("{n} 天"),
        }
    }
}
