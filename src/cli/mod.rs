//! Command line: parses arguments, loads the config, dispatches. Exit codes
//! follow sysexits(3); see README.md for the table.

mod drafts;
mod drafts_command;
mod editors;
mod import;
mod ingest;
mod process;
mod store_ops;
mod workflow;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, ConfigError};
use drafts_command::DraftsCommand;

pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 64;
    pub const NOINPUT: u8 = 66;
    pub const SOFTWARE: u8 = 70;
    pub const TEMPFAIL: u8 = 75;
    pub const CONFIG: u8 = 78;
}

#[derive(Debug, Parser)]
#[command(
    name = "slushpile",
    version,
    about = "Turns a submissions mailbox into an editors' draft queue"
)]
pub struct Cli {
    /// Config file [default: $SLUSHPILE_CONFIG, else /etc/slushpile/slushpile.toml]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon: watch every configured source until SIGTERM.
    Run {
        /// Sync every source once, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Store .eml files, or one message from stdin (for an MTA pipe).
    Ingest {
        /// Files to read; none (or `-`) reads one message from stdin.
        files: Vec<PathBuf>,
        /// Source name recorded on the drafts.
        #[arg(long, default_value = "ingest")]
        mailbox: String,
    },
    /// Bring an mbox or Maildir archive in: drafts without
    /// acknowledgements, idempotent, resumable after an interruption.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Create or upgrade the store schema (`run` does this too).
    Migrate,
    /// Look at and work on drafts.
    #[command(subcommand)]
    Drafts(DraftsCommand),
    /// Take work from the queue.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Editors and their tokens.
    #[command(subcommand)]
    Editors(EditorsCommand),
    /// Rebuild every derived field from the stored raw messages.
    Reparse,
    /// Try every mailbox, the SMTP server, the store and the templates for
    /// real (nothing is sent, moved or created) and report.
    Check,
    /// Manage the store itself.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Write a consistent backup of an SQLite store and its packs into a
    /// new directory (ingestion goes on meanwhile).
    Backup { dir: PathBuf },
    /// Put a backup where the configured SQLite store lives (which must
    /// not exist yet), then verify every raw message.
    Restore { dir: PathBuf },
    /// Read every stored raw message back and re-hash it against its
    /// address; exits 1 when one is damaged or missing.
    Verify,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Copy everything from one store into an empty one (e.g. SQLite →
    /// PostgreSQL), then check row counts and every raw message's hash.
    Copy {
        #[arg(long, value_name = "URL")]
        from: String,
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
enum QueueCommand {
    /// Claim the oldest unclaimed drafts for an editor, with a lease
    /// (`general.claim_lease`).
    Claim {
        /// The editor claiming (see `editors list`).
        #[arg(long = "as", value_name = "EDITOR")]
        actor: String,
        #[arg(long, default_value_t = 1)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum EditorsCommand {
    /// Add an editor; prints their token once, on the last line.
    Add {
        name: String,
        #[arg(long, default_value = "editor")]
        role: crate::workflow::Role,
    },
    /// Revoke an editor's token and end their web sessions.
    Revoke { name: String },
    /// List editors (never their tokens).
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn main() -> ExitCode {
    process::tune_malloc();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("slushpile: cannot start the async runtime: {e}");
            return ExitCode::from(exit::SOFTWARE);
        }
    };
    ExitCode::from(runtime.block_on(dispatch(cli)))
}

async fn dispatch(cli: Cli) -> u8 {
    let path = config::locate(cli.config.as_deref());
    if let Command::Ingest { files, mailbox } = &cli.command {
        return ingest::run(&path, files, mailbox).await;
    }
    if let Command::Store(StoreCommand::Copy { from, to }) = &cli.command {
        // Both ends are named on the command line: no config file needed.
        return match store_ops::copy(from, to).await {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("slushpile: error: {e:#}");
                exit::FAILURE
            }
        };
    }
    // Only the daemon needs every password to start; `check` reads each it
    // can and reports the others; the rest read none.
    let needs_secrets = matches!(cli.command, Command::Run { .. });
    let loaded = if needs_secrets {
        Config::load(&path)
    } else {
        Config::load_without_secrets(&path)
    };
    let config = match loaded {
        Ok(config) => config,
        Err(e) => {
            eprintln!("slushpile: {e}");
            return exit::CONFIG;
        }
    };
    let daemon = matches!(cli.command, Command::Run { .. });
    process::init_logging(&config, daemon);
    let result = match cli.command {
        Command::Run { once: false } => crate::daemon::run(&config).await,
        Command::Run { once: true } => crate::daemon::run_once(&config).await,
        Command::Migrate => migrate(&config).await,
        Command::Reparse => reparse(&config).await,
        Command::Check => {
            let mut config = config;
            let unreadable = config.resolve_secrets_each();
            let findings = crate::check::run(&config, &unreadable).await;
            let (report, passed) = crate::check::report(&findings);
            print!("{report}");
            if passed {
                Ok(())
            } else {
                Err(anyhow::anyhow!("some checks failed"))
            }
        }
        Command::Drafts(
            command @ (DraftsCommand::Transition { .. }
            | DraftsCommand::Assign { .. }
            | DraftsCommand::Comment { .. }
            | DraftsCommand::Renew { .. }
            | DraftsCommand::TakeOver { .. }
            | DraftsCommand::Edit { .. }
            | DraftsCommand::Purge { .. }),
        ) => workflow::change(&config, command).await,
        Command::Drafts(command) => drafts::run(&config, command).await,
        Command::Queue(command) => workflow::queue(&config, command).await,
        Command::Import(command) => return import::run(&config, command).await,
        Command::Editors(command) => editors::run(&config, command).await,
        Command::Backup { dir } => store_ops::backup(&config, &dir).await,
        Command::Restore { dir } => store_ops::restore(&config, &dir).await,
        Command::Verify => store_ops::verify(&config).await,
        Command::Ingest { .. } | Command::Store(_) => unreachable!("handled above"),
    };
    match result {
        Ok(()) => exit::OK,
        // `drafts show 4 | head`: the reader had enough, which is a normal end.
        Err(e) if closed_pipe(&e) => exit::OK,
        // Configuration found wrong once running (a template, a missing
        // source): the unit stops restarting on 78.
        Err(e)
            if e.downcast_ref::<crate::ack::template::TemplateError>()
                .is_some()
                || e.downcast_ref::<ConfigError>().is_some() =>
        {
            eprintln!("slushpile: {e:#}");
            exit::CONFIG
        }
        Err(e) => {
            eprintln!("slushpile: error: {e:#}");
            exit::FAILURE
        }
    }
}

/// Whether `error` is stdout's reader having gone away.
fn closed_pipe(error: &anyhow::Error) -> bool {
    let broken = |kind: Option<std::io::ErrorKind>| kind == Some(std::io::ErrorKind::BrokenPipe);
    error.chain().any(|cause| {
        broken(cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind))
            // `--json` writes through serde_json, which wraps the error.
            || broken(cause.downcast_ref::<serde_json::Error>().and_then(|e| e.io_error_kind()))
    })
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = crate::daemon::open_store(config).await?;
    store.close().await;
    println!(
        "store {} is up to date",
        crate::store::redact(&config.store.url)
    );
    Ok(())
}

async fn reparse(config: &Config) -> anyhow::Result<()> {
    let store = crate::daemon::open_store(config).await?;
    let report = store.reparse(&config.parse_options()).await?;
    store.close().await;
    println!(
        "reparsed {} messages and {} contributors' follow-ups; {} released from quarantine; \
         {} without raw bytes skipped",
        report.reparsed, report.follow_ups, report.released, report.skipped
    );
    Ok(())
}
