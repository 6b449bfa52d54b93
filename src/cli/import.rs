//! `slushpile import mbox FILE…` / `import maildir DIR`: the archive, a
//! progress display (a bar on a terminal, plain lines otherwise) and a
//! summary. Ctrl-C stops after the batches already handed over commit; the
//! same command then resumes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use super::exit;
use crate::config::Config;
use crate::import::{ArchiveKind, Import, NO_ACK_REASON, Progress, Summary};
use crate::ingest::{Ingestor, Settings};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// One or more mbox files (mboxrd/mboxo, as mail clients export them).
    Mbox {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        options: ImportOptions,
    },
    /// A Maildir: the messages in its cur/ and new/ (left in place).
    Maildir {
        dir: PathBuf,
        #[command(flatten)]
        options: ImportOptions,
    },
}

#[derive(Debug, Args)]
pub struct ImportOptions {
    /// Source name recorded on the drafts.
    #[arg(long, default_value = "import")]
    mailbox: String,
    /// Parse and report what would be imported; write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Exit status after an interruption, as shells report SIGINT.
const INTERRUPTED: u8 = 130;

pub async fn run(config: &Config, command: ImportCommand) -> u8 {
    let (kind, paths, options) = match command {
        ImportCommand::Mbox { files, options } => (ArchiveKind::Mbox, files, options),
        ImportCommand::Maildir { dir, options } => (ArchiveKind::Maildir, vec![dir], options),
    };
    let store = match crate::daemon::open_store(config).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("slushpile: {e:#}");
            return exit::TEMPFAIL;
        }
    };
    let mut ingestor = Ingestor::new(store.clone(), config);
    ingestor.settings = Arc::new(Settings {
        suppress_acks: Some(NO_ACK_REASON.into()),
        ..Settings::from_config(config)
    });
    // Old signatures judged against today's DNS (keys rotate, records
    // change) would mislead, and an archive would cost thousands of
    // lookups; a trusted Authentication-Results header still counts.
    ingestor.verifier = None;
    let stop = Arc::new(AtomicBool::new(false));
    tokio::spawn(stop_on_signal(stop.clone()));
    let import = Import {
        ingestor: &ingestor,
        mailbox: &options.mailbox,
        dry_run: options.dry_run,
        stop: &stop,
    };
    let mut status = exit::OK;
    for path in &paths {
        let mut display = Display::new(&path.display().to_string());
        let result = import.run(kind, path, &mut |p| display.show(p)).await;
        display.finish();
        match result {
            Ok(summary) => {
                print!(
                    "{}",
                    report(&path.display().to_string(), &summary, options.dry_run)
                );
                if summary.interrupted {
                    println!("interrupted: run the same command again to resume");
                    status = INTERRUPTED;
                    break;
                }
            }
            Err(e) => {
                eprintln!("slushpile: import failed: {e}");
                status = exit::FAILURE;
            }
        }
    }
    store.close().await;
    status
}

async fn stop_on_signal(stop: Arc<AtomicBool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    stop.store(true, Ordering::Relaxed);
    eprintln!("\nslushpile: stopping after the batches in flight commit…");
}

/// The summary printed at the end of each archive.
fn report(name: &str, summary: &Summary, dry_run: bool) -> String {
    let mut out = String::new();
    let verb = if dry_run { "would import" } else { "imported" };
    out.push_str(&format!(
        "{name}: {verb} {} new, {} duplicates, {} follow-ups, {} quarantined",
        summary.new,
        summary.duplicates,
        summary.follow_ups,
        summary.quarantined.len()
    ));
    if summary.resumed_after > 0 {
        out.push_str(&format!(
            " (resumed after {} messages committed earlier)",
            summary.resumed_after
        ));
    }
    out.push('\n');
    for q in &summary.quarantined {
        let stored = if q.reference.is_empty() {
            String::new()
        } else {
            format!(" as {}", q.reference)
        };
        out.push_str(&format!(
            "  quarantined {}{stored}: {}\n",
            q.location, q.reason
        ));
    }
    out
}

/// A bar redrawn in place on a terminal; a plain line every few seconds
/// when stderr is a file or a pipe.
pub(super) struct Display {
    name: String,
    terminal: bool,
    started: Instant,
    last: Option<Instant>,
    latest: Progress,
}

impl Display {
    pub(super) fn new(name: &str) -> Display {
        Display {
            name: name.to_string(),
            terminal: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last: None,
            latest: Progress::default(),
        }
    }

    pub(super) fn show(&mut self, progress: Progress) {
        self.latest = progress;
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(2)
        };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        self.draw();
    }

    fn draw(&self) {
        let line = progress_line(&self.name, &self.latest, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    pub(super) fn finish(&self) {
        self.draw();
        if self.terminal {
            eprintln!();
        }
    }
}

fn progress_line(name: &str, p: &Progress, elapsed: Duration) -> String {
    const WIDTH: usize = 24;
    let fraction = if p.total_bytes == 0 {
        1.0
    } else {
        (p.bytes as f64 / p.total_bytes as f64).min(1.0)
    };
    let filled = (fraction * WIDTH as f64).round() as usize;
    let seconds = elapsed.as_secs_f64().max(1e-3);
    let rate = p.bytes as f64 / seconds;
    let eta = if rate > 0.0 && p.bytes < p.total_bytes {
        let left = (p.total_bytes - p.bytes) as f64 / rate;
        format!("ETA {}m{:02}s", left as u64 / 60, left as u64 % 60)
    } else {
        "ETA -".to_string()
    };
    format!(
        "{name} [{}{}] {:>3.0}% {} messages, {:.1}/{:.1} MB, {:.1} MB/s, {:.0} msg/s, {eta}",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        fraction * 100.0,
        p.messages,
        p.bytes as f64 / 1e6,
        p.total_bytes as f64 / 1e6,
        rate / 1e6,
        p.messages as f64 / seconds,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Quarantined;

    #[test]
    fn the_progress_line_has_percent_rate_and_eta() {
        let p = Progress {
            messages: 500,
            bytes: 25_000_000,
            total_bytes: 100_000_000,
        };
        let line = progress_line("a.mbox", &p, Duration::from_secs(10));
        assert!(line.starts_with("a.mbox [######                  ]  25% 500 messages, 25.0/100.0 MB, 2.5 MB/s, 50 msg/s, ETA 0m30s"), "{line}");
    }

    #[test]
    fn the_summary_names_each_quarantined_message_and_its_reason() {
        let summary = Summary {
            resumed_after: 10,
            new: 3,
            duplicates: 2,
            quarantined: vec![Quarantined {
                location: "a.mbox#4".into(),
                reference: "SP-20261203-0004".into(),
                reason: "too_big: 9 bytes > limit 8 bytes".into(),
            }],
            ..Summary::default()
        };
        assert_eq!(
            report("a.mbox", &summary, false),
            "a.mbox: imported 3 new, 2 duplicates, 0 follow-ups, 1 quarantined (resumed after 10 messages committed earlier)\n\
             \x20 quarantined a.mbox#4 as SP-20261203-0004: too_big: 9 bytes > limit 8 bytes\n"
        );
    }
}
