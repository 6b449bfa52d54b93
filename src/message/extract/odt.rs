//! ODT (OpenDocument text): `content.xml`, where headings are `text:h`
//! with their outline level.

use super::article::Article;
use super::xml::{self, Node, attr};
use super::{Budget, Result, Stop, zipped};

/// Elements whose content is not the article: footnote bodies, comments,
/// the record of deleted text.
const SKIPPED: [&str; 3] = ["note", "annotation", "tracked-changes"];

pub(super) fn read(bytes: &[u8], budget: &mut Budget<'_>, article: &mut Article) -> Result<()> {
    let mut archive = zipped::open(bytes)?;
    let content = zipped::entry(&mut archive, "content.xml", budget)?
        .ok_or_else(|| Stop::new("content.xml is missing"))?;
    let mut in_body = false;
    let mut skipping = 0usize;
    let mut heading: Option<u8> = None;
    xml::walk(&content, "content.xml", budget, |node| match node {
        Node::Open(e) | Node::Empty(e) => {
            let empty = matches!(node, Node::Empty(_));
            let name = xml::name(e);
            if SKIPPED.contains(&name) && !empty {
                skipping += 1;
            }
            if skipping > 0 {
                return;
            }
            match name {
                "text" if !empty => in_body = true,
                "h" if !empty => {
                    heading = Some(
                        attr(e, "outline-level")
                            .and_then(|l| l.parse().ok())
                            .unwrap_or(1),
                    )
                }
                "s" if in_body => {
                    let count = attr(e, "c").and_then(|c| c.parse().ok()).unwrap_or(1);
                    for _ in 0..count.min(64) {
                        article.push(' ');
                    }
                }
                "tab" if in_body => article.push('\t'),
                "line-break" if in_body => article.line_break(),
                _ => {}
            }
        }
        Node::Close(name) => {
            if SKIPPED.contains(&name) {
                skipping = skipping.saturating_sub(1);
            } else if skipping == 0 && matches!(name, "p" | "h") {
                article.end_paragraph(heading.take());
            }
        }
        Node::Text(text) if in_body && skipping == 0 => article.push_str(text),
        Node::Text(_) => {}
    })
}
