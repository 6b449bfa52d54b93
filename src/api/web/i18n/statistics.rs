//! The statistics page's words.

use super::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsText {
    Title,
    Figures,
    Intake,
    IntakeChart,
    Week,
    People,
    Automated,
    Decided,
    DecisionTime,
    AcceptanceRate,
    Overdue,
    Editors,
    EditorsChart,
    Editor,
    Holding,
    Decisions,
    NoFigure,
}

impl Lang {
    pub fn stats(self, key: StatsText) -> &'static str {
        use StatsText::*;
        match key {
            Title => self.pick("統計", "统计", "Statistics"),
            Figures => self.pick("近十二週", "近十二周", "The last twelve weeks"),
            Intake => self.pick("每週來稿", "每周来稿", "Intake per week"),
            IntakeChart => self.pick(
                "每週來稿篇數（深色為來稿，淺色為自動郵件）",
                "每周来稿篇数（深色为来稿，浅色为自动邮件）",
                "Drafts received per week (dark: submissions, light: automated mail)",
            ),
            Week => self.pick("週次（起）", "周次（起）", "Week of"),
            People => self.pick("來稿", "来稿", "Submissions"),
            Automated => self.pick("自動郵件", "自动邮件", "Automated mail"),
            Decided => self.pick("已作決定", "已作决定", "Decided"),
            DecisionTime => self.pick(
                "收稿到首次決定",
                "收稿到首次决定",
                "Receipt to first decision",
            ),
            AcceptanceRate => self.pick("錄用率", "录用率", "Acceptance rate"),
            Overdue => self.pick("逾期未覆", "逾期未复", "Overdue"),
            Editors => self.pick("編輯工作量", "编辑工作量", "Editors' load"),
            EditorsChart => self.pick(
                "各編輯手上的待處理稿件",
                "各编辑手上的待处理稿件",
                "Open drafts each editor holds",
            ),
            Editor => self.pick("編輯", "编辑", "Editor"),
            Holding => self.pick("手上稿件", "手上稿件", "Holding"),
            Decisions => self.pick(
                "近十二週的決定與送簽",
                "近十二周的决定与送签",
                "Decisions and sign-off requests",
            ),
            NoFigure => self.pick("尚無", "尚无", "none yet"),
        }
    }

    /// "中位數 3.5 天，九成在 9.0 天內".
    pub fn decision_days(self, median: f64, p90: f64) -> String {
        match self {
            Lang::Zh => format!("中位數 {median:.1} 天，九成在 {p90:.1} 天內"),
            Lang::Hans => format!("中位数 {median:.1} 天，九成在 {p90:.1} 天内"),
            Lang::En => format!("median {median:.1} days, 90% within {p90:.1} days"),
        }
    }
}
