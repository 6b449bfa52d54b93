//! The store's own operations: `store copy` between backends, `backup`,
//! `restore` and `verify`.

use std::path::Path;

use anyhow::Context;

use super::import::Display;
use crate::config::Config;
use crate::import::Progress;

/// `slushpile store copy --from URL --to URL`.
pub(super) async fn copy(from: &str, to: &str) -> anyhow::Result<()> {
    let tz = chrono_tz::Asia::Shanghai;
    if let Some(path) = from.strip_prefix("sqlite://")
        && !std::path::Path::new(path.split('?').next().unwrap_or(path)).exists()
    {
        anyhow::bail!("source store {path} does not exist");
    }
    // The source is only read: never created, never migrated.
    let source = crate::store::Store::open(from, tz, "store-copy")
        .await
        .context("source store")?;
    let pending = source.pending_migrations().await?;
    if pending > 0 {
        anyhow::bail!(
            "the source store has {pending} pending migration(s): run `slushpile migrate` on it first"
        );
    }
    let target = crate::store::Store::open(to, tz, "store-copy")
        .await
        .context("target store")?;
    let report = crate::store::copy::copy(&source, &target).await;
    source.close().await;
    target.close().await;
    let report = report?;
    for (table, rows) in &report.tables {
        println!("{table:<20} {rows:>8} rows");
    }
    println!(
        "checked: row counts equal, {} raw message hashes verified",
        report.hashes_checked
    );
    Ok(())
}

/// `slushpile backup DIR`.
pub(super) async fn backup(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let store = crate::daemon::open_store(config).await?;
    let report = store.backup(dir).await;
    store.close().await;
    let report = report.with_context(|| format!("backup into {}", dir.display()))?;
    println!(
        "backed up into {}: database {:.1} MB, {} pack(s) {:.1} MB",
        dir.display(),
        report.database_bytes as f64 / 1e6,
        report.packs,
        report.pack_bytes as f64 / 1e6
    );
    Ok(())
}

/// `slushpile restore DIR`: the files put in place, then opened (which
/// cuts anything uncommitted) and verified.
pub(super) async fn restore(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let target = crate::store::backup::restore(dir, &config.store.url)
        .await
        .with_context(|| format!("restore from {}", dir.display()))?;
    println!("restored {} from {}", target.display(), dir.display());
    verify(config).await
}

/// `slushpile verify`: a progress bar on a terminal, every damaged message
/// named, exit 1 if there is one.
pub(super) async fn verify(config: &Config) -> anyhow::Result<()> {
    let store = crate::daemon::open_store(config).await?;
    let mut display = Display::new("verify");
    let report = store
        .verify(&mut |messages, bytes, total_bytes| {
            display.show(Progress {
                messages,
                bytes,
                total_bytes,
            })
        })
        .await;
    display.finish();
    store.close().await;
    let report = report?;
    for damage in &report.damaged {
        println!("damaged: {} — {}", damage.sha256, damage.what);
    }
    println!(
        "verified {} raw messages ({:.1} MB): {} damaged",
        report.messages,
        report.bytes as f64 / 1e6,
        report.damaged.len()
    );
    if report.damaged.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} raw message(s) do not match their address",
            report.damaged.len()
        )
    }
}
