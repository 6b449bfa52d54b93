//! RTF: a small reader of the control words that carry text. 8-bit text
//! (`\'hh`) is decoded in the charset of the current font (`\fcharset134`
//! is GBK, the usual Chinese one) or the document's `\ansicpg`; `\uN` is
//! Unicode; headings come from `\outlinelevel` or the style sheet's
//! `heading N` names. Groups that are not body text (font table, pictures,
//! field instructions, `{\*…}`) are skipped.

use std::collections::HashMap;

use encoding_rs::Encoding;

use super::article::{Article, heading_level_of_style};
use super::{Budget, Result, Stop};

/// Destinations whose text is not the article.
const SKIPPED: [&str; 22] = [
    "colortbl",
    "info",
    "pict",
    "object",
    "header",
    "headerl",
    "headerr",
    "headerf",
    "footer",
    "footerl",
    "footerr",
    "footerf",
    "footnote",
    "annotation",
    "fldinst",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "filetbl",
    "revtbl",
    "pgdsctbl",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Destination {
    Body,
    Skipped,
    FontTable,
    StyleSheet,
}

#[derive(Clone, Copy)]
struct Group {
    destination: Destination,
    font: Option<i32>,
    /// `\ucN`: how many fallback characters follow each `\uN`.
    fallback: usize,
}

struct Reader<'a, 'b> {
    article: &'a mut Article,
    budget: &'a Budget<'b>,
    codepage: &'static Encoding,
    fonts: HashMap<i32, &'static Encoding>,
    styles: HashMap<i32, (String, Option<u8>)>,
    /// The font or style being defined in the font table / style sheet.
    defining: Option<i32>,
    defining_outline: Option<u8>,
    style_name: String,
    paragraph_style: i32,
    paragraph_outline: Option<u8>,
    /// `\'hh` bytes not decoded yet: a double-byte character is two of them.
    pending: Vec<u8>,
    /// Fallback characters of the last `\uN` still to be skipped.
    skip: usize,
    /// The next control word opens a destination (`{\*\…` or the first
    /// word of a group).
    group_start: bool,
}

pub(super) fn read(bytes: &[u8], budget: &mut Budget<'_>, article: &mut Article) -> Result<()> {
    let mut reader = Reader {
        article,
        budget,
        codepage: encoding_rs::WINDOWS_1252,
        fonts: HashMap::new(),
        styles: HashMap::new(),
        defining: None,
        defining_outline: None,
        style_name: String::new(),
        paragraph_style: 0,
        paragraph_outline: None,
        pending: Vec::new(),
        skip: 0,
        group_start: false,
    };
    reader.run(bytes)
}

impl Reader<'_, '_> {
    fn run(&mut self, rtf: &[u8]) -> Result<()> {
        let mut stack: Vec<Group> = Vec::new();
        let mut group = Group {
            destination: Destination::Body,
            font: None,
            fallback: 1,
        };
        let mut at = 0;
        while at < rtf.len() {
            if at % 65_536 == 0 {
                self.budget.tick()?;
            }
            let byte = rtf[at];
            at += 1;
            match byte {
                b'{' => {
                    self.flush(&group);
                    if stack.len() >= self.budget.max_depth() {
                        return Err(Stop::new(format!(
                            "groups nested deeper than {}",
                            self.budget.max_depth()
                        )));
                    }
                    stack.push(group);
                    self.group_start = true;
                }
                b'}' => {
                    self.flush(&group);
                    self.close_group(&group);
                    group = stack.pop().unwrap_or(group);
                    self.group_start = false;
                }
                b'\\' => at = self.control(rtf, at, &mut group),
                b'\r' | b'\n' => {}
                _ => {
                    self.group_start = false;
                    if self.skip > 0 {
                        self.skip -= 1;
                    } else {
                        self.pending.push(byte);
                    }
                }
            }
        }
        self.flush(&group);
        Ok(())
    }

    /// Reads the control word or symbol after a backslash at `at`; returns
    /// where reading goes on.
    fn control(&mut self, rtf: &[u8], mut at: usize, group: &mut Group) -> usize {
        let Some(&first) = rtf.get(at) else {
            return at;
        };
        if first == b'\'' {
            let hex = rtf
                .get(at + 1..at + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                if self.skip > 0 {
                    self.skip -= 1;
                } else {
                    self.pending.push(value);
                }
            }
            return at + 3;
        }
        self.flush(group);
        if !first.is_ascii_alphabetic() {
            match first {
                b'*' => group.destination = Destination::Skipped,
                b'~' => self.text(group, " "),
                b'_' => self.text(group, "-"),
                b'\\' | b'{' | b'}' => self.text(group, &(first as char).to_string()),
                b'\r' | b'\n' => self.end_paragraph(group),
                _ => {}
            }
            return at + 1;
        }
        let start = at;
        while rtf.get(at).is_some_and(u8::is_ascii_alphabetic) {
            at += 1;
        }
        let word = std::str::from_utf8(&rtf[start..at]).unwrap_or_default();
        let number_start = at;
        if rtf.get(at) == Some(&b'-') {
            at += 1;
        }
        while rtf.get(at).is_some_and(u8::is_ascii_digit) && at - number_start < 10 {
            at += 1;
        }
        let param = std::str::from_utf8(&rtf[number_start..at])
            .ok()
            .and_then(|n| n.parse::<i32>().ok());
        if rtf.get(at) == Some(&b' ') {
            at += 1;
        }
        if word == "bin" {
            // Raw bytes follow (picture data): they may hold braces.
            return at.saturating_add(param.and_then(|n| usize::try_from(n).ok()).unwrap_or(0));
        }
        self.word(word, param, group);
        at
    }

    fn word(&mut self, word: &str, param: Option<i32>, group: &mut Group) {
        let opens_group = std::mem::replace(&mut self.group_start, false);
        if opens_group && SKIPPED.contains(&word) {
            group.destination = Destination::Skipped;
        }
        match (word, group.destination) {
            (_, Destination::Skipped) => {}
            ("fonttbl", _) => group.destination = Destination::FontTable,
            ("stylesheet", _) => group.destination = Destination::StyleSheet,
            ("ansicpg", _) => {
                if let Some(cp) = param.and_then(codepage) {
                    self.codepage = cp;
                }
            }
            ("f", Destination::FontTable) | ("s", Destination::StyleSheet) => {
                self.defining = param;
                self.defining_outline = None;
                self.style_name.clear();
            }
            ("fcharset", Destination::FontTable) => {
                if let (Some(font), Some(cs)) = (self.defining, param.and_then(charset)) {
                    self.fonts.insert(font, cs);
                }
            }
            ("outlinelevel", Destination::StyleSheet) => {
                self.defining_outline = param.and_then(|l| u8::try_from(l).ok()).filter(|&l| l < 9)
            }
            ("f", Destination::Body) => group.font = param,
            ("uc", _) => group.fallback = param.and_then(|n| usize::try_from(n).ok()).unwrap_or(1),
            ("u", _) => {
                let code = param.unwrap_or(0);
                let code = if code < 0 { code + 65_536 } else { code };
                let c = char::from_u32(code as u32).unwrap_or(char::REPLACEMENT_CHARACTER);
                self.text(group, &c.to_string());
                self.skip = group.fallback;
            }
            (_, Destination::Body) => self.body_word(word, param, group),
            _ => {}
        }
    }

    fn body_word(&mut self, word: &str, param: Option<i32>, group: &Group) {
        match word {
            "par" | "sect" | "page" | "cell" | "row" => self.end_paragraph(group),
            "line" => self.article.line_break(),
            "tab" => self.article.push('\t'),
            "emdash" => self.article.push('—'),
            "endash" => self.article.push('–'),
            "lquote" => self.article.push('‘'),
            "rquote" => self.article.push('’'),
            "ldblquote" => self.article.push('“'),
            "rdblquote" => self.article.push('”'),
            "bullet" => self.article.push('•'),
            "pard" => {
                self.paragraph_style = 0;
                self.paragraph_outline = None;
            }
            "s" => self.paragraph_style = param.unwrap_or(0),
            "outlinelevel" => {
                self.paragraph_outline = param.and_then(|l| u8::try_from(l).ok()).filter(|&l| l < 9)
            }
            _ => {}
        }
    }

    fn close_group(&mut self, group: &Group) {
        if group.destination == Destination::StyleSheet
            && let Some(style) = self.defining.take()
        {
            let name = self
                .style_name
                .trim()
                .trim_end_matches(';')
                .trim()
                .to_string();
            self.styles
                .insert(style, (name, self.defining_outline.take()));
            self.style_name.clear();
        }
    }

    fn end_paragraph(&mut self, group: &Group) {
        self.flush(group);
        let level = self.paragraph_outline.map(|l| l + 1).or_else(|| {
            let (name, outline) = self.styles.get(&self.paragraph_style)?;
            outline
                .map(|l| l + 1)
                .or_else(|| heading_level_of_style(name))
        });
        self.article.end_paragraph(level);
    }

    /// Decodes the pending 8-bit text in the current font's charset.
    fn flush(&mut self, group: &Group) {
        if self.pending.is_empty() {
            return;
        }
        let encoding = group
            .font
            .and_then(|f| self.fonts.get(&f).copied())
            .unwrap_or(self.codepage);
        let bytes = std::mem::take(&mut self.pending);
        let (text, _, _) = encoding.decode(&bytes);
        self.text(group, &text);
    }

    fn text(&mut self, group: &Group, text: &str) {
        match group.destination {
            Destination::Body => self.article.push_str(text),
            Destination::StyleSheet => self.style_name.push_str(text),
            _ => {}
        }
    }
}

/// `\fcharsetN` → encoding (the Windows charset numbers).
fn charset(n: i32) -> Option<&'static Encoding> {
    let page = match n {
        0 => 1252,
        128 => 932,
        129 => 949,
        134 => 936,
        136 => 950,
        161 => 1253,
        162 => 1254,
        163 => 1258,
        177 => 1255,
        178 => 1256,
        186 => 1257,
        204 => 1251,
        222 => 874,
        238 => 1250,
        _ => return None,
    };
    codepage(page)
}

/// `\ansicpgN` → encoding. 936 is decoded as GB18030, which reads GBK too.
fn codepage(n: i32) -> Option<&'static Encoding> {
    match n {
        936 | 54936 => Some(encoding_rs::GB18030),
        950 => Some(encoding_rs::BIG5),
        932 => Some(encoding_rs::SHIFT_JIS),
        949 => Some(encoding_rs::EUC_KR),
        65001 => Some(encoding_rs::UTF_8),
        874 | 1250..=1258 => Encoding::for_label(format!("windows-{n}").as_bytes()),
        _ => None,
    }
}
