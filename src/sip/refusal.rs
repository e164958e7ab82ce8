//! Refusals that cost the gateway (almost) nothing, sans-IO.
//!
//! - An INVITE from a source outside the trunk allow list is answered **once, statelessly**
//!   (RFC 3261 §8.2.7 allows a UAS to respond without a transaction): no server transaction
//!   means no retransmission of the 403 (a transaction would send it 11 times in 32 s over
//!   UDP, RFC 3261 §17.2.1 Timer G: 12 packets out for one in, an amplifier). A
//!   retransmitted INVITE gets one more 403, never more than came in, and the rate limiter in
//!   front drops the excess.
//! - Logging of refusals is budgeted ([`LogGate`]): repeated refusals are counted and
//!   summarised instead of filling the disk.
//! - Slowed registrar answers ([`HeldResponses`]) wait here until due.

use super::message::{Method, Request, Response};
use super::rate_limit::LogGate;
use super::reply::{random_token, response_to};
use super::transaction::{Peer, TxKey};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Refusal log lines per minute at most, per kind.
const LOG_PER_MIN: u32 = 30;
/// Held answers at most; past that an answer goes out at once (memory stays bounded).
pub const MAX_HELD: usize = 4096;

/// Stateless refusals and their log budget.
#[derive(Debug)]
pub struct Refusals {
    server: String,
    untrusted_log: LogGate,
    ingress_log: LogGate,
}

impl Refusals {
    /// Refusals carrying `Server: <server>` (empty: no Server header).
    pub fn new(server: &str) -> Refusals {
        let minute = Duration::from_secs(60);
        Refusals {
            server: server.to_owned(),
            untrusted_log: LogGate::new(LOG_PER_MIN, minute),
            ingress_log: LogGate::new(LOG_PER_MIN, minute),
        }
    }

    /// The stateless 403 for a dialog-creating INVITE from an untrusted source, or `None`
    /// when the request goes on to the transaction layer.
    pub fn untrusted_invite(
        &mut self,
        now: Instant,
        from: Peer,
        request: &Request,
        trusted: bool,
    ) -> Option<Response> {
        if trusted || request.method != Method::Invite || has_to_tag(request) {
            return None;
        }
        if let Some(suppressed) = self.untrusted_log.allow(now) {
            tracing::warn!(peer = %from.addr, suppressed, "INVITE from an address outside the trunk allow list: 403, stateless");
        }
        let mut response = response_to(request, 403, Some(&random_token()));
        if !self.server.is_empty() {
            response.headers.push("Server", self.server.clone());
        }
        Some(response)
    }

    /// The stateless 481 for an INVITE with a To tag (a re-INVITE) from an untrusted source
    /// that matches no call (`known` false): a transaction would retransmit the 481 like any
    /// non-2xx INVITE answer (RFC 3261 §17.2.1), another amplifier. Seats re-INVITE from
    /// untrusted addresses, so a request of a live call goes on.
    pub fn unknown_dialog_invite(
        &mut self,
        now: Instant,
        from: Peer,
        request: &Request,
        trusted: bool,
        known: bool,
    ) -> Option<Response> {
        if trusted || known || request.method != Method::Invite || !has_to_tag(request) {
            return None;
        }
        if let Some(suppressed) = self.untrusted_log.allow(now) {
            tracing::info!(peer = %from.addr, suppressed, "re-INVITE for no call from an untrusted address: 481, stateless");
        }
        let mut response = response_to(request, 481, None);
        if !self.server.is_empty() {
            response.headers.push("Server", self.server.clone());
        }
        Some(response)
    }

    /// Whether a refusal at ingress may be logged now (`Some(left out since)`).
    pub fn log_ingress(&mut self, now: Instant) -> Option<u64> {
        self.ingress_log.allow(now)
    }
}

fn has_to_tag(request: &Request) -> bool {
    request
        .headers
        .get("To")
        .and_then(|to| super::header::NameAddr::parse(to, "To").ok())
        .is_some_and(|to| to.tag().is_some())
}

/// Responses held back until a due time (slowed registrar answers), in due order.
#[derive(Debug, Default)]
pub struct HeldResponses {
    items: BTreeMap<(Instant, u64), (TxKey, Response)>,
    seq: u64,
}

