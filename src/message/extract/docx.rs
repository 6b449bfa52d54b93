//! DOCX (Office Open XML): `word/document.xml`, with heading levels from the
//! paragraph styles in `word/styles.xml`.

use std::collections::HashMap;

use super::article::{Article, heading_level_of_style};
use super::xml::{self, Node, attr};
use super::{Budget, Result, Stop, zipped};

pub(super) fn read(bytes: &[u8], budget: &mut Budget<'_>, article: &mut Article) -> Result<()> {
    let mut archive = zipped::open(bytes)?;
    let styles = match zipped::entry(&mut archive, "word/styles.xml", budget)? {
        Some(xml) => heading_styles(&xml, budget)?,
        None => HashMap::new(),
    };
    let document = zipped::entry(&mut archive, "word/document.xml", budget)?
        .ok_or_else(|| Stop::new("word/document.xml is missing"))?;
    let mut paragraph = Paragraph::default();
    xml::walk(&document, "word/document.xml", budget, |node| match node {
        Node::Open(e) | Node::Empty(e) => {
            let empty = matches!(node, Node::Empty(_));
            match xml::name(e) {
                "p" if !empty => paragraph = Paragraph::default(),
                "pStyle" => paragraph.style = attr(e, "val"),
                "outlineLvl" => paragraph.outline = attr(e, "val").and_then(|v| v.parse().ok()),
                "r" if !empty => paragraph.in_run = true,
                "t" if !empty => paragraph.in_text = true,
                "tab" if paragraph.in_run => article.push('\t'),
                "br" | "cr" if paragraph.in_run => article.line_break(),
                "noBreakHyphen" if paragraph.in_run => article.push('-'),
                "p" => article.end_paragraph(None),
                _ => {}
            }
        }
        Node::Close(name) => match name {
            "t" => paragraph.in_text = false,
            "r" => paragraph.in_run = false,
            "p" => {
                let by_style = paragraph
                    .style
                    .as_ref()
                    .and_then(|s| styles.get(s))
                    .copied();
                let level = paragraph.outline.and_then(outline_level).or(by_style);
                article.end_paragraph(level);
                paragraph = Paragraph::default();
            }
            _ => {}
        },
        Node::Text(text) if paragraph.in_text => article.push_str(text),
        Node::Text(_) => {}
    })
}

#[derive(Default)]
struct Paragraph {
    style: Option<String>,
    outline: Option<u8>,
    in_run: bool,
    in_text: bool,
}

/// `w:outlineLvl` 0–8 are heading levels 1–9; 9 is body text.
fn outline_level(value: u8) -> Option<u8> {
    (value < 9).then_some(value + 1)
}

/// Style id → heading level, for the paragraph styles that are headings:
/// by outline level, else by name (`heading 2`, `标题 2`, `Title`), following
/// `basedOn` as Word does.
fn heading_styles(xml: &[u8], budget: &Budget<'_>) -> Result<HashMap<String, u8>> {
    struct Style {
        name: String,
        outline: Option<u8>,
        based_on: Option<String>,
    }
    let mut styles: HashMap<String, Style> = HashMap::new();
    let mut current: Option<(String, Style)> = None;
    xml::walk(xml, "word/styles.xml", budget, |node| match node {
        Node::Open(e) | Node::Empty(e) => match xml::name(e) {
            "style" => {
                let paragraph = attr(e, "type").is_none_or(|t| t == "paragraph");
                current = attr(e, "styleId").filter(|_| paragraph).map(|id| {
                    let style = Style {
                        name: String::new(),
                        outline: None,
                        based_on: None,
                    };
                    (id, style)
                });
            }
            "name" => {
                if let Some((_, style)) = current.as_mut() {
                    style.name = attr(e, "val").unwrap_or_default();
                }
            }
            "basedOn" => {
                if let Some((_, style)) = current.as_mut() {
                    style.based_on = attr(e, "val");
                }
            }
            "outlineLvl" => {
                if let Some((_, style)) = current.as_mut() {
                    style.outline = attr(e, "val").and_then(|v| v.parse().ok());
                }
            }
            _ => {}
        },
        Node::Close("style") => {
            if let Some((id, style)) = current.take() {
                styles.insert(id, style);
            }
        }
        _ => {}
    })?;
    let own_level = |style: &Style| {
        style
            .outline
            .and_then(outline_level)
            .or_else(|| heading_level_of_style(&style.name))
    };
    let mut levels = HashMap::new();
    for (id, style) in &styles {
        let mut at = Some(style);
        // Chains are short; the bound only guards against cycles.
        for _ in 0..16 {
            let Some(style) = at else { break };
            if let Some(level) = own_level(style) {
                levels.insert(id.clone(), level);
                break;
            }
            at = style.based_on.as_ref().and_then(|b| styles.get(b));
        }
    }
    Ok(levels)
}
