//! The article inside an attached document: the text of a .docx, .odt,
//! .doc (Word 97–2003, WPS), .pdf or .rtf attachment, with paragraph breaks
//! and headings (Markdown `#`), and the title it starts with.
//!
//! Pure like the rest of `message`, but bounded: a document is hostile input
//! too. Every reader stops at [`ExtractLimits`] (bytes inflated from a zip,
//! XML or RTF nesting, text produced, time spent) and says why, so a zip
//! bomb or a malformed file gives the attachment a note, never a panic or a
//! stalled sync.

mod article;
mod doc;
mod docx;
mod odt;
mod pdf;
mod rtf;
mod xml;
mod zipped;

use std::time::{Duration, Instant};

use article::Article;

/// Bounds on one attachment's extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Bytes a document may inflate to (zip entries, PDF streams) in all.
    pub max_inflated: u64,
    /// Text kept per document; longer text is cut there, with a note.
    pub max_text: usize,
    /// XML element / RTF group nesting beyond this is refused.
    pub max_depth: usize,
    /// Wall-clock time per document.
    pub timeout: Duration,
    /// Wall-clock time for all the documents of one message together: a
    /// dozen slow documents in one mail cannot hold the sync up a dozen
    /// times over.
    pub message_timeout: Duration,
    /// Wall-clock time a batch's documents may take before the batch is
    /// committed; the documents still unread then are read after the
    /// commit (see [`MessageBudget::start`]), so one slow message never
    /// holds up the mail behind it.
    pub inline_timeout: Duration,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self {
            max_inflated: 32 * 1024 * 1024,
            max_text: 2 * 1024 * 1024,
            max_depth: 256,
            timeout: Duration::from_secs(5),
            message_timeout: Duration::from_secs(10),
            inline_timeout: Duration::from_secs(1),
        }
    }
}

/// The time one message's documents have left, shared by all of them.
pub struct MessageBudget {
    deadline: Instant,
    /// When reading stops for now, the documents left over being read
    /// after the commit; `None` reads everything now.
    defer_at: Option<Instant>,
}

/// Written as the note of a document left for after the commit; the full
/// reading replaces it.
pub const DEFERRED_NOTE: &str = "extraction continues after the draft was stored";

impl MessageBudget {
    pub fn start(limits: &ExtractLimits, defer_at: Option<Instant>) -> MessageBudget {
        MessageBudget {
            deadline: Instant::now() + limits.message_timeout,
            defer_at,
        }
    }

    fn deferring(&self) -> bool {
        self.defer_at.is_some_and(|at| Instant::now() >= at)
    }
}

/// [`extract`] within the message's shared time: a document that comes
/// after the message's time is up gets a note instead of a reading, and
/// one that comes, or is still being read, when the batch's inline time
/// is up is marked `deferred`.
pub fn extract_within(
    content_type: &str,
    filename: Option<&str>,
    bytes: &[u8],
    limits: &ExtractLimits,
    message: &MessageBudget,
) -> Option<Extraction> {
    claimed_kind(content_type, filename)?;
    if message.deferring() {
        return Some(deferred());
    }
    let now = Instant::now();
    let Some(left) = message.deadline.checked_duration_since(now) else {
        // No figure: a reading after the commit has only what the batch
        // left of message_timeout, and the configured one would mislead.
        return Some(noted(
            "not extracted: the message's documents used up their time together (message_timeout)"
                .to_string(),
        ));
    };
    let until_deferral = message.defer_at.map(|at| at.saturating_duration_since(now));
    let limits = ExtractLimits {
        timeout: limits.timeout.min(left).min(until_deferral.unwrap_or(left)),
        ..limits.clone()
    };
    let found = extract(content_type, filename, bytes, &limits)?;
    // Cut short by the batch's clock rather than its own: read again later.
    if found.note.is_some() && message.deferring() {
        return Some(deferred());
    }
    Some(found)
}

/// A duration for a note, to a tenth of a second: a document's time is
/// what the message had left, and "4.924768 s" says nothing more.
fn seconds(d: Duration) -> f32 {
    (d.as_secs_f32() * 10.0).round() / 10.0
}

fn deferred() -> Extraction {
    Extraction {
        deferred: true,
        ..noted(DEFERRED_NOTE.to_string())
    }
}

/// What extraction made of one attachment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extraction {
    /// Paragraphs separated by an empty line, headings as `# …`.
    pub text: Option<String>,
    /// The document's first heading (or, without headings, a short first
    /// paragraph that more text follows).
    pub title: Option<String>,
    /// Why there is no text, or why it is incomplete.
    pub note: Option<String>,
    /// Not read yet: the batch's inline time was up.
    pub deferred: bool,
}

/// A reader gave up: the reason becomes the attachment's note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stop(pub String);

impl Stop {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Stop(reason.into())
    }
}

pub(crate) type Result<T> = std::result::Result<T, Stop>;

/// The limits of one extraction in progress.
pub(crate) struct Budget<'l> {
    limits: &'l ExtractLimits,
    deadline: Instant,
    inflated: u64,
}

impl<'l> Budget<'l> {
    fn new(limits: &'l ExtractLimits) -> Self {
        Self {
            limits,
            deadline: Instant::now() + limits.timeout,
            inflated: 0,
        }
    }

    pub(crate) fn tick(&self) -> Result<()> {
        if Instant::now() > self.deadline {
            return Err(Stop::new(format!(
                "took longer than {} s",
                seconds(self.limits.timeout)
            )));
        }
        Ok(())
    }

