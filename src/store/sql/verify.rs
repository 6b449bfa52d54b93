//! `slushpile verify`: every stored raw message read back from wherever it
//! lives and hashed again against its address.

use sha2::{Digest, Sha256};

use super::Engine;
use crate::store::backup::{Damage, VerifyReport};
use crate::store::{Result, StoreError};

impl Engine {
    /// Re-hashes every raw message; `progress` hears (messages, bytes,
    /// total bytes) after each one. Damage is reported, not an error: one
    /// bad message must not hide the others.
    pub async fn verify(
        &self,
        progress: &mut (dyn FnMut(u64, u64, u64) + Send),
    ) -> Result<VerifyReport> {
        let total: i64 =
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM raw_messages")
                .fetch_one(&self.pool)
                .await?;
        let mut report = VerifyReport::default();
        let mut after = String::new();
        loop {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT sha256, size FROM raw_messages WHERE sha256 > $1 ORDER BY sha256 LIMIT 200",
            )
            .bind(&after)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else {
                return Ok(report);
            };
            after = last.0.clone();
            for (sha, size) in rows {
                let damage = match self.raw_bytes(&sha).await {
                    Ok(Some(bytes)) if bytes.len() as i64 != size => {
                        Some(format!("{} bytes stored, {size} recorded", bytes.len()))
                    }
                    Ok(Some(bytes)) => {
                        let hash = hex::encode(Sha256::digest(&bytes));
                        (hash != sha).then(|| format!("the bytes hash to {hash}"))
                    }
                    Ok(None) => None,
                    Err(e @ (StoreError::Pack { .. } | StoreError::Corrupt(_))) => {
                        Some(e.to_string())
                    }
                    Err(e) => return Err(e),
                };
                if let Some(what) = damage {
                    report.damaged.push(Damage { sha256: sha, what });
                }
                report.messages += 1;
                report.bytes += size.max(0) as u64;
                progress(report.messages, report.bytes, total.max(0) as u64);
            }
        }
    }
}
