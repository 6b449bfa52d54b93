//! Word 97–2003 `.doc` (and WPS, which writes the same format): an OLE
//! compound file whose `WordDocument` stream starts with the FIB, which
//! locates the piece table (in `0Table` or `1Table`) mapping the main text's
//! characters to runs of 8-bit (cp1252) or UTF-16 bytes. [MS-DOC] 2.5, 2.8.
//! Headings would need the style sheet and paragraph properties; the title
//! comes from a short first paragraph instead.

use std::io::{Cursor, Read};

use encoding_rs::WINDOWS_1252;

use super::article::Article;
use super::{Budget, Result, Stop};

pub(super) fn read(bytes: &[u8], budget: &mut Budget<'_>, article: &mut Article) -> Result<()> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| Stop::new(format!("broken OLE compound file: {e}")))?;
    let word = stream(&mut file, "WordDocument", budget)?;
    let fib = Fib::parse(&word)?;
    let table = stream(&mut file, fib.table_stream, budget)?;
    let clx = table
        .get(fib.clx.clone())
        .ok_or_else(|| Stop::new("the piece table lies outside the table stream"))?;
    let mut text = Text::default();
    let mut left = fib.text_chars;
    for piece in pieces(clx)? {
        budget.tick()?;
        let take = piece.chars.min(left);
        left -= take;
        let (start, width) = if piece.compressed {
            (piece.offset / 2, 1)
        } else {
            (piece.offset, 2)
        };
        let raw = word
            .get(start..start + take * width)
            .ok_or_else(|| Stop::new("a text piece lies outside the WordDocument stream"))?;
        if piece.compressed {
            let (decoded, _, _) = WINDOWS_1252.decode(raw);
            decoded.chars().for_each(|c| text.char(c, article));
        } else {
            let units = raw
                .chunks_exact(2)
                .map(|u| u16::from_le_bytes([u[0], u[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .for_each(|c| text.char(c, article));
        }
        if left == 0 {
            break;
        }
    }
    Ok(())
}

fn stream(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    name: &str,
    budget: &mut Budget<'_>,
) -> Result<Vec<u8>> {
    let stream = file
        .open_stream(name)
        .map_err(|e| Stop::new(format!("no {name} stream ({e}): not a Word document")))?;
    let mut out = Vec::new();
    stream
        .take(budget.inflate_room().saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Stop::new(format!("{name}: {e}")))?;
    budget.inflated(out.len() as u64)?;
    Ok(out)
}

/// What the text needs from the File Information Block.
struct Fib {
    table_stream: &'static str,
    /// Characters of the main document (headers, footnotes follow them).
    text_chars: usize,
    /// Where the piece table (Clx) is in the table stream.
    clx: std::ops::Range<usize>,
}

impl Fib {
    fn parse(word: &[u8]) -> Result<Fib> {
        let u16_at = |at: usize| {
            word.get(at..at + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
        };
        let u32_at = |at: usize| {
            word.get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let short = || Stop::new("the FIB is truncated");
        if u16_at(0) != Some(0xA5EC) {
            return Err(Stop::new("the WordDocument stream has no Word signature"));
        }
        if u16_at(2).ok_or_else(short)? < 101 {
            return Err(Stop::new("Word 95 and older files are not read"));
        }
        let flags = u16_at(0x0A).ok_or_else(short)?;
        if flags & 0x0100 != 0 {
            return Err(Stop::new("the document is password-protected"));
        }
        let csw = usize::from(u16_at(32).ok_or_else(short)?);
        let lw = 32 + 2 + csw * 2;
        let cslw = usize::from(u16_at(lw).ok_or_else(short)?);
        let text_chars = u32_at(lw + 2 + 12).ok_or_else(short)?;
        let fc_lcb = lw + 2 + cslw * 4 + 2;
        let fc_clx = u32_at(fc_lcb + 0x108).ok_or_else(short)?;
        let lcb_clx = u32_at(fc_lcb + 0x10C).ok_or_else(short)?;
        Ok(Fib {
            table_stream: if flags & 0x0200 != 0 {
                "1Table"
            } else {
                "0Table"
            },
            text_chars,
            clx: fc_clx..fc_clx.saturating_add(lcb_clx),
        })
    }
}

struct Piece {
    chars: usize,
    /// Byte offset in the WordDocument stream (doubled when compressed).
    offset: usize,
    compressed: bool,
}

/// The pieces of the Clx's PlcPcd, in text order.
fn pieces(clx: &[u8]) -> Result<Vec<Piece>> {
    let broken = || Stop::new("the piece table is malformed");
    let mut at = 0;
    // Property modifiers (Prc) come first; the piece table (Pcdt) follows.
    while clx.get(at) == Some(&0x01) {
        let size = clx.get(at + 1..at + 3).ok_or_else(broken)?;
        at += 3 + usize::from(u16::from_le_bytes([size[0], size[1]]));
    }
    if clx.get(at) != Some(&0x02) {
        return Err(broken());
    }
    let len = clx.get(at + 1..at + 5).ok_or_else(broken)?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let plc = clx.get(at + 5..at + 5 + len).ok_or_else(broken)?;
    if plc.len() < 4 {
        return Err(broken());
    }
    let count = (plc.len() - 4) / 12;
    let word = |at: usize| {
        let b = &plc[at..at + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    };
    (0..count)
        .map(|i| {
            let (start, end) = (word(i * 4), word(i * 4 + 4));
            let fc = word(4 * (count + 1) + i * 8 + 2);
            Ok(Piece {
                chars: end.checked_sub(start).ok_or_else(broken)? as usize,
                offset: (fc & 0x3FFF_FFFF) as usize,
                compressed: fc & 0x4000_0000 != 0,
            })
        })
        .collect()
}

/// Word's special characters: paragraph and cell marks, fields (only their
/// results are text), object anchors.
#[derive(Default)]
struct Text {
    /// One entry per open field: whether its code (before the separator) is
    /// being read.
    fields: Vec<bool>,
}

impl Text {
    fn char(&mut self, c: char, article: &mut Article) {
        match c {
            '\u{13}' => return self.fields.push(true),
            '\u{14}' => {
                if let Some(code) = self.fields.last_mut() {
                    *code = false;
                }
                return;
            }
            '\u{15}' => {
                self.fields.pop();
                return;
            }
            _ if self.fields.iter().any(|&code| code) => return,
            _ => {}
        }
        match c {
            '\r' | '\u{7}' | '\u{c}' | '\u{e}' => article.end_paragraph(None),
            '\u{b}' => article.line_break(),
            '\u{1e}' => article.push('-'),
            '\t' => article.push('\t'),
            c if (c as u32) < 0x20 => {}
            c => article.push(c),
        }
    }
}
