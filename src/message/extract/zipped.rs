//! Entries of the zip containers DOCX and ODT are, read within the budget:
//! what an entry claims to inflate to is not trusted, what it does is.

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use super::{Budget, Kind, Result, Stop};

pub(crate) type Archive<'b> = ZipArchive<Cursor<&'b [u8]>>;

pub(crate) fn open(bytes: &[u8]) -> Result<Archive<'_>> {
    ZipArchive::new(Cursor::new(bytes)).map_err(|e| Stop::new(format!("broken zip: {e}")))
}

/// DOCX or ODT, by what the zip holds.
pub(super) fn kind(bytes: &[u8]) -> Option<Kind> {
    let archive = open(bytes).ok()?;
    if archive.index_for_name("word/document.xml").is_some() {
        Some(Kind::Docx)
    } else if archive.index_for_name("content.xml").is_some() {
        Some(Kind::Odt)
    } else {
        None
    }
}

/// The inflated bytes of `name`; `None` when the archive has no such entry.
pub(crate) fn entry(
    archive: &mut Archive<'_>,
    name: &str,
    budget: &mut Budget<'_>,
) -> Result<Option<Vec<u8>>> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(ZipError::UnsupportedArchive(why)) => {
            return Err(Stop::new(format!("{name}: {why} (encrypted?)")));
        }
        Err(e) => return Err(Stop::new(format!("{name}: {e}"))),
    };
    let room = budget.inflate_room();
    let mut out = Vec::new();
    file.take(room.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Stop::new(format!("{name}: {e}")))?;
    budget.inflated(out.len() as u64)?;
    budget.tick()?;
    Ok(Some(out))
}
