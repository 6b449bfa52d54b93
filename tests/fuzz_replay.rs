//! Replays every committed fuzz input on stable: the seed corpus
//! (fuzz/seeds) and the minimised inputs that once crashed a target
//! (fuzz/regressions), each through the same entry point its fuzz target
//! calls. A regression fails this test by panicking; the names of the
//! inputs replayed are checked so a moved directory cannot make it vacuous.

use std::fs;
use std::path::Path;

use slushpile::import::mbox::split_in_memory;
use slushpile::message::fuzzing;

/// What a fuzz target runs on one input.
type Entry = fn(&[u8]);

/// A target's name and what its fuzz_targets/ file runs.
const TARGETS: &[(&str, Entry)] = &[
    ("message", fuzzing::message),
    ("html", fuzzing::html),
    ("header_words", fuzzing::header_words),
    ("charsets", fuzzing::charsets),
    ("docx", |b| fuzzing::document("docx", b)),
    ("odt", |b| fuzzing::document("odt", b)),
    ("doc", |b| fuzzing::document("doc", b)),
    ("pdf", |b| fuzzing::document("pdf", b)),
    ("rtf", |b| fuzzing::document("rtf", b)),
    ("mbox", |b| {
        split_in_memory(b, 4096);
    }),
];

fn inputs(kind: &str, target: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let mut replayed = 0;
    for (target, run) in TARGETS {
        for path in inputs(kind, target) {
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            eprintln!("{kind}/{target}: {}", path.display());
            run(&bytes);
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn every_seed_runs_through_its_target() {
    assert!(replay("seeds") >= TARGETS.len(), "each target has seeds");
    for (target, _) in TARGETS {
        assert!(!inputs("seeds", target).is_empty(), "no seeds for {target}");
    }
}

#[test]
fn every_input_that_once_crashed_a_target_now_passes() {
    // Each replay panics if the fix it records has come undone.
    assert!(
        replay("regressions") >= 1,
        "fuzz/regressions holds the findings"
    );
}
