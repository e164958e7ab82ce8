//! Per-source token buckets for untrusted senders (DESIGN.md call flow step 1: every source
//! is rate-limited, a trusted trunk never). Pure: time is an argument.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How many sources are tracked at most; past that, the idlest are forgotten.
const MAX_SOURCES: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by source address.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: HashMap<IpAddr, Bucket>,
}

impl RateLimiter {
    /// `per_second` messages on average, `burst` at once.
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `source`; false when its bucket is empty.
    pub fn allow(&mut self, now: Instant, source: IpAddr) -> bool {
        if self.buckets.len() >= MAX_SOURCES && !self.buckets.contains_key(&source) {
            self.prune(now);
        }
        let (per_second, burst) = (self.per_second, self.burst);
        let bucket = self.buckets.entry(source).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets buckets that have refilled (idle sources), or half the table when none has.
    fn prune(&mut self, now: Instant) {
        let refill = Duration::from_secs_f64(self.burst / self.per_second.max(0.001));
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.updated) < refill);
        if self.buckets.len() >= MAX_SOURCES {
            let mut ages: Vec<Instant> = self.buckets.values().map(|b| b.updated).collect();
            ages.sort_unstable();
            let cutoff = ages[ages.len() / 2];
            self.buckets.retain(|_, b| b.updated > cutoff);
        }
    }

    /// Sources currently tracked.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// True when no source is tracked.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let mut limiter = RateLimiter::new(10, 3);
        let (t0, ip) = (Instant::now(), "198.51.100.7".parse().unwrap());
        assert!((0..3).all(|_| limiter.allow(t0, ip)));
        assert!(!limiter.allow(t0, ip));
        assert!(limiter.allow(t0 + Duration::from_millis(100), ip));
    }

    #[test]
    fn table_stays_bounded() {
        let mut limiter = RateLimiter::new(1, 1);
        let t0 = Instant::now();
        for i in 0..(MAX_SOURCES as u32 + 1000) {
            let ip = IpAddr::from(i.to_be_bytes());
            limiter.allow(t0, ip);
        }
        assert!(limiter.len() <= MAX_SOURCES);
    }
}
