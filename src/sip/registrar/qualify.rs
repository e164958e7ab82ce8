//! Keep-alive ("qualify") of registered contacts with OPTIONS (RFC 3261 §11).
//!
//! Every `interval` each bound contact is due for an OPTIONS probe, sent to the source
//! address its REGISTER came from. The transaction layer reports each probe as answered
//! (any final response) or not (timeout, RFC 3261 Timer F). Per contact:
//!
//! ```text
//!            answered                 misses >= limit
//!   ┌──────────────────┐      ┌───────────────────────────┐
//!   ▼                  │      │                           ▼
//! Reachable ──miss──▶ Reachable(misses+1) ────────────▶ Unreachable
//!   ▲                                                       │
//!   └────────────────────────── answered ───────────────────┘
//! ```
//!
//! A new binding starts reachable: its REGISTER just arrived from that address.

use super::bindings::Binding;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One OPTIONS probe to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifyProbe {
    /// The seat name.
    pub seat: String,
    /// The Contact URI text (the Request-URI of the OPTIONS).
    pub contact: String,
    /// Where to send it: the binding's source address.
    pub to: SocketAddr,
}

/// Reachability of one contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Answering, or not yet missed `limit` probes in a row.
    Reachable { misses: u32 },
    /// Missed `limit` probes in a row.
    Unreachable,
}

#[derive(Debug, Clone)]
struct Probe {
    to: SocketAddr,
    next_due: Instant,
    reach: Reach,
}

/// The qualify state of every bound contact, keyed by (seat, contact).
#[derive(Debug)]
pub(crate) struct Qualify {
    interval: Duration,
    limit: u32,
    contacts: HashMap<(String, String), Probe>,
}

impl Qualify {
    /// Probes every `interval`; `limit` misses in a row make a contact unreachable.
    pub(crate) fn new(interval: Duration, limit: u32) -> Qualify {
        Qualify {
            interval,
            limit: limit.max(1),
            contacts: HashMap::new(),
        }
    }

    /// Brings the seat's probes in line with its current bindings: new contacts start
    /// reachable and due one interval from now; a contact whose source changed is
    /// considered answered; removed contacts are forgotten.
    pub(crate) fn sync(&mut self, now: Instant, seat: &str, bindings: &[Binding]) {
        self.contacts
            .retain(|(s, c), _| s != seat || bindings.iter().any(|b| &b.contact == c));
        for b in bindings {
            let key = (seat.to_string(), b.contact.clone());
            let probe = self.contacts.entry(key).or_insert(Probe {
                to: b.source,
                next_due: now + self.interval,
                reach: Reach::Reachable { misses: 0 },
            });
            if probe.to != b.source {
                probe.to = b.source;
                probe.reach = Reach::Reachable { misses: 0 };
            }
        }
    }

    /// Forgets one contact (its binding lapsed).
    pub(crate) fn forget(&mut self, seat: &str, contact: &str) {
        self.contacts
            .remove(&(seat.to_string(), contact.to_string()));
    }

    /// The probes due at `now`; each is rescheduled one interval later.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<QualifyProbe> {
        let mut out = Vec::new();
        for ((seat, contact), probe) in &mut self.contacts {
            if probe.next_due <= now {
                probe.next_due = now + self.interval;
                out.push(QualifyProbe {
                    seat: seat.clone(),
                    contact: contact.clone(),
                    to: probe.to,
                });
            }
        }
        out.sort_by(|a, b| (&a.seat, &a.contact).cmp(&(&b.seat, &b.contact)));
        out
    }

    /// The earliest instant a probe is due, for the driver's timer.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.contacts.values().map(|p| p.next_due).min()
    }

    /// Records the outcome of a probe; logs each reachability transition. An answer
    /// restarts the interval from `now`.
    pub(crate) fn on_result(&mut self, seat: &str, contact: &str, now: Instant, answered: bool) {
        let key = (seat.to_string(), contact.to_string());
        let Some(probe) = self.contacts.get_mut(&key) else {
            return;
        };
        let before = probe.reach;
        if answered {
            probe.next_due = probe.next_due.max(now + self.interval);
        }
        probe.reach = match (before, answered) {
            (_, true) => Reach::Reachable { misses: 0 },
            (Reach::Unreachable, false) => Reach::Unreachable,
            (Reach::Reachable { misses }, false) if misses + 1 >= self.limit => Reach::Unreachable,
            (Reach::Reachable { misses }, false) => Reach::Reachable { misses: misses + 1 },
        };
        match (before, probe.reach) {
            (Reach::Reachable { .. }, Reach::Unreachable) => {
                tracing::warn!(seat, contact, to = %probe.to, misses = self.limit, "seat contact unreachable");
            }
            (Reach::Unreachable, Reach::Reachable { .. }) => {
                tracing::info!(seat, contact, to = %probe.to, "seat contact reachable again");
            }
            _ => {}
        }
    }

    /// True when the contact is known and not unreachable.
    pub(crate) fn is_reachable(&self, seat: &str, contact: &str) -> bool {
        self.contacts
            .get(&(seat.to_string(), contact.to_string()))
            .is_some_and(|p| matches!(p.reach, Reach::Reachable { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(contact: &str, now: Instant) -> Binding {
        Binding {
            contact: contact.to_string(),
            expires_at: now + Duration::from_secs(3600),
            q: None,
            call_id: "c".into(),
            cseq: 1,
            source: "192.0.2.10:5060".parse().unwrap(),
        }
    }

    #[test]
    fn probes_follow_the_interval_and_misses() {
        let t0 = Instant::now();
        let mut q = Qualify::new(Duration::from_secs(30), 2);
        q.sync(t0, "seat01", &[binding("sip:a@192.0.2.10", t0)]);
        assert!(q.due(t0).is_empty());
        assert_eq!(q.next_due(), Some(t0 + Duration::from_secs(30)));
        let due = q.due(t0 + Duration::from_secs(30));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].to, "192.0.2.10:5060".parse().unwrap());
        assert!(q.due(t0 + Duration::from_secs(31)).is_empty());
        q.on_result("seat01", "sip:a@192.0.2.10", t0, false);
        assert!(q.is_reachable("seat01", "sip:a@192.0.2.10"));
        q.on_result("seat01", "sip:a@192.0.2.10", t0, false);
        assert!(!q.is_reachable("seat01", "sip:a@192.0.2.10"));
        q.on_result("seat01", "sip:a@192.0.2.10", t0, true);
        assert!(q.is_reachable("seat01", "sip:a@192.0.2.10"));
        q.sync(t0, "seat01", &[]);
        assert!(!q.is_reachable("seat01", "sip:a@192.0.2.10"));
        assert_eq!(q.next_due(), None);
    }
}