    /// Bytes still allowed to be inflated.
    pub(crate) fn inflate_room(&self) -> u64 {
        self.limits.max_inflated.saturating_sub(self.inflated)
    }

    pub(crate) fn inflated(&mut self, bytes: u64) -> Result<()> {
        self.inflated += bytes;
        if self.inflated > self.limits.max_inflated {
            return Err(Stop::new(format!(
                "expands to more than {} MiB (a zip bomb?)",
                self.limits.max_inflated / (1024 * 1024)
            )));
        }
        Ok(())
    }

    pub(crate) fn max_depth(&self) -> usize {
        self.limits.max_depth
    }

    pub(crate) fn max_text(&self) -> usize {
        self.limits.max_text
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Docx,
    Odt,
    Doc,
    Pdf,
    Rtf,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Docx => "DOCX",
            Kind::Odt => "ODT",
            Kind::Doc => "Word 97–2003",
            Kind::Pdf => "PDF",
            Kind::Rtf => "RTF",
        }
    }
}

/// The article text of an attachment, or `None` when it is not a document
/// this module reads (images, spreadsheets, archives…).
pub fn extract(
    content_type: &str,
    filename: Option<&str>,
    bytes: &[u8],
    limits: &ExtractLimits,
) -> Option<Extraction> {
    let claimed = claimed_kind(content_type, filename)?;
    let Some(kind) = sniff(bytes) else {
        return Some(noted(format!(
            "not extracted: the content is not a {} file",
            claimed.name()
        )));
    };
    Some(read(kind, bytes, limits))
}

/// The article of a document already known to be of `kind`.
fn read(kind: Kind, bytes: &[u8], limits: &ExtractLimits) -> Extraction {
    let mut budget = Budget::new(limits);
    let mut article = Article::new(limits.max_text);
    // The content decides the reader: Word saves RTF under .doc, WPS
    // saves .doc as .wps, and mail clients guess content types.
    let outcome = match kind {
        Kind::Docx => docx::read(bytes, &mut budget, &mut article),
        Kind::Odt => odt::read(bytes, &mut budget, &mut article),
        Kind::Doc => doc::read(bytes, &mut budget, &mut article),
        Kind::Pdf => pdf::read(bytes, &mut budget, &mut article),
        Kind::Rtf => rtf::read(bytes, &mut budget, &mut article),
    };
    let cut = article.was_cut();
    let (text, title) = article.finish();
    let note = match (outcome, text.is_some()) {
        (Err(Stop(reason)), false) => Some(format!("not extracted: {reason}")),
        (Err(Stop(reason)), true) => Some(format!("text incomplete: {reason}")),
        (Ok(()), _) if cut => Some(format!(
            "text cut at {} bytes (max_text_bytes)",
            limits.max_text
        )),
        (Ok(()), false) => Some(format!("no text found in the {} file", kind.name())),
        (Ok(()), true) => None,
    };
    Extraction {
        text,
        title,
        note,
        deferred: false,
    }
}

/// Each reader over bytes that need not look like its kind at all, so a
/// fuzzer reaches past the sniffing: `kind` is `docx`, `odt`, `doc`, `pdf`
/// or `rtf`.
#[doc(hidden)]
pub fn read_as(kind: &str, bytes: &[u8], limits: &ExtractLimits) -> Option<Extraction> {
    let kind = match kind {
        "docx" => Kind::Docx,
        "odt" => Kind::Odt,
        "doc" => Kind::Doc,
        "pdf" => Kind::Pdf,
        "rtf" => Kind::Rtf,
        _ => return None,
    };
    Some(read(kind, bytes, limits))
}

fn noted(note: String) -> Extraction {
    Extraction {
        note: Some(note),
        ..Extraction::default()
    }
}

/// The document type the sender says this is, by file extension, else by
/// content type.
fn claimed_kind(content_type: &str, filename: Option<&str>) -> Option<Kind> {
    let extension = filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, ext)| ext.trim().to_ascii_lowercase());
    let by_extension = match extension.as_deref() {
        Some("docx" | "docm" | "dotx") => Some(Kind::Docx),
        Some("odt" | "ott") => Some(Kind::Odt),
        Some("doc" | "dot" | "wps") => Some(Kind::Doc),
        Some("pdf") => Some(Kind::Pdf),
        Some("rtf") => Some(Kind::Rtf),
        _ => None,
    };
    by_extension.or_else(|| match content_type.to_ascii_lowercase().as_str() {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            Some(Kind::Docx)
        }
        "application/vnd.oasis.opendocument.text" => Some(Kind::Odt),
        "application/msword" | "application/vnd.ms-word" | "application/vnd.ms-works" => {
            Some(Kind::Doc)
        }
        "application/pdf" => Some(Kind::Pdf),
        "application/rtf" | "text/rtf" => Some(Kind::Rtf),
        _ => None,
    })
}

/// The document type the bytes are.
fn sniff(bytes: &[u8]) -> Option<Kind> {
    let start = &bytes[..bytes.len().min(1024)];
    if bytes.starts_with(b"PK\x03\x04") {
        return zipped::kind(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(Kind::Doc);
    }
    if bytes.starts_with(b"{\\rtf") {
        return Some(Kind::Rtf);
    }
    // Some writers put junk before the PDF header; readers allow 1 KiB.
    if memchr::memmem::find(start, b"%PDF-").is_some() {
        return Some(Kind::Pdf);
    }
    None
}

#[cfg(test)]
mod tests;
