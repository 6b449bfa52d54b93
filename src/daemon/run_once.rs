//! `run --once`: every source synced once, concurrently, then the due
//! acknowledgements sent; for cron, scripts and tests.

use std::sync::Arc;

use anyhow::{Context, bail};
use tokio::task::JoinSet;

use super::{instance_name, open_store};
use crate::ack::outbox::Outbox;
use crate::config::Config;
use crate::ingest::Ingestor;
use crate::{mailbox, maildir};

/// Syncs every source once, concurrently, and reports; for cron and tests.
pub async fn run_once(config: &Config) -> anyhow::Result<()> {
    config.sources_exist()?;
    let store = open_store(config).await?;
    let outbox = Outbox::from_config(config, store.clone(), instance_name(config), Arc::default())?;
    let ingestor = Ingestor::new(store.clone(), config);
    let mut tasks = JoinSet::new();
    for source in config.mailboxes.clone() {
        let ingestor = ingestor.clone();
        tasks.spawn(async move {
            let result = mailbox::sync_once(&source, &ingestor).await;
            (source.name, result.map_err(anyhow::Error::from))
        });
    }
    for source in config.maildirs.clone() {
        let ingestor = ingestor.clone();
        tasks.spawn(async move {
            let result = maildir::sync_once(&source, &ingestor).await;
            (source.name, result.map_err(anyhow::Error::from))
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (name, result) = joined.context("source task panicked")?;
        match result {
            Ok(report) => {
                let _source = tracing::info_span!("source", name = %name).entered();
                report.log("synced once");
            }
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
