//! Task supervision: one task per source, shutdown on SIGTERM/SIGINT with a
//! bounded grace period in which the batch in flight finishes or rolls back.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::ack::outbox::Outbox;
use crate::config::Config;
use crate::ingest::Ingestor;
use crate::store::Store;
use crate::{mailbox, maildir};

/// How long sources get to finish their batch after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// This process's name in logs, events and PostgreSQL's application_name.
pub fn instance_name(config: &Config) -> String {
    config
        .general
        .instance
        .clone()
        .unwrap_or_else(default_instance)
}

pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open_migrated(&config.store.url, config.time_zone(), instance_name(config))
        .await
        .with_context(|| format!("store configured in {}", config.file.display()))
}

fn default_instance() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{}:{}", host.trim(), std::process::id())
}

/// Runs every configured source until SIGTERM or SIGINT.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let span = tracing::info_span!("slushpile", instance = %instance_name(config));
    supervise(config).instrument(span).await
}

async fn supervise(config: &Config) -> anyhow::Result<()> {
    if config.mailboxes.is_empty() && config.maildirs.is_empty() {
        bail!(
            "no sources configured: add a [[mailbox]] or [[maildir]] to {}",
            config.file.display()
        );
    }
    let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let store = open_store(config).await?;
    // Before any mail is read: a broken template must stop the start, not
    // the first acknowledgement.
    let outbox = Outbox::from_config(config, store.clone(), instance_name(config))?;
    let ingestor = Ingestor::new(store.clone(), config);
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    if let Some(outbox) = outbox {
        tasks.spawn(
            outbox
                .run(ingestor.outbox.clone(), stopped.clone())
                .in_current_span(),
        );
    }
    for source in &config.mailboxes {
        tasks.spawn(
            mailbox::run(
                source.clone(),
                ingestor.clone(),
                config.general.lease_retry,
                stopped.clone(),
            )
            .in_current_span(),
        );
    }
    for source in &config.maildirs {
        tasks.spawn(
            maildir::run(source.clone(), ingestor.clone(), stopped.clone()).in_current_span(),
        );
    }
    tracing::info!(
        mailboxes = config.mailboxes.len(),
        maildirs = config.maildirs.len(),
        store = %config.store.url,
        "slushpile running"
    );
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
        _ = interrupt.recv() => tracing::info!("SIGINT: stopping"),
        _ = tasks.join_next() => tracing::error!("a task ended unexpectedly: stopping"),
    }
    let _ = stop.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        // Dropping a task mid-transaction rolls the transaction back; the
        // server was not touched for it, so nothing is lost.
        tracing::warn!(
            grace_s = SHUTDOWN_GRACE.as_secs(),
            "sources did not stop in time: aborting them"
        );
        tasks.shutdown().await;
    }
    store.close().await;
    Ok(())
}

/// Syncs every source once, concurrently, and reports; for cron and tests.
pub async fn run_once(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let outbox = Outbox::from_config(config, store.clone(), instance_name(config))?;
    let ingestor = Ingestor::new(store.clone(), config);
    let mut tasks = JoinSet::new();
    for source in config.mailboxes.clone() {
        let ingestor = ingestor.clone();
        tasks.spawn(async move {
            let result = mailbox::sync_once(&source, &ingestor).await;
            (
                source.name,
                result
                    .map(|r| format!("{r:?}"))
                    .map_err(anyhow::Error::from),
            )
        });
    }
    for source in config.maildirs.clone() {
        let ingestor = ingestor.clone();
        tasks.spawn(async move {
            let result = maildir::sync_once(&source, &ingestor).await;
            (
                source.name,
                result
                    .map(|r| format!("{r:?}"))
                    .map_err(anyhow::Error::from),
            )
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (name, result) = joined.context("source task panicked")?;
        match result {
            Ok(report) => tracing::info!(source = %name, %report, "synced once"),
            Err(error) => {
                tracing::error!(source = %name, %error, "sync failed");
                failures.push(format!("{name}: {error}"));
            }
        }
    }
    if let Some(outbox) = outbox {
        // Each round claims what is due; retries are scheduled later, so this ends.
        while outbox.send_due().await? > 0 {}
    }
    store.close().await;
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(())
}
