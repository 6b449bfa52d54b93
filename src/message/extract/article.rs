//! The text every reader writes into: paragraphs and headings, with the
//! same whitespace rules whatever the format, cut at the size limit.

/// A document's text as it is read.
pub(crate) struct Article {
    blocks: Vec<Block>,
    /// The paragraph being read.
    current: String,
    max_bytes: usize,
    bytes: usize,
    cut: bool,
}

struct Block {
    /// 1 for a title or first-level heading; 0 for body text.
    heading: u8,
    text: String,
}

impl Article {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            blocks: Vec::new(),
            current: String::new(),
            max_bytes,
            bytes: 0,
            cut: false,
        }
    }

    /// Text of the current paragraph. Control characters are dropped and
    /// non-breaking spaces become spaces; everything past the limit is
    /// dropped (`was_cut`).
    pub(crate) fn push_str(&mut self, text: &str) {
        for c in text.chars() {
            self.push(c);
        }
    }

    pub(crate) fn push(&mut self, c: char) {
        let c = match c {
            '\u{a0}' => ' ',
            '\t' | '\n' => c,
            c if c.is_control() || c == '\u{feff}' || c == '\u{ad}' => return,
            c => c,
        };
        if self.bytes + c.len_utf8() > self.max_bytes {
            self.cut = true;
            return;
        }
        self.bytes += c.len_utf8();
        self.current.push(c);
    }

    /// A line break inside the paragraph.
    pub(crate) fn line_break(&mut self) {
        self.push('\n');
    }

    /// Ends the current paragraph; `heading` is its outline level (1 = top)
    /// when it is a heading.
    pub(crate) fn end_paragraph(&mut self, heading: Option<u8>) {
        let raw = std::mem::take(&mut self.current);
        let lines: Vec<&str> = raw
            .split('\n')
            .map(|l| l.trim_matches(|c: char| c.is_whitespace()))
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            return;
        }
        let heading = heading.map_or(0, |level| level.clamp(1, 6));
        // The separator and the heading marks count towards the limit too.
        self.bytes += 2 + usize::from(heading) + usize::from(heading > 0);
        let text = if heading > 0 {
            lines.join(" ")
        } else {
            lines.join("\n")
        };
        self.blocks.push(Block { heading, text });
    }

    pub(crate) fn was_cut(&self) -> bool {
        self.cut
    }

    /// The text (None when there is none) and the title.
    pub(crate) fn finish(mut self) -> (Option<String>, Option<String>) {
        self.end_paragraph(None);
        let title = self.title();
        let text: Vec<String> = self
            .blocks
            .iter()
            .map(|b| match b.heading {
                0 => b.text.clone(),
                n => format!("{} {}", "#".repeat(usize::from(n)), b.text),
            })
            .collect();
        let text = (!text.is_empty()).then(|| text.join("\n\n"));
        (text, title)
    }

    /// The first heading; without headings, a first paragraph short enough
    /// to be a title, with more text after it.
    fn title(&self) -> Option<String> {
        if let Some(h) = self.blocks.iter().find(|b| b.heading > 0) {
            return Some(h.text.clone());
        }
        let first = self.blocks.first()?;
        let short = first.text.chars().count() <= 60 && !first.text.contains('\n');
        (short && self.blocks.len() > 1).then(|| first.text.clone())
    }
}

/// The heading level a paragraph style's name stands for: `heading 2`,
/// `标题 2`, `Title`.
pub(crate) fn heading_level_of_style(name: &str) -> Option<u8> {
    let name = name.trim().to_lowercase();
    if matches!(name.as_str(), "title" | "标题" | "標題") {
        return Some(1);
    }
    let number = ["heading", "标题", "標題"]
        .iter()
        .find_map(|word| name.strip_prefix(word))?;
    number
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|n| (1..=9).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_style_names() {
        assert_eq!(heading_level_of_style("heading 2"), Some(2));
        assert_eq!(heading_level_of_style("标题 1"), Some(1));
        assert_eq!(heading_level_of_style("Title"), Some(1));
        assert_eq!(heading_level_of_style("Heading"), None);
        assert_eq!(heading_level_of_style("Body Text"), None);
    }

    #[test]
    fn paragraphs_headings_and_title() {
        let mut a = Article::new(1 << 20);
        a.push_str("  上好戰“疫”這堂課 ");
        a.end_paragraph(Some(1));
        a.push_str("第一段\u{a0}文字\u{7}");
        a.line_break();
        a.push_str("  第二行 ");
        a.end_paragraph(None);
        a.end_paragraph(None);
        a.push_str("二、小標題");
        a.end_paragraph(Some(2));
        let (text, title) = a.finish();
        assert_eq!(
            text.as_deref(),
            Some("# 上好戰“疫”這堂課\n\n第一段 文字\n第二行\n\n## 二、小標題")
        );
        assert_eq!(title.as_deref(), Some("上好戰“疫”這堂課"));
    }

    #[test]
    fn a_short_first_paragraph_is_the_title_only_with_more_text() {
        let mut a = Article::new(1 << 20);
        a.push_str("詩三首");
        a.end_paragraph(None);
        a.push_str("其一");
        let (_, title) = a.finish();
        assert_eq!(title.as_deref(), Some("詩三首"));
        let mut a = Article::new(1 << 20);
        a.push_str("只有一段");
        assert_eq!(a.finish(), (Some("只有一段".into()), None));
    }

    #[test]
    fn text_stops_at_the_limit() {
        let mut a = Article::new(7);
        a.push_str("abc漢字");
        assert!(a.was_cut());
        assert_eq!(a.finish().0.as_deref(), Some("abc漢"));
    }
}
