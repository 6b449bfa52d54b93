//! The desk's words: who works on a draft, and handing it on.

use super::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskText {
    WhoWorksOnIt,
    AssignTo,
    Assign,
    Renew,
    TakeOver,
    Why,
    Lapsed,
    Discussion,
    NoComments,
    CommentLabel,
    PostComment,
    RejectReason,
    RejectReasonInLetter,
    TemplateWithReason,
    ConfirmRejectOnly,
}

impl Lang {
    pub fn desk(self, key: DeskText) -> &'static str {
        use DeskText::*;
        match key {
            WhoWorksOnIt => self.pick("經手編輯", "经手编辑", "Who works on it"),
            AssignTo => self.pick("交給", "交给", "Assign to"),
            Assign => self.pick("交辦", "交办", "Assign"),
            Renew => self.pick("延長認領", "延长认领", "Renew the claim"),
            TakeOver => self.pick("接手", "接手", "Take over"),
            Why => self.pick(
                "原因（記入紀錄）",
                "原因（记入记录）",
                "Why (kept in the history)",
            ),
            Lapsed => self.pick("認領已逾時", "认领已逾时", "the claim has run out"),
            Discussion => self.pick("編輯部討論", "编辑部讨论", "Editors' discussion"),
            NoComments => self.pick("還沒有人留言。", "还没有人留言。", "No comments yet."),
            CommentLabel => self.pick(
                "留言（只有編輯看得到）",
                "留言（只有编辑看得到）",
                "Comment (editors only)",
            ),
            PostComment => self.pick("留言", "留言", "Post"),
            RejectReason => self.pick("退稿原因（記入紀錄）", "退稿原因（记入记录）", "Why (kept in the history)"),
            RejectReasonInLetter => self.pick(
                "退稿原因（寫進給作者的退稿通知，並記入紀錄）",
                "退稿原因（写进给作者的退稿通知，并记入记录）",
                "Why (written into the letter to the contributor, and kept in the history)",
            ),
            ConfirmRejectOnly => self.pick("確認退稿", "确认退稿", "Confirm the rejection"),
            TemplateWithReason => self.pick(
                "作者將收到以下範本信，退稿原因寫在空行處；也可在下面改寫整封信。",
                "作者将收到以下模板信，退稿原因写在空行处；也可在下面改写整封信。",
                "The contributor gets this letter with your reason in the blank line; or write the whole letter below.",
            ),
        }
    }
}
