//! The CPU that ingesting this corpus cannot go below, whatever the store:
//! each step an invariant requires, timed alone in this process over the
//! same messages. Hashing is the content address, parsing makes the draft,
//! one durable write is the record; the raw client's fetch comes on top.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use slushpile::message::{self, ParseOptions};

/// The default `[limits] batch_bytes`: one fdatasync per batch.
const SYNC_EVERY: u64 = 2 * 1024 * 1024;

#[derive(Debug, Clone, Copy, Default)]
pub struct Floor {
    /// sha256 of every message's bytes (the content address).
    pub hash: f64,
    /// `message::parse` with the default options: MIME structure, base64
    /// and charset decoding, attachment sha256, article extraction.
    pub parse: f64,
    /// Of `parse`: mail-parser's own parse (structure and decoding).
    pub mail_parser: f64,
    /// Appending every message to one file, fdatasync per 2 MiB.
    pub write: f64,
}

impl Floor {
    pub fn total(&self) -> f64 {
        self.hash + self.parse + self.write
    }

    /// Step by step, the median over rounds.
    pub fn median(rounds: &[Floor]) -> Floor {
        let of = |step: fn(&Floor) -> f64| super::median(rounds.iter().map(step).collect());
        Floor {
            hash: of(|f| f.hash),
            parse: of(|f| f.parse),
            mail_parser: of(|f| f.mail_parser),
            write: of(|f| f.write),
        }
    }
}

/// Times each step per message with this thread's CPU clock (user +
/// system), so reading the corpus files is left out. The bytes are written
/// to an unnamed file in the temp dir, where the benchmark's stores live.
pub fn measure(files: &[PathBuf]) -> Floor {
    let options = ParseOptions::default();
    let parser = mail_parser::MessageParser::default();
    let mut out = tempfile::tempfile().expect("pack file");
    let (mut floor, mut unsynced) = (Floor::default(), 0u64);
    for path in files {
        let raw = fs::read(path).expect("corpus message");
        floor.hash += timed(|| {
            std::hint::black_box(Sha256::digest(&raw));
        });
        floor.mail_parser += timed(|| {
            std::hint::black_box(parser.parse(&raw[..]));
        });
        floor.parse += timed(|| {
            std::hint::black_box(message::parse(&raw, &options));
        });
        floor.write += timed(|| {
            out.write_all(&raw).expect("write pack");
            unsynced += raw.len() as u64;
            if unsynced >= SYNC_EVERY {
                out.sync_data().expect("fdatasync pack");
                unsynced = 0;
            }
        });
    }
    floor.write += timed(|| out.sync_data().expect("fdatasync pack"));
    floor
}

fn timed(work: impl FnOnce()) -> f64 {
    let start = thread_cpu();
    work();
    thread_cpu() - start
}

fn thread_cpu() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}
