//! Setting up the process: the allocator's tuning and where logs go.

use crate::config::{self, Config};

/// glibc's defaults cost both memory and time with multi-megabyte messages
/// passing between threads (measured with scripts/bench, 10k messages):
/// - each thread allocating under contention gets an arena of its own and
///   keeps freed memory there: one arena keeps peak RSS flat;
/// - the dynamic mmap threshold and heap trimming return freed megabytes to
///   the kernel only to fault them in again for the next batch (160k page
///   faults, a tenth of the CPU time; 14k now): buffers up to 32 MiB come from the
///   heap, which keeps up to 64 MiB of free memory at its top.
pub(super) fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

/// Logs go to stderr; the daemon logs at the configured level, one-shot
/// commands only warnings so their stdout stays clean for scripts.
pub(super) fn init_logging(config: &Config, daemon: bool) {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::prelude::*;
    let level = if daemon {
        config.log.level.as_str()
    } else {
        "warn"
    };
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    if daemon && (config.log.format == config::LogFormat::Journald || stderr_is_journal()) {
        match tracing_journald::layer() {
            Ok(journal) => {
                let _ = tracing_subscriber::registry()
                    .with(filter())
                    .with(journal)
                    .try_init();
                return;
            }
            Err(e) => eprintln!("slushpile: journal unavailable ({e}); logging to stderr"),
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match config.log.format {
        config::LogFormat::Json => builder.json().try_init(),
        config::LogFormat::Text | config::LogFormat::Journald => builder.try_init(),
    };
}

/// systemd sets JOURNAL_STREAM=DEV:INODE when stdout/stderr go to the
/// journal; it only counts if stderr is still that very stream.
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(stream) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(stderr) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    stream == format!("{}:{}", stderr.dev(), stderr.ino())
}
