//! PDF: the text shown by each page's content stream, decoded through the
//! fonts' encodings and ToUnicode maps (lopdf), laid out again from where
//! it is drawn. A PDF has no paragraphs, only positioned lines: a larger
//! vertical gap or an indented first line starts a paragraph, and lines
//! set clearly larger than the body text are headings.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Document, Encoding, LoadOptions, Object};

use super::article::Article;
use super::{Budget, Result, Stop};

pub(super) fn read(bytes: &[u8], budget: &mut Budget<'_>, article: &mut Article) -> Result<()> {
    let room = usize::try_from(budget.inflate_room()).unwrap_or(usize::MAX);
    let options = LoadOptions {
        max_decompressed_size: Some(room),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => {
            Stop::new("the PDF is password-protected")
        }
        e => Stop::new(format!("unreadable PDF: {e}")),
    })?;
    let mut lines: Vec<Line> = Vec::new();
    let mut outcome = Ok(());
    for (_, page) in doc.get_pages() {
        outcome = budget
            .tick()
            .and_then(|()| page_lines(&doc, page, room, budget, &mut lines));
        let text: usize = lines.iter().map(|l| l.text.len()).sum();
        // The article cuts there anyway: no need to read further pages.
        if outcome.is_err() || text > budget.max_text() {
            break;
        }
    }
    lay_out(&lines, article);
    outcome
}

/// One line of text as drawn.
struct Line {
    text: String,
    /// Font size in text space, scaled by the text matrix.
    size: f32,
    x: f32,
    y: f32,
    first_on_page: bool,
}

fn page_lines(
    doc: &Document,
    page: lopdf::ObjectId,
    limit: usize,
    budget: &Budget<'_>,
    lines: &mut Vec<Line>,
) -> Result<()> {
    let fonts: BTreeMap<Vec<u8>, Encoding> = doc
        .get_page_fonts(page)
        .map_err(|e| Stop::new(format!("unreadable page: {e}")))?
        .into_iter()
        .filter_map(|(name, font)| {
            Some((name, font.get_font_encoding_with_limit(doc, limit).ok()?))
        })
        .collect();
    let content = doc
        .get_page_content_with_limit(page, limit)
        .map_err(|e| Stop::new(format!("unreadable page content: {e}")))?;
    let content = Content::decode(&content)
        .map_err(|e| Stop::new(format!("unreadable page content: {e}")))?;
    let mut state = TextState::default();
    let first = lines.len();
    for (n, op) in content.operations.iter().enumerate() {
        if n % 4096 == 0 {
            budget.tick()?;
        }
        let num = |i: usize| {
            op.operands
                .get(i)
                .and_then(|o| o.as_float().ok())
                .unwrap_or(0.0)
        };
        match op.operator.as_str() {
            "BT" => state.matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            "Tf" => {
                state.font = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .map(<[u8]>::to_vec);
                state.font_size = num(1);
            }
            "TL" => state.leading = num(0),
            "Tm" => state.matrix = [num(0), num(1), num(2), num(3), num(4), num(5)],
            "Td" => state.move_by(num(0), num(1)),
            "TD" => {
                state.leading = -num(1);
                state.move_by(num(0), num(1));
            }
            "T*" => state.move_by(0.0, -state.leading),
            "Tj" | "TJ" | "'" | "\"" => {
                if matches!(op.operator.as_str(), "'" | "\"") {
                    state.move_by(0.0, -state.leading);
                }
                let shown = match op.operator.as_str() {
                    "\"" => op.operands.get(2..3).unwrap_or_default(),
                    _ => &op.operands[..],
                };
                let encoding = state.font.as_ref().and_then(|f| fonts.get(f));
                if let Some(encoding) = encoding {
                    let text = shown_text(encoding, shown);
                    state.show(&text, lines);
                }
            }
            _ => {}
        }
    }
    if let Some(line) = lines.get_mut(first) {
        line.first_on_page = true;
    }
    Ok(())
}

