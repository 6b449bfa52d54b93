//! `slushpile ingest`: .eml files, or one message on stdin from an MTA.
//! Reading stdin, every failure but bad usage exits 75 (EX_TEMPFAIL) so the
//! MTA keeps the mail and retries instead of bouncing the contributor.

use std::path::{Path, PathBuf};

use tokio::io::AsyncReadExt;

use super::exit;
use crate::config::Config;
use crate::ingest::{Fetched, FetchedBody, Ingestor};
use crate::message::header_section;
use crate::store::{IngestOutcome, SourceLocation};

pub async fn run(config_path: &Path, files: &[PathBuf], mailbox: &str) -> u8 {
    let from_stdin = files.is_empty() || (files.len() == 1 && files[0].as_os_str() == "-");
    if from_stdin {
        // Even a bug must not make the MTA bounce a submission.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("slushpile: internal error: {info}");
            std::process::exit(i32::from(exit::TEMPFAIL));
        }));
    }
    let fail = |code: u8| if from_stdin { exit::TEMPFAIL } else { code };
    let config = match Config::load_without_secrets(config_path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("slushpile: {e}");
            return fail(exit::CONFIG);
        }
    };
    super::process::init_logging(&config, false);
    let max = config.limits.max_message_bytes;

    let mut batch = Vec::new();
    let mut unreadable = false;
    if from_stdin {
        match read_stdin(max).await {
            Ok(body) => batch.push(Fetched {
                location: SourceLocation::File("-".into()),
                internal_date: None,
                body,
            }),
            Err(e) => {
                eprintln!("slushpile: cannot read stdin: {e}");
                return exit::TEMPFAIL;
            }
        }
    } else {
        for file in files {
            match read_file(file, max).await {
                Ok(body) => batch.push(Fetched {
                    location: SourceLocation::File(file.display().to_string()),
                    internal_date: None,
                    body,
                }),
                Err(e) => {
                    eprintln!("slushpile: cannot read {}: {e}", file.display());
                    unreadable = true;
                }
            }
        }
    }

    let store = match crate::daemon::open_store(&config).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("slushpile: {e:#}");
            return exit::TEMPFAIL;
        }
    };
    let names: Vec<String> = batch.iter().map(|f| f.location.name()).collect();
    let ingestor = Ingestor::new(store.clone(), &config);
    let result = ingestor.ingest(mailbox, batch, None).await;
    store.close().await;
    match result {
        Ok(outcomes) => {
            for (name, outcome) in names.iter().zip(outcomes) {
                match outcome {
                    IngestOutcome::Created {
                        reference,
                        quarantined: false,
                        ..
                    } => {
                        println!("{name}: stored as {reference}")
                    }
                    IngestOutcome::Created {
                        reference,
                        quarantined: true,
                        ..
                    } => {
                        println!("{name}: quarantined as {reference}")
                    }
                    IngestOutcome::SeenAgain { reference, .. } => {
                        println!("{name}: seen again, already {reference}")
                    }
                    IngestOutcome::FollowUp { reference, .. } => {
                        println!("{name}: follow-up to {reference}")
                    }
                }
            }
            if unreadable { exit::NOINPUT } else { exit::OK }
        }
        Err(e) => {
            eprintln!("slushpile: storing failed: {e}");
            exit::TEMPFAIL
        }
    }
}

async fn read_file(path: &Path, max: u64) -> std::io::Result<FetchedBody> {
    read_bounded(tokio::fs::File::open(path).await?, max).await
}

async fn read_stdin(max: u64) -> std::io::Result<FetchedBody> {
    read_bounded(tokio::io::stdin(), max).await
}

/// Reads at most `max` bytes into memory; past that keeps only the headers
/// and counts the rest, so a huge message cannot exhaust memory.
async fn read_bounded(
    reader: impl tokio::io::AsyncRead + Unpin,
    max: u64,
) -> std::io::Result<FetchedBody> {
    let mut limited = reader.take(max + 1);
    let mut bytes = Vec::new();
    limited.read_to_end(&mut bytes).await?;
    if bytes.len() as u64 <= max {
        return Ok(FetchedBody::Full(bytes));
    }
    let rest = tokio::io::copy(&mut limited.into_inner(), &mut tokio::io::sink()).await?;
    let size = bytes.len() as u64 + rest;
    let headers = header_section(&bytes).to_vec();
    Ok(FetchedBody::TooBig { headers, size })
}
