//! Server nonces (RFC 7616 §3.3 `nonce`, §3.4 `nc`; §5.5 on limited-use nonces).
//!
//! A nonce is 128 random bits; the table remembers when it was issued, to which source IP,
//! and the highest nonce count accepted with it. A nonce we did not issue, or issued to
//! another source, is [`NonceCheck::Unknown`]: the registrar answers it with a fresh
//! challenge before it looks at any password, so a made-up nonce can neither test a
//! password nor count as a failure against anyone. A nonce is *fresh* for `lifetime`, then *stale* (still
//! known, so a correct digest earns a `stale=true` challenge) for one more `lifetime`,
//! then forgotten. The table is capped: the oldest nonces are evicted first, so a flood of
//! unauthenticated REGISTERs cannot grow memory.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// What the table says about a nonce and nonce count presented by a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// Issued by us, within its lifetime, and the count is new.
    Fresh,
    /// Issued by us to this source but past its lifetime.
    Stale,
    /// Not issued by us, already forgotten, or issued to another source IP.
    Unknown,
    /// Fresh, but the nonce count is not above the last accepted one (RFC 7616 §3.4:
    /// the server can detect replays by watching `nc`), or a no-qop nonce already used.
    Replay,
}

#[derive(Debug)]
struct Entry {
    issued: Instant,
    /// The source the challenge went to.
    to: IpAddr,
    /// Highest `nc` accepted; `Some(0)` for a nonce used without qop (single use).
    last_nc: Option<u32>,
}

/// Issued nonces, bounded in age and count.
#[derive(Debug)]
pub(crate) struct NonceTable {
    entries: HashMap<String, Entry>,
    order: VecDeque<(Instant, String)>,
    lifetime: Duration,
    cap: usize,
}

impl NonceTable {
    /// A table whose nonces are fresh for `lifetime`, holding at most `cap` nonces.
    pub(crate) fn new(lifetime: Duration, cap: usize) -> NonceTable {
        NonceTable {
            entries: HashMap::new(),
            order: VecDeque::new(),
            lifetime,
            cap: cap.max(1),
        }
    }

    /// Issues a new random nonce at `now` for a challenge sent to `to`.
    pub(crate) fn issue(&mut self, now: Instant, to: IpAddr) -> String {
        self.prune(now);
        while self.entries.len() >= self.cap {
            match self.order.pop_front() {
                Some((_, old)) => {
                    self.entries.remove(&old);
                }
                None => break,
            }
        }
        let nonce = format!("{:032x}", rand::random::<u128>());
        self.entries.insert(
            nonce.clone(),
            Entry {
                issued: now,
                to,
                last_nc: None,
            },
        );
        self.order.push_back((now, nonce.clone()));
        nonce
    }

    /// Checks `nonce` with the client's nonce count (`None` when the client sent no qop).
    /// Does not record anything: call [`NonceTable::accept`] once the digest verified, so
    /// a forged request cannot burn counts of the legitimate client.
    pub(crate) fn check(
        &self,
        now: Instant,
        nonce: &str,
        nc: Option<u32>,
        from: IpAddr,
    ) -> NonceCheck {
        let Some(entry) = self.entries.get(nonce).filter(|e| e.to == from) else {
            return NonceCheck::Unknown;
        };
        if now.saturating_duration_since(entry.issued) >= self.lifetime {
            return NonceCheck::Stale;
        }
        match (entry.last_nc, nc) {
            (None, _) => NonceCheck::Fresh,
            (Some(last), Some(nc)) if nc > last => NonceCheck::Fresh,
            _ => NonceCheck::Replay,
        }
    }

    /// Records a verified use of `nonce` with count `nc` (no qop: the nonce is used up).
    pub(crate) fn accept(&mut self, nonce: &str, nc: Option<u32>) {
        if let Some(entry) = self.entries.get_mut(nonce) {
            entry.last_nc = Some(nc.unwrap_or(u32::MAX));
        }
    }

    /// Forgets nonces older than twice the lifetime.
    pub(crate) fn prune(&mut self, now: Instant) {
        while let Some((issued, _)) = self.order.front() {
            if now.saturating_duration_since(*issued) < self.lifetime * 2 {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }

    /// How many nonces are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn lifetime_counts_and_replays() {
        let t0 = Instant::now();
        let mut t = NonceTable::new(Duration::from_secs(30), 100);
        let n = t.issue(t0, A);
        assert_eq!(n.len(), 32);
        assert_eq!(t.check(t0, &n, Some(1), A), NonceCheck::Fresh);
        t.accept(&n, Some(1));
        assert_eq!(t.check(t0, &n, Some(1), A), NonceCheck::Replay);
        assert_eq!(t.check(t0, &n, Some(2), A), NonceCheck::Fresh);
        assert_eq!(t.check(t0, "unknown", Some(1), A), NonceCheck::Unknown);
        // Bound to the source it was issued to.
        assert_eq!(t.check(t0, &n, Some(2), B), NonceCheck::Unknown);
        let later = t0 + Duration::from_secs(30);
        assert_eq!(t.check(later, &n, Some(5), A), NonceCheck::Stale);
        t.prune(t0 + Duration::from_secs(60));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn no_qop_nonce_is_single_use() {
        let t0 = Instant::now();
        let mut t = NonceTable::new(Duration::from_secs(30), 100);
        let n = t.issue(t0, A);
        assert_eq!(t.check(t0, &n, None, A), NonceCheck::Fresh);
        t.accept(&n, None);
        assert_eq!(t.check(t0, &n, None, A), NonceCheck::Replay);
        assert_eq!(t.check(t0, &n, Some(u32::MAX), A), NonceCheck::Replay);
    }

    #[test]
    fn flood_is_capped_oldest_first() {
        let t0 = Instant::now();
        let mut t = NonceTable::new(Duration::from_secs(30), 1000);
        let first = t.issue(t0, A);
        for i in 0..10_000u64 {
            t.issue(t0 + Duration::from_millis(i), A);
        }
        assert_eq!(t.len(), 1000);
        assert_eq!(t.check(t0, &first, Some(1), A), NonceCheck::Unknown);
    }
}
