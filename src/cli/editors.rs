//! `slushpile editors add | revoke | list`.

use std::io::Write;

use anyhow::bail;
use chrono::Utc;

use super::EditorsCommand;
use crate::config::Config;

pub async fn run(config: &Config, command: EditorsCommand) -> anyhow::Result<()> {
    let store = crate::daemon::open_store(config).await?;
    let result = async {
        let mut out = std::io::stdout().lock();
        match command {
            EditorsCommand::Add { name, role } => {
                let token = store.add_editor(&name, role, Utc::now()).await?;
                writeln!(
                    out,
                    "added {name} ({}). Their token, shown only this once:",
                    role.as_str()
                )?;
                writeln!(out, "{token}")?;
            }
            EditorsCommand::Revoke { name } => {
                if !store.revoke_editor(&name, Utc::now()).await? {
                    bail!("no active editor `{name}`");
                }
                writeln!(
                    out,
                    "revoked {name}: their token and web sessions no longer work"
                )?;
            }
            EditorsCommand::List { json } => {
                let editors = store.list_editors().await?;
                if json {
                    serde_json::to_writer_pretty(&mut out, &editors)?;
                    writeln!(out)?;
                }
                for e in editors.iter().filter(|_| !json) {
                    let state = match (&e.revoked_at, &e.last_seen_at) {
                        (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                        (None, Some(at)) => format!("last seen {}", at.format("%Y-%m-%d %H:%M")),
                        (None, None) => "never seen".into(),
                    };
                    writeln!(out, "{:<20} {:<7} {state}", e.name, e.role.as_str())?;
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    store.close().await;
    result
}