#[derive(Default)]
struct TextState {
    /// The text line matrix `[a b c d e f]`.
    matrix: [f32; 6],
    font: Option<Vec<u8>>,
    font_size: f32,
    leading: f32,
}

impl TextState {
    fn move_by(&mut self, tx: f32, ty: f32) {
        let [a, b, c, d, e, f] = self.matrix;
        self.matrix[4] = e + tx * a + ty * c;
        self.matrix[5] = f + tx * b + ty * d;
    }

    fn show(&self, text: &str, lines: &mut Vec<Line>) {
        if text.is_empty() {
            return;
        }
        let size = (self.font_size * self.matrix[3].abs().max(self.matrix[0].abs())).max(1.0);
        let (x, y) = (self.matrix[4], self.matrix[5]);
        if let Some(last) = lines.last_mut()
            && (last.y - y).abs() < size * 0.3
        {
            last.text.push_str(text);
            last.size = last.size.max(size);
            return;
        }
        lines.push(Line {
            text: text.to_string(),
            size,
            x,
            y,
            first_on_page: false,
        });
    }
}

/// The text of a Tj / TJ operand list: strings decoded, and a wide negative
/// adjustment between Latin letters read as the space it stands for.
fn shown_text(encoding: &Encoding, operands: &[Object]) -> String {
    let mut text = String::new();
    let push = |object: &Object, text: &mut String| match object {
        Object::String(bytes, _) => {
            if let Ok(s) = Document::decode_text(encoding, bytes) {
                text.push_str(&s);
            }
        }
        Object::Integer(_) | Object::Real(_) => {
            let adjust = object.as_float().unwrap_or(0.0);
            if adjust < -250.0
                && text
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                text.push(' ');
            }
        }
        _ => {}
    };
    for object in operands {
        match object {
            Object::Array(items) => items.iter().for_each(|item| push(item, &mut text)),
            other => push(other, &mut text),
        }
    }
    text
}

/// Lines → paragraphs and headings.
fn lay_out(lines: &[Line], article: &mut Article) {
    let body = body_size(lines);
    let heading_level = |size: f32| {
        if size >= body * 1.6 {
            Some(1)
        } else if size >= body * 1.2 {
            Some(2)
        } else {
            None
        }
    };
    let mut previous: Option<&Line> = None;
    let mut level = None;
    for line in lines {
        let text = line.text.trim();
        if text.is_empty() {
            continue;
        }
        let this_level = heading_level(line.size);
        if let Some(prev) = previous {
            let gap = prev.y - line.y;
            let new_paragraph = line.first_on_page && this_level.is_some()
                || gap < 0.0 && !line.first_on_page
                || gap > line.size.max(prev.size) * 1.6
                || line.x > prev.x + line.size * 0.8
                || this_level != level;
            if new_paragraph {
                article.end_paragraph(level);
            } else if joins_with_space(last_char(prev), text) {
                article.push(' ');
            }
        }
        article.push_str(text);
        level = this_level;
        previous = Some(line);
    }
    article.end_paragraph(level);
}

fn last_char(line: &Line) -> Option<char> {
    line.text.trim_end().chars().last()
}

/// Latin words wrap at spaces, which a PDF does not draw; Chinese has none.
fn joins_with_space(before: Option<char>, after: &str) -> bool {
    let latin = |c: char| c.is_ascii_alphanumeric() || matches!(c, ',' | '.' | ';' | ':' | ')');
    before.is_some_and(latin)
        && after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// The size most of the text is set in.
fn body_size(lines: &[Line]) -> f32 {
    let mut by_size: BTreeMap<u32, usize> = BTreeMap::new();
    for line in lines {
        *by_size.entry((line.size * 10.0) as u32).or_default() += line.text.chars().count();
    }
    by_size
        .into_iter()
        .max_by_key(|&(_, chars)| chars)
        .map_or(12.0, |(size, _)| size as f32 / 10.0)
}
