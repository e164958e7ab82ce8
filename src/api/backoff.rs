//! Back-off on failed logins (sans-IO: time is an argument). A key (an address, an account
//! name) gets `free` failures; each further one doubles the wait before the next attempt
//! is even checked, up to `max`. A success forgets the key; so does `2 × max` without a
//! failure. Waiting, not locking: the right password still works once the wait is over, so
//! nobody can lock a call taker out for longer than `max`.
use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Keys tracked at most; beyond it the stalest are dropped (memory stays bounded under a
/// spray from many addresses; the per-account key still slows guessing then).
const MAX_KEYS: usize = 16_384;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    next_allowed: Instant,
}

/// Failure counts and waits per key.
#[derive(Debug)]
pub(crate) struct Backoff<K> {
    free: u32,
    max: Duration,
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Backoff<K> {
    /// `free` failures without a wait, waits doubling from 1 s up to `max`.
    pub(crate) fn new(free: u32, max: Duration) -> Self {
        Backoff {
            free,
            max,
            entries: HashMap::new(),
        }
    }

    /// `Err(wait)` when `key` must wait before its next attempt is checked.
    pub(crate) fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.entries.get(key) {
            Some(e) if e.next_allowed > now => Err(e.next_allowed - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure of `key` at `now`; returns the wait it now has.
    pub(crate) fn failed(&mut self, key: &K, now: Instant) -> Duration {
        let forget = self.max * 2;
        if self.entries.len() >= MAX_KEYS && !self.entries.contains_key(key) {
            self.entries
                .retain(|_, e| now.saturating_duration_since(e.last) < forget);
            if self.entries.len() >= MAX_KEYS {
                let stalest = self.entries.iter().min_by_key(|(_, e)| e.last);
                if let Some(k) = stalest.map(|(k, _)| k.clone()) {
                    self.entries.remove(&k);
                }
            }
        }
        let e = self.entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            last: now,
            next_allowed: now,
        });
        if now.saturating_duration_since(e.last) >= forget {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last = now;
        let wait = match e.failures.checked_sub(self.free) {
            None | Some(0) => Duration::ZERO,
            Some(over) => {
                let secs = 1u64 << (over - 1).min(20);
                Duration::from_secs(secs).min(self.max)
            }
        };
        e.next_allowed = now + wait;
        wait
    }

    /// Forgets `key` (a successful login).
    pub(crate) fn succeeded(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures_and_cap() {
        let t0 = Instant::now();
        let mut b = Backoff::new(3, Duration::from_secs(8));
        let k = "ip".to_owned();
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..7 {
            assert_eq!(b.check(&k, now), Ok(()));
            let w = b.failed(&k, now);
            waits.push(w.as_secs());
            assert!(w.is_zero() || b.check(&k, now).is_err());
            now += w;
        }
        assert_eq!(waits, [0, 0, 0, 1, 2, 4, 8]);
        // Still capped.
        assert_eq!(b.failed(&k, now), Duration::from_secs(8));
    }

    #[test]
    fn success_and_time_forget() {
        let t0 = Instant::now();
        let mut b = Backoff::new(1, Duration::from_secs(10));
        let k = 1u8;
        b.failed(&k, t0);
        assert_eq!(b.failed(&k, t0), Duration::from_secs(1));
        b.succeeded(&k);
        assert_eq!(b.check(&k, t0), Ok(()));
        assert_eq!(b.failed(&k, t0), Duration::ZERO);
        // 2 × max later the count starts again.
        assert_eq!(b.failed(&k, t0 + Duration::from_secs(20)), Duration::ZERO);
    }

    #[test]
    fn other_keys_are_not_slowed() {
        let t0 = Instant::now();
        let mut b = Backoff::new(0, Duration::from_secs(60));
        b.failed(&"a", t0);
        assert!(b.check(&"a", t0).is_err());
        assert_eq!(b.check(&"b", t0), Ok(()));
    }
}
