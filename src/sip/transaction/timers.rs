//! Timer values of RFC 3261 §17 (Table 4 of §A) and RFC 6026 §8.
//!
//! ```text
//! T1  500 ms   RTT estimate                      T2  4 s   max non-INVITE / 2xx retransmit interval
//! T4  5 s      max time a message stays in the network
//! A   INVITE request retransmit, starts at T1, doubles (UDP only)          §17.1.1.2
//! B   INVITE transaction timeout, 64*T1                                    §17.1.1.2
//! D   wait for response retransmits, ≥ 32 s UDP, 0 reliable               §17.1.1.2
//! E   non-INVITE request retransmit, T1 doubling to T2 (UDP only)         §17.1.2.2
//! F   non-INVITE transaction timeout, 64*T1                                §17.1.2.2
//! G   INVITE final response retransmit, T1 doubling to T2 (UDP only)      §17.2.1
//! H   wait for ACK receipt, 64*T1                                          §17.2.1
//! I   wait for ACK retransmits, T4 UDP, 0 reliable                         §17.2.1
//! J   wait for non-INVITE request retransmits, 64*T1 UDP, 0 reliable       §17.2.2
//! K   wait for response retransmits, T4 UDP, 0 reliable                    §17.1.2.2
//! L   wait for ACK or INVITE retransmits in Accepted (server), 64*T1       RFC 6026 §8.7
//! M   wait for 2xx retransmits in Accepted (client), 64*T1                 RFC 6026 §8.4
//! ```

use std::time::{Duration, Instant};

use super::Transport;

/// The base timer values; every Timer A–M is derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T1, the round-trip estimate (default 500 ms).
    pub t1: Duration,
    /// T2, the cap on non-INVITE request and INVITE response retransmit intervals (default 4 s).
    pub t2: Duration,
    /// T4, the longest a message lingers in the network (default 5 s).
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// 64*T1: Timers B, F, H, L and M (and J over UDP).
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }

    /// Timer D: at least 32 s over UDP (§17.1.1.2), zero over reliable transports.
    pub fn timer_d(&self, transport: Transport) -> Duration {
        match transport {
            Transport::Udp => Duration::from_secs(32).max(self.timeout()),
            Transport::Tcp => Duration::ZERO,
        }
    }

    /// Timers I and K: T4 over UDP, zero over reliable transports.
    pub fn timer_i_k(&self, transport: Transport) -> Duration {
        match transport {
            Transport::Udp => self.t4,
            Transport::Tcp => Duration::ZERO,
        }
    }

    /// Timer J: 64*T1 over UDP, zero over reliable transports.
    pub fn timer_j(&self, transport: Transport) -> Duration {
        match transport {
            Transport::Udp => self.timeout(),
            Transport::Tcp => Duration::ZERO,
        }
    }
}

/// A retransmission schedule: Timers A, E, G and the 2xx retransmission of §13.3.1.4.
/// The interval starts at T1 and doubles at each firing, up to `cap` when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    at: Instant,
    interval: Duration,
    cap: Option<Duration>,
}

impl Backoff {
    /// First firing one `t1` after `now`.
    pub(crate) fn start(now: Instant, t1: Duration, cap: Option<Duration>) -> Backoff {
        Backoff {
            at: now + t1,
            interval: t1,
            cap,
        }
    }

    /// When the timer fires next.
    pub(crate) fn at(&self) -> Instant {
        self.at
    }

    /// True when the timer has fired by `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.at <= now
    }

    /// Re-arms after a firing: the interval doubles (capped).
    pub(crate) fn step(&mut self, now: Instant) {
        let doubled = self.interval * 2;
        self.interval = self.cap.map_or(doubled, |cap| doubled.min(cap));
        self.at = now + self.interval;
    }

    /// Re-arms with a fixed interval (Timer E in Proceeding fires every T2, §17.1.2.2).
    pub(crate) fn step_fixed(&mut self, now: Instant, interval: Duration) {
        self.interval = interval;
        self.at = now + interval;
    }
}

/// True when an optional deadline has passed.
pub(crate) fn expired(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|at| at <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_derived_values() {
        let t = Timers::default();
        assert_eq!(t.timeout(), Duration::from_secs(32));
        assert_eq!(t.timer_d(Transport::Udp), Duration::from_secs(32));
        assert_eq!(t.timer_d(Transport::Tcp), Duration::ZERO);
        assert_eq!(t.timer_i_k(Transport::Udp), Duration::from_secs(5));
        assert_eq!(t.timer_j(Transport::Tcp), Duration::ZERO);
    }

    #[test]
    fn backoff_doubles_up_to_cap() {
        let t0 = Instant::now();
        let mut b = Backoff::start(t0, Duration::from_millis(500), Some(Duration::from_secs(4)));
        let mut fired = Vec::new();
        for _ in 0..6 {
            fired.push(b.at() - t0);
            let at = b.at();
            b.step(at);
        }
        let ms: Vec<u128> = fired.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [500, 1500, 3500, 7500, 11500, 15500]);
    }
}