impl HeldResponses {
    /// Holds `response` for transaction `key` until `due` (`None`); when [`MAX_HELD`] are
    /// held already, gives them back (`Some`) to be sent at once.
    #[must_use]
    pub fn hold(
        &mut self,
        due: Instant,
        key: TxKey,
        response: Response,
    ) -> Option<(TxKey, Response)> {
        if self.items.len() >= MAX_HELD {
            return Some((key, response));
        }
        self.seq += 1;
        self.items.insert((due, self.seq), (key, response));
        None
    }

    /// The responses due at `now`, earliest first.
    pub fn due(&mut self, now: Instant) -> Vec<(TxKey, Response)> {
        let later = self.items.split_off(&(now, u64::MAX));
        std::mem::replace(&mut self.items, later)
            .into_values()
            .collect()
    }

    /// When the next one is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.items.keys().next().map(|(at, _)| *at)
    }

    /// How many are held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when none is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transaction::Transport;

    fn invite(to: &str) -> Request {
        let mut req = Request::new(Method::Invite, "sip:112@siaga.local");
        let h = &mut req.headers;
        h.push("Via", "SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bKx1");
        h.push("From", "<sip:a@198.51.100.9>;tag=1");
        h.push("To", to);
        h.push("Call-ID", "c1");
        h.push("CSeq", "1 INVITE");
        req
    }

    fn peer() -> Peer {
        Peer {
            transport: Transport::Udp,
            addr: "198.51.100.9:5060".parse().unwrap(),
        }
    }

    #[test]
    fn untrusted_initial_invite_gets_a_stateless_403_with_our_server_text() {
        let mut r = Refusals::new("PSAP");
        let t0 = Instant::now();
        let resp = r
            .untrusted_invite(t0, peer(), &invite("<sip:112@siaga.local>"), false)
            .unwrap();
        assert_eq!(resp.status, 403);
        assert_eq!(resp.headers.get("Server"), Some("PSAP"));
        assert!(resp.headers.get("To").unwrap().contains(";tag="));
        assert!(r
            .untrusted_invite(t0, peer(), &invite("<sip:112@siaga.local>"), true)
            .is_none());
        // In-dialog requests go on to the dialog layer.
        assert!(r
            .untrusted_invite(t0, peer(), &invite("<sip:112@siaga.local>;tag=9"), false)
            .is_none());
    }

    #[test]
    fn untrusted_reinvite_for_no_call_gets_a_stateless_481() {
        let mut r = Refusals::new("PSAP");
        let t0 = Instant::now();
        let reinvite = invite("<sip:112@siaga.local>;tag=9");
        let resp = r
            .unknown_dialog_invite(t0, peer(), &reinvite, false, false)
            .unwrap();
        assert_eq!(resp.status, 481);
        // A live call's re-INVITE (a seat putting the caller on hold) goes on.
        assert!(r
            .unknown_dialog_invite(t0, peer(), &reinvite, false, true)
            .is_none());
        assert!(r
            .unknown_dialog_invite(t0, peer(), &reinvite, true, false)
            .is_none());
        let initial = invite("<sip:112@siaga.local>");
        assert!(r
            .unknown_dialog_invite(t0, peer(), &initial, false, false)
            .is_none());
    }

    #[test]
    fn held_responses_come_out_in_due_order() {
        let t0 = Instant::now();
        let mut held = HeldResponses::default();
        let req = invite("<sip:112@siaga.local>");
        let key = TxKey::server(&req).unwrap();
        let resp = response_to(&req, 403, None);
        assert!(held
            .hold(t0 + Duration::from_secs(2), key.clone(), resp.clone())
            .is_none());
        assert!(held
            .hold(t0 + Duration::from_secs(1), key.clone(), resp.clone())
            .is_none());
        assert_eq!(held.poll_timeout(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(held.due(t0).len(), 0);
        assert_eq!(held.due(t0 + Duration::from_secs(1)).len(), 1);
        assert_eq!(held.len(), 1);
        assert_eq!(held.due(t0 + Duration::from_secs(5)).len(), 1);
        assert!(held.is_empty());
        for _ in 0..MAX_HELD {
            assert!(held.hold(t0, key.clone(), resp.clone()).is_none());
        }
        assert!(held.hold(t0, key, resp).is_some(), "bounded");
    }
}
