//! Per-source lockout after repeated authentication failures (RFC 3261 §26.1 notes that
//! registrars are a target for password guessing; this is the usual fail2ban-style answer).
//!
//! `failures` failed attempts from one IP within a sliding `window` lock that IP for
//! `duration`: every REGISTER from it is refused with 403 before credentials are looked
//! at, so the right password does not help while locked. Memory is bounded: the failure
//! log holds at most `cap` events (oldest dropped first) and at most `cap` sources are
//! locked at once (the lock ending soonest is dropped first).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Recent failures of one source. Events older than `since` belong to an earlier count
/// (before a lockout reset it) and are not subtracted again.
#[derive(Debug, Clone, Copy)]
struct Counter {
    count: u32,
    since: Instant,
}

/// The lockout table.
#[derive(Debug)]
pub(crate) struct Lockout {
    failures: u32,
    window: Duration,
    duration: Duration,
    cap: usize,
    events: VecDeque<(Instant, IpAddr)>,
    counters: HashMap<IpAddr, Counter>,
    locked: HashMap<IpAddr, Instant>,
}

impl Lockout {
    /// `failures` within `window` lock a source for `duration`; `cap` bounds each table.
    pub(crate) fn new(failures: u32, window: Duration, duration: Duration, cap: usize) -> Lockout {
        Lockout {
            failures: failures.max(1),
            window,
            duration,
            cap: cap.max(1),
            events: VecDeque::new(),
            counters: HashMap::new(),
            locked: HashMap::new(),
        }
    }

    /// When `ip` is locked at `now`, the instant its lock ends.
    pub(crate) fn locked_until(&self, now: Instant, ip: IpAddr) -> Option<Instant> {
        self.locked.get(&ip).copied().filter(|until| *until > now)
    }

    /// Records one failed attempt. Returns the failure count when this failure started a
    /// lockout (the caller logs it once), `None` otherwise.
    pub(crate) fn record_failure(&mut self, now: Instant, ip: IpAddr) -> Option<u32> {
        self.prune_events(now);
        if self.locked_until(now, ip).is_some() {
            return None;
        }
        if self.events.len() >= self.cap {
            self.pop_event();
        }
        self.events.push_back((now, ip));
        let counter = self.counters.entry(ip).or_insert(Counter {
            count: 0,
            since: now,
        });
        counter.count += 1;
        let count = counter.count;
        if count < self.failures {
            return None;
        }
        self.counters.remove(&ip);
        if self.locked.len() >= self.cap {
            self.locked.retain(|_, until| *until > now);
        }
        if self.locked.len() >= self.cap {
            let soonest = self.locked.iter().min_by_key(|(_, until)| **until);
            if let Some((&victim, _)) = soonest {
                self.locked.remove(&victim);
            }
        }
        self.locked.insert(ip, now + self.duration);
        Some(count)
    }

    /// Drops failures older than the window and lockouts that have ended.
    pub(crate) fn prune(&mut self, now: Instant) {
        self.prune_events(now);
        self.locked.retain(|_, until| *until > now);
    }

    fn prune_events(&mut self, now: Instant) {
        while let Some(&(at, _)) = self.events.front() {
            if now.saturating_duration_since(at) < self.window {
                break;
            }
            self.pop_event();
        }
    }

    fn pop_event(&mut self) {
        let Some((at, ip)) = self.events.pop_front() else {
            return;
        };
        if let Some(counter) = self.counters.get_mut(&ip) {
            if at >= counter.since {
                counter.count = counter.count.saturating_sub(1);
                if counter.count == 0 {
                    self.counters.remove(&ip);
                }
            }
        }
    }

    /// (sources with recent failures, locked sources): for memory-bound checks.
    #[cfg(test)]
    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.counters.len(), self.locked.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0xc633_6400 + n)) // 198.51.100.0/24 and up
    }

    #[test]
    fn sliding_window_then_lock_then_release() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut l = Lockout::new(3, s(60), s(300), 100);
        assert_eq!(l.record_failure(t0, ip(1)), None);
        assert_eq!(l.record_failure(t0 + s(10), ip(1)), None);
        // The first failure leaves the window: still two in the last minute.
        assert_eq!(l.record_failure(t0 + s(61), ip(1)), None);
        assert_eq!(l.locked_until(t0 + s(61), ip(1)), None);
        assert_eq!(l.record_failure(t0 + s(62), ip(1)), Some(3));
        assert_eq!(l.locked_until(t0 + s(62), ip(1)), Some(t0 + s(362)));
        assert_eq!(l.locked_until(t0 + s(62), ip(2)), None);
        // Failures while locked are not counted again and do not extend the lock.
        assert_eq!(l.record_failure(t0 + s(100), ip(1)), None);
        assert_eq!(l.locked_until(t0 + s(362), ip(1)), None);
        // After the lock, counting starts from zero.
        assert_eq!(l.record_failure(t0 + s(363), ip(1)), None);
    }

    #[test]
    fn flood_of_sources_stays_bounded() {
        let t0 = Instant::now();
        let mut l = Lockout::new(2, Duration::from_secs(60), Duration::from_secs(300), 1000);
        for n in 0..10_000 {
            l.record_failure(t0, ip(n));
            l.record_failure(t0, ip(n));
            l.record_failure(t0, ip(n + 20_000));
        }
        let (counters, locked) = l.sizes();
        assert!(counters <= 1000, "{counters}");
        assert!(locked <= 1000, "{locked}");
        assert!(l.locked_until(t0, ip(9_999)).is_some());
    }
}
