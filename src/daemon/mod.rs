//! Task supervision: one task per source plus the outbox sender, systemd
//! notification (READY once every source tried to connect, STATUS,
//! WATCHDOG, STOPPING), SIGHUP reload and SIGTERM/SIGINT shutdown with a
//! bounded grace period in which the batch in flight finishes or rolls back.

mod housekeeping;
mod notify;
mod ops;
mod run_once;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

pub use run_once::run_once;

use crate::ack::outbox::Outbox;
use crate::config::Config;
use crate::health::Health;
use crate::ingest::Ingestor;
use crate::store::Store;
use crate::{mailbox, maildir};

/// How long tasks get to finish their batch after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// STATUS= refresh when systemd asked for no watchdog.
const STATUS_EVERY: Duration = Duration::from_secs(10);

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

/// Every source with its `stall_after`, for health tracking.
fn sources(config: &Config) -> Vec<(String, Duration)> {
    let mailboxes = config
        .mailboxes
        .iter()
        .map(|m| (m.name.clone(), m.stall_after));
    mailboxes
        .chain(
            config
                .maildirs
                .iter()
                .map(|m| (m.name.clone(), m.stall_after)),
        )
        .collect()
}

/// The tasks running one configuration.
struct Generation {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// Everything a configuration needs that can fail, built before anything
/// of the running generation is stopped: a bad reload then changes nothing.
struct Prepared {
    config: Config,
    ingestor: Ingestor,
    outbox: Option<Outbox>,
}

impl Prepared {
    fn new(config: Config, store: &Store, health: &Arc<Health>) -> anyhow::Result<Prepared> {
        if config.mailboxes.is_empty() && config.maildirs.is_empty() {
            bail!(
                "no sources configured: add a [[mailbox]] or [[maildir]] to {}",
                config.file.display()
            );
        }
        config.sources_exist()?;
        let outbox = Outbox::from_config(
            &config,
            store.clone(),
            instance_name(&config),
            health.clone(),
        )?;
        let mut ingestor = Ingestor::new(store.clone(), &config);
        ingestor.health = health.clone();
        ingestor.defer_extraction = true;
        Ok(Prepared {
            config,
            ingestor,
            outbox,
        })
    }

    fn start(self) -> (Config, Generation) {
        let Prepared {
            config,
            ingestor,
            outbox,
        } = self;
        ingestor.health.track(sources(&config));
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        if let Some(outbox) = outbox {
            tasks.spawn(
                outbox
                    .run(ingestor.outbox.clone(), stopped.clone())
                    .in_current_span(),
            );
        }
        tasks.spawn(
            crate::ingest::deferred::run(
                ingestor.store.clone(),
                ingestor.settings.options.clone(),
                ingestor.extraction.clone(),
                stopped.clone(),
            )
            .in_current_span(),
        );
        for source in &config.mailboxes {
            let run = mailbox::run(
                source.clone(),
                ingestor.clone(),
                config.general.lease_retry,
                stopped.clone(),
            );
            tasks.spawn(run.in_current_span());
        }
        for source in &config.maildirs {
            tasks.spawn(
                maildir::run(source.clone(), ingestor.clone(), stopped.clone()).in_current_span(),
            );
        }
        tracing::info!(
            mailboxes = config.mailboxes.len(),
            maildirs = config.maildirs.len(),
            store = %crate::store::redact(&config.store.url),
            "sources started"
        );
        (config, Generation { stop, tasks })
    }
}

impl Generation {
    async fn stop(mut self) {
        let _ = self.stop.send(true);
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            // Dropping a task mid-transaction rolls the transaction back; the
            // server was not touched for it, so nothing is lost.
            tracing::warn!(
                grace_s = SHUTDOWN_GRACE.as_secs(),
                "tasks did not stop in time: aborting them"
            );
            self.tasks.shutdown().await;
        }
    }
}

/// Runs every configured source until SIGTERM or SIGINT; SIGHUP reloads.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let span = tracing::info_span!("slushpile", instance = %instance_name(config));
    supervise(config.clone()).instrument(span).await
}

