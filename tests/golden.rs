//! Golden tests for `slushpile::message::parse`, in the style of Stalwart's
//! mail-parser: each `tests/fixtures/messages/NAME.eml` is parsed with LF
//! and with CRLF line endings and must match `NAME.json` either way.
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the .json files;
//! read the diff before committing it.

use std::path::{Path, PathBuf};

use slushpile::message::{ParseOptions, Parsed, attachment_content, parse};

fn options() -> ParseOptions {
    ParseOptions {
        max_parts: 256,
        max_depth: 12,
        own_addresses: vec!["submissions@example.org".to_string()],
        forwarders: vec!["editor@example.org".to_string()],
        ..ParseOptions::default()
    }
}

fn to_json(parsed: &Parsed) -> String {
    let value = serde_json::json!({
        "submission": parsed.submission,
        "quarantine": parsed.quarantine,
    });
    serde_json::to_string_pretty(&value).expect("serializable") + "\n"
}

fn lf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, &b) in raw.iter().enumerate() {
        if !(b == b'\r' && raw.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
    for &b in &lf(raw) {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messages");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no fixtures in {}", dir.display());
    paths
}

#[test]
fn golden() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for eml in fixtures() {
        let name = eml
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_string();
        let raw = std::fs::read(&eml).expect("read fixture");
        let (raw_lf, raw_crlf) = (lf(&raw), crlf(&raw));
        let from_lf = parse(&raw_lf, &options());
        let from_crlf = parse(&raw_crlf, &options());
        let json_lf = to_json(&from_lf);
        let json_crlf = to_json(&without_line_end_dependent(
            &from_crlf,
            &from_lf,
            &raw_crlf,
            &raw_lf,
            &name,
            &mut failures,
        ));
        if json_lf != json_crlf {
            failures.push(format!(
                "{name}: LF and CRLF differ\n--- LF\n{json_lf}\n--- CRLF\n{json_crlf}"
            ));
            continue;
        }
        for (variant, parsed) in [(&raw_lf, &from_lf), (&raw_crlf, &from_crlf)] {
            check_attachment_content(&name, variant, parsed, &mut failures);
        }
        let expected_path = eml.with_extension("json");
        if update {
            std::fs::write(&expected_path, &json_lf).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == json_lf => {}
            Ok(expected) => failures.push(format!(
                "{name}: mismatch\n--- expected\n{expected}\n--- actual\n{json_lf}"
            )),
            Err(e) => failures.push(format!("{name}: no {} ({e})", expected_path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The CRLF parse with each attachment whose bytes are the message's own
/// lines (a forwarded `.eml`, an unencoded text file) given the LF size and
/// hash, once its served bytes are checked to be exactly the LF ones with
/// CRLF line ends: such content rightly differs between the two variants.
fn without_line_end_dependent(
    crlf_parsed: &Parsed,
    lf_parsed: &Parsed,
    raw_crlf: &[u8],
    raw_lf: &[u8],
    name: &str,
    failures: &mut Vec<String>,
) -> Parsed {
    let mut out = crlf_parsed.clone();
    for (att, lf_att) in out
        .submission
        .attachments
        .iter_mut()
        .zip(&lf_parsed.submission.attachments)
    {
        if att.sha256 == lf_att.sha256 {
            continue;
        }
        let served = |raw: &[u8]| attachment_content(raw, att.index).map(|(_, b)| b);
        match (served(raw_lf), served(raw_crlf)) {
            (Some(lf_bytes), Some(crlf_bytes)) if crlf(&lf_bytes) == crlf_bytes => {
                att.size = lf_att.size;
                att.sha256 = lf_att.sha256.clone();
            }
            _ => failures.push(format!(
                "{name}: attachment {} differs between LF and CRLF beyond line ends",
                att.path
            )),
        }
    }
    out
}

/// `attachment_content` must serve exactly what `parse` listed.
fn check_attachment_content(name: &str, raw: &[u8], parsed: &Parsed, failures: &mut Vec<String>) {
    for listed in &parsed.submission.attachments {
        // Serving an attachment does not read the article in it.
        let listed = &slushpile::message::Attachment {
            article_text: None,
            extraction_note: None,
            ..listed.clone()
        };
        match attachment_content(raw, listed.index) {
            Some((att, bytes)) => {
                if &att != listed || bytes.len() as u64 != listed.size {
                    failures.push(format!(
                        "{name}: attachment {} differs: {att:?} vs {listed:?}",
                        listed.index
                    ));
                }
            }
            None => failures.push(format!("{name}: attachment {} not served", listed.index)),
        }
    }
    let past_end = parsed.submission.attachments.len() as u32;
    if attachment_content(raw, past_end).is_some() {
        failures.push(format!(
            "{name}: attachment index {past_end} served past the end"
        ));
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let samples: Vec<Vec<u8>> = fixtures()
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    for round in 0..400 {
        let mut data = samples[round % samples.len()].clone();
        for _ in 0..8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if data.is_empty() {
                break;
            }
            let at = (seed as usize) % data.len();
            match seed % 3 {
                0 => data[at] = (seed >> 24) as u8,
                1 => data.truncate(at),
                _ => {
                    const NASTY: &[u8] = b"=?\"\\;*%~{\r\n";
                    data.insert(at, NASTY[(seed as usize >> 8) % NASTY.len()]);
                }
            }
        }
        let parsed = parse(&data, &options());
        assert_ne!(
            parsed.quarantine.as_deref(),
            Some("parser panicked"),
            "round {round}"
        );
        for a in &parsed.submission.attachments {
            let _ = attachment_content(&data, a.index);
        }
    }
}
