//! Golden documents (`tests/fixtures/documents/NAME` → `NAME.txt`, the
//! expected article text, its title on the first line) and hostile ones
//! built here: each gives a note with its reason, never a panic.

use std::io::Write;
use std::path::PathBuf;

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/documents")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn extract_file(name: &str, bytes: &[u8]) -> Extraction {
    extract(
        "application/octet-stream",
        Some(name),
        bytes,
        &ExtractLimits::default(),
    )
    .unwrap_or_else(|| panic!("{name} is not read as a document"))
}

/// `title\n\ntext`, as the golden files hold it.
fn golden_form(x: &Extraction) -> String {
    format!(
        "title: {}\n\n{}\n",
        x.title.as_deref().unwrap_or("(none)"),
        x.text.as_deref().unwrap_or("")
    )
}

#[test]
fn golden_documents() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for name in [
        "article.docx",
        "article.odt",
        "article.doc",
        "article.pdf",
        "article.rtf",
        "gbk.rtf",
    ] {
        let x = extract_file(name, &fixture(name));
        assert_eq!(x.note, None, "{name}");
        let got = golden_form(&x);
        let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/documents")
            .join(format!("{name}.txt"));
        if update {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            failures.push(format!("{name}:\n--- got\n{got}\n--- want\n{want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_content_decides_the_reader_not_the_name() {
    // Word saves RTF under .doc; a .docx that is really a PDF is a PDF.
    let x = extract_file("saved-by-word.doc", &fixture("gbk.rtf"));
    assert_eq!(x.title.as_deref(), Some("诗三首"));
    let x = extract_file("misnamed.docx", &fixture("article.pdf"));
    assert!(x.text.is_some_and(|t| t.contains("教師司")));
    // Not a document type at all: not read.
    assert_eq!(
        extract(
            "image/png",
            Some("a.png"),
            b"\x89PNG",
            &ExtractLimits::default()
        ),
        None
    );
    // Claims to be one, but is not.
    let x = extract_file("essay.docx", b"just text");
    assert_eq!(
        x.note.as_deref(),
        Some("not extracted: the content is not a DOCX file")
    );
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

fn note(name: &str, bytes: &[u8]) -> String {
    let x = extract_file(name, bytes);
    x.note
        .unwrap_or_else(|| panic!("{name}: no note, text {:?}", x.text))
}

#[test]
fn a_zip_bomb_is_noted_not_inflated() {
    let mut xml = b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>".to_vec();
    xml.resize(200 * 1024 * 1024, b'a');
    let bomb = zip_of(&[("word/document.xml", &xml)]);
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    assert_eq!(
        note("bomb.docx", &bomb),
        "not extracted: expands to more than 32 MiB (a zip bomb?)"
    );
}

#[test]
fn hostile_and_broken_documents_get_a_reason() {
    let deep = "<a>".repeat(10_000);
    let deep_docx = zip_of(&[("word/document.xml", deep.as_bytes())]);
    assert_eq!(
        note("deep.docx", &deep_docx),
        "not extracted: word/document.xml: XML nested deeper than 256"
    );
    let broken_xml = zip_of(&[("word/document.xml", b"<w:document><w:body></w:p>")]);
    assert!(
        note("broken.docx", &broken_xml)
            .starts_with("not extracted: word/document.xml: malformed XML")
    );
    let no_body = zip_of(&[("word/document.xml", b"<w:document/>")]);
    assert_eq!(
        note("empty.docx", &no_body),
        "no text found in the DOCX file"
    );

    let pdf = fixture("article.pdf");
    assert!(note("cut.pdf", &pdf[..pdf.len() / 3]).starts_with("not extracted: unreadable PDF"));

    let mut doc = fixture("article.doc");
    doc.truncate(doc.len() / 2);
    assert!(note("cut.doc", &doc).starts_with("not extracted:"));
    let mut ole = fixture("article.doc");
    ole[600..].iter_mut().for_each(|b| *b = 0xFF);
    assert!(note("garbage.doc", &ole).starts_with("not extracted:"));

    let deep_rtf = format!("{{\\rtf1 {}", "{".repeat(100_000));
    assert_eq!(
        note("deep.rtf", deep_rtf.as_bytes()),
        "not extracted: groups nested deeper than 256"
    );
}

#[test]
fn time_and_text_limits_are_kept() {
    let limits = ExtractLimits {
        max_text: 300,
        ..ExtractLimits::default()
    };
    let x = extract("", Some("a.docx"), &fixture("article.docx"), &limits).unwrap();
    assert_eq!(
        x.note.as_deref(),
        Some("text cut at 300 bytes (max_text_bytes)")
    );
    assert!(x.text.is_some_and(|t| t.len() <= 310));
    let limits = ExtractLimits {
        timeout: std::time::Duration::ZERO,
        ..ExtractLimits::default()
    };
    let x = extract("", Some("a.pdf"), &fixture("article.pdf"), &limits).unwrap();
    assert_eq!(
        x.note.as_deref(),
        Some("not extracted: took longer than 0 s")
    );
}

#[test]
fn the_documents_of_one_message_share_its_time() {
    let limits = ExtractLimits {
        message_timeout: std::time::Duration::ZERO,
        ..ExtractLimits::default()
    };
    let budget = MessageBudget::start(&limits, None);
    let pdf = fixture("article.pdf");
    let x = extract_within("", Some("a.pdf"), &pdf, &limits, &budget).unwrap();
    assert_eq!(
        x.note.as_deref(),
        Some(
            "not extracted: the message's documents used up their time together (message_timeout)"
        )
    );
    // What is no document gets no note.
    assert!(extract_within("image/png", Some("a.png"), b"png", &limits, &budget).is_none());
    // With time left, each document gets at most what the message has.
    let budget = MessageBudget::start(&ExtractLimits::default(), None);
    let x = extract_within("", Some("a.pdf"), &pdf, &ExtractLimits::default(), &budget).unwrap();
    assert!(x.text.is_some() && x.note.is_none(), "{x:?}");
}

#[test]
fn a_note_gives_seconds_to_a_tenth() {
    use std::time::Duration;
    assert_eq!(seconds(Duration::from_micros(4_924_768)).to_string(), "4.9");
    assert_eq!(seconds(Duration::from_secs(10)).to_string(), "10");
}

#[test]
fn documents_past_the_batch_deadline_are_deferred_not_noted() {
    let limits = ExtractLimits::default();
    let pdf = fixture("article.pdf");
    let past = std::time::Instant::now();
    let budget = MessageBudget::start(&limits, Some(past));
    let x = extract_within("", Some("a.pdf"), &pdf, &limits, &budget).unwrap();
    assert!(x.deferred && x.text.is_none(), "{x:?}");
    assert_eq!(x.note.as_deref(), Some(DEFERRED_NOTE));
    // A deadline far off changes nothing.
    let later = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let budget = MessageBudget::start(&limits, Some(later));
    let x = extract_within("", Some("a.pdf"), &pdf, &limits, &budget).unwrap();
    assert!(!x.deferred && x.text.is_some() && x.note.is_none(), "{x:?}");
}