async fn supervise(config: Config) -> anyhow::Result<()> {
    let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut hangup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let store = open_store(&config).await?;
    let health = Arc::new(Health::default());
    let prepared = Prepared::new(config, &store, &health)?;

    // Listeners and housekeeping live as long as the process, across reloads.
    let (side_stop, side_stopped) = watch::channel(false);
    let mut side_tasks = Vec::new();
    if let Some(ops) = &prepared.config.ops {
        let listener = crate::api::bind(ops.listen, "ops.listen").await?;
        if ops.ready_window.is_some() {
            tracing::warn!(
                file = %prepared.config.file.display(),
                "ops.ready_window is no longer used: /readyz follows each source's stall_after"
            );
        }
        let router = ops::router(
            health.clone(),
            store.clone(),
            prepared.config.general.response_within,
        );
        side_tasks.push(tokio::spawn(crate::api::serve(
            listener,
            router,
            side_stopped.clone(),
        )));
    }
    if let Some(api) = &prepared.config.api {
        let listener = crate::api::bind(api.listen, "api.listen").await?;
        let router = crate::api::router(crate::api::Api::new(store.clone(), &prepared.config));
        tracing::info!(listen = %api.listen, "editors' API and web page listening");
        side_tasks.push(tokio::spawn(crate::api::serve(
            listener,
            router,
            side_stopped.clone(),
        )));
    }
    side_tasks.push(tokio::spawn(
        housekeeping::run(
            store.clone(),
            prepared.config.retention.clone(),
            side_stopped,
        )
        .in_current_span(),
    ));
    let (mut config, mut generation) = prepared.start();

    // READY=1 only once migrations ran (above) and every source has made
    // its first connection attempt, successful or not.
    tokio::select! {
        _ = health.first_attempts() => notify::ready(&health.status_line()),
        _ = terminate.recv() => return shut_down(generation, &store, side_stop, side_tasks).await,
        _ = interrupt.recv() => return shut_down(generation, &store, side_stop, side_tasks).await,
    }
    tracing::info!(status = %health.status_line(), "ready");

    let watchdog = notify::watchdog_interval();
    let mut tick = tokio::time::interval(watchdog.unwrap_or(STATUS_EVERY));
    loop {
        tokio::select! {
            _ = terminate.recv() => {
                tracing::info!("SIGTERM: stopping");
                break;
            }
            _ = interrupt.recv() => {
                tracing::info!("SIGINT: stopping");
                break;
            }
            _ = hangup.recv() => {
                match reload(&config, &store, &health) {
                    Ok(prepared) => {
                        notify::reloading();
                        generation.stop().await;
                        (config, generation) = prepared.start();
                        tracing::info!(config = %config.file.display(), "configuration reloaded");
                        notify::ready(&health.status_line());
                    }
                    Err(error) => {
                        tracing::error!(error = %format!("{error:#}"), "reload rejected: the running configuration stays");
                        notify::status(&format!("reload rejected: {error}"));
                    }
                }
            }
            _ = tick.tick() => {
                for stall in health.new_stalls() {
                    tracing::warn!(
                        source = %stall.source,
                        silent_s = stall.silent_for.as_secs(),
                        last_error = stall.last_error.as_deref().unwrap_or("none"),
                        "no successful sync within stall_after: the source is stalled"
                    );
                }
                let status = health.status_line();
                if watchdog.is_some() { notify::watchdog(&status) } else { notify::status(&status) }
            }
            _ = generation.tasks.join_next() => {
                tracing::error!("a task ended unexpectedly: stopping");
                shut_down(generation, &store, side_stop, side_tasks).await?;
                bail!("a task ended unexpectedly");
            }
        }
    }
    shut_down(generation, &store, side_stop, side_tasks).await
}

/// SIGHUP: the file is read and checked again; the store cannot change
/// under a running daemon.
fn reload(current: &Config, store: &Store, health: &Arc<Health>) -> anyhow::Result<Prepared> {
    let config = Config::load(&current.file)?;
    if config.store.url != current.store.url {
        bail!("store.url changed: that needs a restart");
    }
    let kept = restart_only_changes(current, &config);
    if !kept.is_empty() {
        tracing::warn!(
            sections = %kept.join(", "),
            "changed, but the listeners and housekeeping keep their settings until a restart"
        );
    }
    Prepared::new(config, store, health)
}

/// Sections whose tasks live as long as the process (see `supervise`), so
/// a reload cannot apply them: they are named rather than silently ignored.
fn restart_only_changes(current: &Config, new: &Config) -> Vec<&'static str> {
    [
        ("[api]", current.api != new.api),
        ("[ops]", current.ops != new.ops),
        ("[retention]", current.retention != new.retention),
    ]
    .into_iter()
    .filter_map(|(section, changed)| changed.then_some(section))
    .collect()
}

async fn shut_down(
    generation: Generation,
    store: &Store,
    side_stop: watch::Sender<bool>,
    side_tasks: Vec<tokio::task::JoinHandle<()>>,
) -> anyhow::Result<()> {
    notify::stopping();
    generation.stop().await;
    let _ = side_stop.send(true);
    for task in side_tasks {
        let _ = task.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!(
            "[store]\nurl = \"sqlite:///var/lib/slushpile/store.db\"\n\
             [ops]\nlisten = \"127.0.0.1:9187\"\n{extra}"
        );
        Config::from_toml(std::path::Path::new("/etc/slushpile/t.toml"), &text, [])
            .expect("test config")
    }

    #[test]
    fn a_reload_names_the_sections_it_cannot_apply() {
        let current = config("[api]\nlisten = \"127.0.0.1:8080\"\n");
        assert!(restart_only_changes(&current, &current).is_empty());
        let new = config(
            "[api]\nlisten = \"127.0.0.1:8080\"\nsession_ttl = \"1h\"\n\
             [retention]\nrejected_after = \"30d\"\n",
        );
        assert_eq!(
            restart_only_changes(&current, &new),
            ["[api]", "[retention]"]
        );
        assert_eq!(
            restart_only_changes(&new, &config("")),
            ["[api]", "[retention]"]
        );
    }
}
