//! Admission and deadlines for SIP-over-TCP connections, sans-IO (issue 10 item 1).
//!
//! Idle TCP connections cost a file descriptor each; with the default soft limit of 1024,
//! 1,050 silent connections once left no descriptor for RTP sockets and every 112 call failed
//! with 503. So:
//! - a **global cap** (derived from the open-files limit minus a reserve for media, see
//!   [`super::fd_budget`]) and a **per-source cap**: a connection over either is closed at
//!   once, before anything is read from it;
//! - a connection must deliver a **complete message within `first_message`** (30 s) of
//!   opening, and every partial message must complete within the same time (a slow drip of
//!   bytes does not keep it open); after a complete message it may stay quiet for `idle`
//!   (a seat re-registers and sends CRLF keep-alives, RFC 5626 §3.5.1).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// The global cap is reached.
    #[error("SIP TCP connection cap ({cap}) reached")]
    Total {
        /// The cap.
        cap: usize,
    },
    /// The source has its share.
    #[error("SIP TCP connections per source ({cap}) reached")]
    PerSource {
        /// The cap.
        cap: usize,
    },
}

/// Live connections, counted in total and per source (an IPv4 address or an IPv6 /64).
#[derive(Debug)]
pub struct ConnTable {
    max_total: usize,
    max_per_source: usize,
    total: usize,
    per_source: HashMap<IpAddr, usize>,
}

impl ConnTable {
    /// A table admitting `max_total` connections, `max_per_source` from one IP.
    pub fn new(max_total: usize, max_per_source: usize) -> ConnTable {
        ConnTable {
            max_total,
            max_per_source: max_per_source.max(1),
            total: 0,
            per_source: HashMap::new(),
        }
    }

    /// Admits one more connection from `ip`, or says why not.
    pub fn admit(&mut self, ip: IpAddr) -> Result<(), Refused> {
        let ip = super::rate_limit::source_key(ip);
        if self.total >= self.max_total {
            return Err(Refused::Total {
                cap: self.max_total,
            });
        }
        let n = self.per_source.entry(ip).or_insert(0);
        if *n >= self.max_per_source {
            return Err(Refused::PerSource {
                cap: self.max_per_source,
            });
        }
        *n += 1;
        self.total += 1;
        Ok(())
    }

    /// A connection from `ip` closed.
    pub fn release(&mut self, ip: IpAddr) {
        let ip = super::rate_limit::source_key(ip);
        if let Some(n) = self.per_source.get_mut(&ip) {
            *n -= 1;
            self.total = self.total.saturating_sub(1);
            if *n == 0 {
                self.per_source.remove(&ip);
            }
        }
    }

    /// Live connections.
    pub fn total(&self) -> usize {
        self.total
    }
}

/// The read deadline of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    first_message: Duration,
    idle: Duration,
    /// When the last complete message (or the connection) started the clock.
    since: Instant,
    seen_message: bool,
    /// When the bytes of the unfinished message now buffered began to arrive.
    partial_since: Option<Instant>,
}

impl Deadline {
    /// A connection opened at `now`.
    pub fn new(now: Instant, first_message: Duration, idle: Duration) -> Deadline {
        Deadline {
            first_message,
            idle,
            since: now,
            seen_message: false,
            partial_since: None,
        }
    }

    /// A complete SIP message arrived at `now`.
    pub fn on_message(&mut self, now: Instant) {
        self.since = now;
        self.seen_message = true;
    }

    /// A CRLF keep-alive arrived: it keeps an established connection, not a fresh one.
    pub fn on_keep_alive(&mut self, now: Instant) {
        if self.seen_message {
            self.since = now;
        }
    }

    /// Bytes were read at `now`; `partial` is true when an unfinished message is buffered
    /// after framing them.
    pub fn on_bytes(&mut self, now: Instant, partial: bool) {
        if !partial {
            self.partial_since = None;
        } else if self.partial_since.is_none() {
            self.partial_since = Some(now);
        }
    }

    /// When the connection is closed unless a complete message arrives.
    pub fn due(&self) -> Instant {
        if !self.seen_message {
            return self.since + self.first_message;
        }
        match self.partial_since {
            Some(started) => started + self.first_message,
            None => self.since + self.idle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn caps_total_and_per_source() {
        let mut t = ConnTable::new(3, 2);
        assert_eq!(t.admit(ip(1)), Ok(()));
        assert_eq!(t.admit(ip(1)), Ok(()));
        assert_eq!(t.admit(ip(1)), Err(Refused::PerSource { cap: 2 }));
        assert_eq!(t.admit(ip(2)), Ok(()));
        assert_eq!(t.admit(ip(3)), Err(Refused::Total { cap: 3 }));
        t.release(ip(1));
        assert_eq!(t.admit(ip(3)), Ok(()));
        // Releasing an unknown source changes nothing.
        t.release(ip(9));
        assert_eq!(t.total(), 3);
    }

    #[test]
    fn silent_and_dripping_connections_get_first_message_time_only() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut d = Deadline::new(t0, s(30), s(600));
        assert_eq!(d.due(), t0 + s(30));
        // Neither a keep-alive nor dripping bytes extend a connection without a message.
        d.on_keep_alive(t0 + s(20));
        d.on_bytes(t0 + s(21), true);
        assert_eq!(d.due(), t0 + s(30));
        d.on_message(t0 + s(25));
        d.on_bytes(t0 + s(25), false);
        assert_eq!(d.due(), t0 + s(625));
        // A partial message must complete within 30 s of its first bytes.
        d.on_bytes(t0 + s(400), true);
        d.on_bytes(t0 + s(420), true);
        assert_eq!(d.due(), t0 + s(430));
        d.on_message(t0 + s(425));
        d.on_bytes(t0 + s(425), false);
        d.on_keep_alive(t0 + s(500));
        assert_eq!(d.due(), t0 + s(1100));
    }
}
