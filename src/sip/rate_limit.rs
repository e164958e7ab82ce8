//! Per-source token buckets for untrusted senders (DESIGN.md call flow step 1: every source
//! is rate-limited, a trusted trunk never). Pure: time is an argument.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The unit a source is counted in: an IPv4 address, or the /64 an IPv6 address is in (one
/// host or household gets a whole /64, RFC 6177, so counting single IPv6 addresses would
/// give an attacker an unlimited supply of fresh sources).
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
    }
}

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
        let source = source_key(source);
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

/// A budget of log lines per window for one kind of event, so that an attacker cannot fill
/// the disk with refusals (30 MB in 20 s before this): the first `per_window` lines of each
/// window are logged, the rest only counted, and the next line logged says how many were
/// left out. Pure: time is an argument.
#[derive(Debug, Clone)]
pub struct LogGate {
    per_window: u32,
    window: Duration,
    started: Option<Instant>,
    used: u32,
    suppressed: u64,
}

impl LogGate {
    /// `per_window` lines every `window`.
    pub fn new(per_window: u32, window: Duration) -> LogGate {
        LogGate {
            per_window: per_window.max(1),
            window,
            started: None,
            used: 0,
            suppressed: 0,
        }
    }

    /// `Some(left out since the last logged line)` when this line may be logged.
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        let fresh = self
            .started
            .is_none_or(|s| now.saturating_duration_since(s) >= self.window);
        if fresh {
            self.started = Some(now);
            self.used = 0;
        }
        if self.used >= self.per_window {
            self.suppressed += 1;
            return None;
        }
        self.used += 1;
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_gate_budget_per_window_then_summary() {
        let t0 = Instant::now();
        let mut gate = LogGate::new(3, Duration::from_secs(60));
        let logged: Vec<Option<u64>> = (0..10_000).map(|_| gate.allow(t0)).collect();
        assert_eq!(logged.iter().filter(|l| l.is_some()).count(), 3);
        // The next window's first line reports the 9,997 left out.
        assert_eq!(gate.allow(t0 + Duration::from_secs(60)), Some(9_997));
        assert_eq!(gate.allow(t0 + Duration::from_secs(61)), Some(0));
    }

    #[test]
    fn burst_then_refill() {
        let mut limiter = RateLimiter::new(10, 3);
        let (t0, ip) = (Instant::now(), "198.51.100.7".parse().unwrap());
        assert!((0..3).all(|_| limiter.allow(t0, ip)));
        assert!(!limiter.allow(t0, ip));
        assert!(limiter.allow(t0 + Duration::from_millis(100), ip));
    }

    #[test]
    fn ipv6_sources_count_per_64() {
        let mut limiter = RateLimiter::new(1, 2);
        let t0 = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(limiter.allow(t0, a) && limiter.allow(t0, b));
        assert!(!limiter.allow(t0, "2001:db8:1:2::77".parse().unwrap()));
        assert!(limiter.allow(t0, "2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(
            source_key("::ffff:192.0.2.1".parse().unwrap()),
            IpAddr::from([192, 0, 2, 1])
        );
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
