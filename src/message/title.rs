//! Subject → title: reply/forward/submission markers removed.

/// Prefixes that need a following colon (ASCII or full-width). Matched
/// case-insensitively, so `RE`, `Fw`, `FWD` are covered too.
const COLON_PREFIXES: &[&str] = &[
    "re", "fwd", "fw", "回复", "回覆", "答复", "转发", "轉寄", "转寄", "投稿",
];

/// Bracketed markers that stand alone.
const BRACKETED: &[&str] = &["【投稿】", "[投稿]", "［投稿］"];

pub fn strip_title_prefixes(subject: &str) -> String {
    let mut rest = subject.trim();
    loop {
        let before = rest;
        for marker in BRACKETED {
            if let Some(r) = rest.strip_prefix(marker) {
                rest = r.trim_start();
            }
        }
        for prefix in COLON_PREFIXES {
            if let Some(r) = strip_colon_prefix(rest, prefix) {
                rest = r.trim_start();
            }
        }
        if rest == before {
            return rest.trim_end().to_string();
        }
    }
}

/// Subjects that name no work: the title then comes from the document.
const SAYS_NOTHING: &[&str] = &[
    "投稿",
    "稿件",
    "来稿",
    "來稿",
    "投稿件",
    "文章",
    "稿子",
    "附件",
    "无题",
    "無題",
    "无标题",
    "無標題",
    "submission",
    "manuscript",
    "article",
    "untitled",
    "no subject",
    "attachment",
];

/// Whether a title (already without prefixes) is empty or generic.
pub fn says_nothing(title: &str) -> bool {
    let bare = title
        .trim_matches(|c: char| {
            c.is_whitespace()
                || c.is_ascii_punctuation()
                || "【】［］：。，、！？（）《》「」".contains(c)
        })
        .to_lowercase();
    bare.is_empty() || SAYS_NOTHING.contains(&bare.as_str())
}

/// `prefix`, an optional `[n]` counter (`Re[2]:`), optional spaces, then a
/// colon.
fn strip_colon_prefix<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let mut rest = &s[prefix.len()..];
    if let Some(r) = rest.strip_prefix('[')
        && let Some(close) = r.find(']')
        && r[..close].chars().all(|c| c.is_ascii_digit())
    {
        rest = &r[close + 1..];
    }
    let rest = rest.trim_start();
    rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))
}

#[cfg(test)]
mod tests {
    use super::strip_title_prefixes as t;

    #[test]
    fn english_prefixes() {
        assert_eq!(t("Re: Hello"), "Hello");
        assert_eq!(t("RE: FW: Fwd: fw: re[2]: Hello "), "Hello");
        assert_eq!(t("Fwd : spaced"), "spaced");
    }

    #[test]
    fn chinese_prefixes() {
        assert_eq!(t("回复: 转发: 标题"), "标题");
        assert_eq!(t("回覆：答复：轉寄: 标题"), "标题");
        assert_eq!(
            t("投稿：教育部教師司:上好戰“疫”這堂課"),
            "教育部教師司:上好戰“疫”這堂課"
        );
        assert_eq!(t("投稿:诗三首"), "诗三首");
        assert_eq!(t("【投稿】 诗三首"), "诗三首");
        assert_eq!(t("[投稿]诗三首"), "诗三首");
    }

    #[test]
    fn combinations() {
        assert_eq!(t("Re: Fwd: 【投稿】 标题"), "标题");
        assert_eq!(t("Re: 转发: 【投稿】教育部教師司"), "教育部教師司");
    }

    #[test]
    fn words_that_merely_start_like_prefixes_stay() {
        assert_eq!(t("Report on poems"), "Report on poems");
        assert_eq!(t("投稿须知"), "投稿须知");
        assert_eq!(t("Fwdx: a"), "Fwdx: a");
    }

    #[test]
    fn generic_titles_say_nothing() {
        use super::says_nothing;
        for generic in [
            "",
            "投稿",
            "【投稿】",
            "Submission",
            "稿件。",
            " 無題 ",
            "(no subject)",
        ] {
            assert!(says_nothing(generic), "{generic}");
        }
        assert!(!says_nothing("诗三首"));
        assert!(!says_nothing("投稿须知"));
    }

    #[test]
    fn empty() {
        assert_eq!(t(""), "");
        assert_eq!(t("  Re:  "), "");
    }
}
