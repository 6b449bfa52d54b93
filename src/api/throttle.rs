//! Slows down guessing: each failed login or token for an editor from an
//! address makes the next answer slower, and after `LOCKOUT_AFTER`
//! failures within `WINDOW` that editor's tokens from that address are
//! refused outright until the window has passed. Counted per address *and*
//! editor (the id a token names; malformed tokens count together): behind
//! a reverse proxy every client shares the proxy's address, and one
//! editor's typos must not lock the others out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const LOCKOUT_AFTER: u32 = 10;
const STEP: Duration = Duration::from_millis(200);
/// What a locked-out key's every attempt waits, the right token's too.
pub const LOCKED_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(2);
/// Bound on remembered addresses; old entries are forgotten first.
const MAX_TRACKED: usize = 10_000;

/// Whose failures count together: a client address and the editor id the
/// token names (None for a token that names none).
pub type Key = (IpAddr, Option<i64>);

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<Key, (u32, Instant)>>,
}

impl Throttle {
    /// `Err(retry_after)` while `ip` is locked out.
    pub fn check(&self, key: Key, now: Instant) -> Result<(), Duration> {
        let failures = self.lock();
        match failures.get(&key) {
            Some(&(count, last)) if count >= LOCKOUT_AFTER && now < last + WINDOW => {
                Err(last + WINDOW - now)
            }
            _ => Ok(()),
        }
    }

    /// Records a failure; returns how long to wait before answering it.
    pub fn failed(&self, key: Key, now: Instant) -> Duration {
        let mut failures = self.lock();
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, (_, last)| now < *last + WINDOW);
        }
        let entry = failures.entry(key).or_insert((0, now));
        if now >= entry.1 + WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.1 = now;
        (STEP * entry.0).min(MAX_DELAY)
    }

    pub fn succeeded(&self, key: Key) {
        self.lock().remove(&key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (u32, Instant)>> {
        // A panic elsewhere while holding the lock leaves plain counters.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_slow_down_then_lock_out_until_the_window_passes() {
        let throttle = Throttle::default();
        let ip: Key = ([192, 0, 2, 1].into(), Some(1));
        let other: Key = ([192, 0, 2, 2].into(), Some(1));
        let colleague: Key = (ip.0, Some(2));
        let start = Instant::now();
        let mut delays = Vec::new();
        for i in 0..LOCKOUT_AFTER {
            assert_eq!(throttle.check(ip, start), Ok(()), "attempt {i}");
            delays.push(throttle.failed(ip, start));
        }
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert_eq!(delays.last(), Some(&MAX_DELAY));
        assert_eq!(throttle.check(ip, start), Err(WINDOW));
        assert_eq!(throttle.check(other, start), Ok(()), "per address");
        assert_eq!(throttle.check(colleague, start), Ok(()), "per editor");
        assert_eq!(throttle.check(ip, start + WINDOW), Ok(()));
        // After the window the count starts again.
        assert_eq!(throttle.failed(ip, start + WINDOW), STEP);
    }

    #[test]
    fn success_forgets_earlier_failures() {
        let throttle = Throttle::default();
        let ip: Key = ([192, 0, 2, 1].into(), Some(1));
        let now = Instant::now();
        for _ in 0..LOCKOUT_AFTER - 1 {
            throttle.failed(ip, now);
        }
        throttle.succeeded(ip);
        assert_eq!(throttle.failed(ip, now), STEP);
    }
}
