//! Arrival-to-draft latency: `slushpile run` idling in IDLE while messages
//! are delivered one at a time.

use std::collections::HashMap;
use std::fs::{self, File};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::support::Dovecot;
use super::tools::{slushpile_config, store_url, tail, wait4};
use super::{SLUSHPILE, corpus};

pub struct Latency {
    pub seconds: Vec<f64>,
    pub rss_kb: i64,
}

/// The daemon idles on an empty INBOX; messages arrive one by one at
/// seeded random intervals; each latency runs from the rename into new/ to
/// the first poll of the store that sees its draft (5 ms polls).
#[expect(clippy::zombie_processes, reason = "reaped by wait4, for its rusage")]
pub async fn latency(count: usize) -> Latency {
    let dovecot = Dovecot::start().await;
    let work = tempfile::Builder::new()
        .prefix("slushbench-idle")
        .tempdir()
        .unwrap();
    let dir = work.path();
    let config = slushpile_config(&dovecot, dir);
    let log = File::create(dir.join("output.log")).unwrap();
    let child = Command::new(SLUSHPILE)
        .arg("--config")
        .arg(config)
        .arg("run")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn slushpile run");
    let pid = child.id() as i32;

    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let warm_up = corpus::latency_message(0);
    dovecot.deliver("INBOX", &warm_up);
    let url = format!("{}?mode=ro", store_url(dir));
    let deadline = Instant::now() + Duration::from_secs(60);
    let pool = loop {
        if let Ok(pool) = sqlx::SqlitePool::connect(&url).await
            && sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM drafts")
                .fetch_one(&pool)
                .await
                .is_ok_and(|n| n == 1)
        {
            break pool;
        }
        assert!(
            Instant::now() < deadline,
            "warm-up message never became a draft:\n{}",
            fs::read_to_string(dir.join("output.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let poller = {
        let (seen, pool) = (seen.clone(), pool.clone());
        tokio::spawn(async move {
            let mut last = 0i64;
            loop {
                let rows: Vec<(i64, Option<String>)> =
                    sqlx::query_as("SELECT id, message_id FROM drafts WHERE id > ? ORDER BY id")
                        .bind(last)
                        .fetch_all(&pool)
                        .await
                        .unwrap_or_default();
                let now = Instant::now();
                {
                    let mut seen = seen.lock().unwrap();
                    for (id, message_id) in rows {
                        last = last.max(id);
                        if let Some(m) = message_id {
                            seen.entry(m).or_insert(now);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let mut rng = fastrand::Rng::with_seed(0x1d1e);
    let mut delivered = Vec::with_capacity(count);
    for i in 1..=count {
        tokio::time::sleep(Duration::from_millis(rng.u64(50..=400))).await;
        let raw = corpus::latency_message(i);
        tokio::task::block_in_place(|| dovecot.deliver("INBOX", &raw));
        delivered.push((message_id(&raw), Instant::now()));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let done = {
            let seen = seen.lock().unwrap();
            delivered.iter().all(|(m, _)| seen.contains_key(m))
        };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    poller.abort();
    pool.close().await;
    // SAFETY: kill(2) on our own child; no memory is involved.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let (_, usage) = tokio::task::block_in_place(|| wait4(pid));
    let rss_kb = usage.ru_maxrss;
    let seen = seen.lock().unwrap();
    let missing = delivered
        .iter()
        .filter(|(m, _)| !seen.contains_key(m))
        .count();
    assert_eq!(
        missing,
        0,
        "drafts missing after 60 s:\n{}",
        tail(&fs::read_to_string(dir.join("output.log")).unwrap_or_default())
    );
    let mut seconds: Vec<f64> = delivered
        .iter()
        .map(|(m, at)| seen[m].duration_since(*at).as_secs_f64())
        .collect();
    seconds.sort_by(f64::total_cmp);
    Latency { seconds, rss_kb }
}

fn message_id(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(4096)]);
    let start = text.find("Message-ID: <").expect("Message-ID") + "Message-ID: <".len();
    let end = text[start..].find('>').unwrap() + start;
    text[start..end].to_string()
}
