//! [`TransactionLayer`]: the table of live transactions and the handle/poll surface.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use super::key::AckKey;
use super::machine::{Entry, Machine};
use super::{client, client_invite, server, server_invite};
use super::{Action, Peer, Role, Timers, TransactionError, Transmit, TxEvent, TxKey};
use crate::sip::message::{Message, Method, Request, Response};

/// Zero-length timers (D, I, J, K over TCP) fire within the call that armed them; this bounds
/// the loop should a misconfigured T1 of zero keep re-arming a retransmission at `now`.
const MAX_IMMEDIATE_FIRINGS: usize = 8;

/// Every live client and server transaction, with the queues the shell drains.
///
/// Terminated transactions are removed at once (a [`TxEvent::Terminated`] reports it), so the
/// table only holds transactions whose timers still run: [`TransactionLayer::len`] is bounded
/// by the traffic of the last 64*T1 seconds.
///
/// Timers are kept in a deadline index ordered by time, so [`TransactionLayer::poll_timeout`]
/// is O(1) and [`TransactionLayer::handle_timeout`] costs O(due · log n), not a scan of every
/// live transaction (at 1,000 calls/s some 100,000 transactions wait out Timers J, K, L, M).
#[derive(Debug)]
pub struct TransactionLayer {
    timers: Timers,
    txns: HashMap<TxKey, Entry>,
    /// Every pending timer: (due, sequence) → transaction. Each entry's `deadline` names its
    /// slot; the sequence keeps equal instants apart and fires them in scheduling order.
    deadlines: BTreeMap<(Instant, u64), TxKey>,
    next_seq: u64,
    /// 2xx ACK matching for server INVITE transactions in Accepted (RFC 6026 §7.1).
    acks: HashMap<AckKey, TxKey>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TxEvent>,
}

impl TransactionLayer {
    /// An empty layer with the given timer values.
    pub fn new(timers: Timers) -> Self {
        TransactionLayer {
            timers,
            txns: HashMap::new(),
            deadlines: BTreeMap::new(),
            next_seq: 0,
            acks: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// A message arrived from `from`. Requests matching a server transaction are absorbed
    /// (a retransmission re-sends the last response); new requests create a server transaction
    /// and yield [`TxEvent::Request`]; responses go to their client transaction (§17.1.3).
    /// Messages that cannot be keyed (no Via, bad CSeq) are dropped.
    pub fn handle_message(&mut self, now: Instant, from: Peer, msg: Message) {
        match msg {
            Message::Request(request) => self.on_request(now, from, request),
            Message::Response(response) => self.on_response(now, from, response),
        }
    }

    /// Sends `req` statefully to `to`. The request carries its top Via with an RFC 3261
    /// branch (built by the caller); the returned key names the client transaction.
    pub fn send_request(
        &mut self,
        now: Instant,
        to: Peer,
        req: Request,
    ) -> Result<TxKey, TransactionError> {
        if req.method == Method::Ack {
            return Err(TransactionError::AckNotTransaction);
        }
        let key = TxKey::client_for_request(&req)?;
        if self.txns.contains_key(&key) {
            return Err(TransactionError::Duplicate { key });
        }
        let (machine, actions) = if req.method == Method::Invite {
            let (m, a) = client_invite::ClientInvite::start(now, self.timers, to.transport, req);
            (Machine::ClientInvite(m), a)
        } else {
            let (m, a) = client::Client::start(now, self.timers, to.transport, req);
            (Machine::Client(m), a)
        };
        self.insert(now, key.clone(), to, machine, actions);
        Ok(key)
    }

    /// Answers the server transaction `key` with a provisional or final response.
    pub fn respond(
        &mut self,
        now: Instant,
        key: &TxKey,
        resp: Response,
    ) -> Result<(), TransactionError> {
        if !(100..=699).contains(&resp.status) {
            return Err(TransactionError::InvalidStatus {
                status: resp.status,
            });
        }
        if key.role() != Role::Server {
            return Err(TransactionError::NotServer);
        }
        let ack_key = (key.method() == &Method::Invite && (200..300).contains(&resp.status))
            .then(|| AckKey::of(&resp.headers))
            .flatten();
        self.drive(now, key, None, |m| m.respond(now, resp))?;
        if let (Some(ack_key), Some(entry)) = (ack_key, self.txns.get_mut(key)) {
            self.acks.insert(ack_key.clone(), key.clone());
            entry.ack_key = Some(ack_key);
        }
        Ok(())
    }

    /// Sends a message outside any transaction, e.g. the ACK for a 2xx (§17.1.1.3, §13.2.2.4).
    pub fn send_stateless(&mut self, to: Peer, msg: Message) {
        self.transmits.push_back(Transmit { to, message: msg });
    }

    /// Fires every timer due at `now`, earliest first (so events come out in time order).
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<TxKey> = self
            .deadlines
            .range(..=(now, u64::MAX))
            .map(|(_, key)| key.clone())
            .collect();
        for key in due {
            let _ = self.drive(now, &key, None, |m| Ok(m.on_timer(now)));
        }
    }

    /// When [`TransactionLayer::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.keys().next().map(|(at, _)| *at)
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<TxEvent> {
        self.events.pop_front()
    }

    /// How many transactions are alive.
    pub fn len(&self) -> usize {
        self.txns.len()
    }

    /// True when no transaction is alive.
    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    /// The INVITE server transaction a CANCEL targets: same top Via branch and sent-by (or the
    /// same RFC 2543 key), method INVITE (§9.2).
    pub fn find_invite_for_cancel(&self, cancel: &Request) -> Option<TxKey> {
        let key = TxKey::server(cancel).ok()?.with_method(Method::Invite);
        self.txns.contains_key(&key).then_some(key)
    }

    /// The state name of a live transaction (for logs and tests).
    pub fn state_of(&self, key: &TxKey) -> Option<String> {
        self.txns.get(key).map(|e| e.machine.state_name())
    }

    /// How many 2xx ACK matchers are registered (they must go with their transactions).
    #[cfg(test)]
    pub(crate) fn ack_matchers(&self) -> usize {
        self.acks.len()
    }

    fn on_request(&mut self, now: Instant, from: Peer, request: Request) {
        let key = match TxKey::server(&request) {
            Ok(key) => key,
            Err(err) => {
                tracing::debug!(%err, method = %request.method, "request dropped: no transaction key");
                return;
            }
        };
        if self.txns.contains_key(&key) {
            let _ = self.drive(now, &key, Some(from), |m| Ok(m.on_request(now, request)));
        } else if request.method == Method::Ack {
            self.on_unmatched_ack(now, from, request);
        } else {
            self.create_server(now, key, from, request);
        }
    }

    /// An ACK with a branch of its own: the ACK for a 2xx, matched by dialog (RFC 6026 §7.1)
    /// or passed to the dialog layer.
    fn on_unmatched_ack(&mut self, now: Instant, from: Peer, ack: Request) {
        let key = AckKey::of(&ack.headers).and_then(|k| self.acks.get(&k).cloned());
        match key {
            Some(key) => {
                let _ = self.drive(now, &key, Some(from), |m| Ok(m.on_request(now, ack)));
            }
            None => self.events.push_back(TxEvent::Ack { from, request: ack }),
        }
    }

    fn create_server(&mut self, now: Instant, key: TxKey, from: Peer, request: Request) {
        let (machine, actions) = if request.method == Method::Invite {
            let (m, a) = server_invite::ServerInvite::start(self.timers, from.transport, &request);
            (Machine::ServerInvite(m), a)
        } else {
            let m = server::Server::start(self.timers, from.transport);
            (Machine::Server(m), Vec::new())
        };
        self.events.push_back(TxEvent::Request {
            key: key.clone(),
            from,
            request,
        });
        self.insert(now, key, from, machine, actions);
    }

    fn on_response(&mut self, now: Instant, from: Peer, response: Response) {
        match TxKey::client_for_response(&response) {
            Ok(key) if self.txns.contains_key(&key) => {
                let _ = self.drive(now, &key, Some(from), |m| Ok(m.on_response(now, response)));
            }
            Ok(_) => self
                .events
                .push_back(TxEvent::StrayResponse { from, response }),
            Err(err) => tracing::debug!(%err, "response dropped: no transaction key"),
        }
    }

    fn insert(
        &mut self,
        now: Instant,
        key: TxKey,
        peer: Peer,
        machine: Machine,
        actions: Vec<Action>,
    ) {
        let entry = Entry {
            peer,
            machine,
            ack_key: None,
            deadline: None,
        };
        self.txns.insert(key.clone(), entry);
        let _ = self.drive(now, &key, None, |_| Ok(actions));
    }

    /// Runs one input through the machine of `key`, fires timers that are already due (the
    /// zero-length ones), turns the actions into transmits and events, and drops the
    /// transaction once it reached Terminated.
    fn drive(
        &mut self,
        now: Instant,
        key: &TxKey,
        from: Option<Peer>,
        input: impl FnOnce(&mut Machine) -> Result<Vec<Action>, TransactionError>,
    ) -> Result<(), TransactionError> {
        let entry = self
            .txns
            .get_mut(key)
            .ok_or_else(|| TransactionError::Unknown { key: key.clone() })?;
        let mut actions = input(&mut entry.machine)?;
        for _ in 0..MAX_IMMEDIATE_FIRINGS {
            let due = entry.machine.next_timeout().is_some_and(|at| at <= now);
            if !due || entry.machine.is_terminated() {
                break;
            }
            actions.extend(entry.machine.on_timer(now));
        }
        let peer = entry.peer;
        for action in actions {
            self.apply(key, peer, from.unwrap_or(peer), action);
        }
        self.remove_if_terminated(key);
        self.reschedule(key);
        Ok(())
    }

    /// Puts the deadline index in step with the machine of `key` after it ran (its timer may
    /// have been armed, moved or cleared).
    fn reschedule(&mut self, key: &TxKey) {
        let Some(entry) = self.txns.get_mut(key) else {
            return;
        };
        let next = entry.machine.next_timeout();
        if entry.deadline.map(|(at, _)| at) == next {
            return;
        }
        if let Some(slot) = entry.deadline.take() {
            self.deadlines.remove(&slot);
        }
        if let Some(at) = next {
            let slot = (at, self.next_seq);
            self.next_seq += 1;
            self.deadlines.insert(slot, key.clone());
            entry.deadline = Some(slot);
        }
    }

    /// The earliest machine timer found by looking at every transaction (what the index
    /// must agree with).
    #[cfg(test)]
    pub(crate) fn scan_next_timeout(&self) -> Option<Instant> {
        self.txns
            .values()
            .filter_map(|e| e.machine.next_timeout())
            .min()
    }

    /// The deadline index holds exactly the pending timers of the live transactions.
    #[cfg(test)]
    pub(crate) fn deadlines_consistent(&self) -> bool {
        let live = self
            .txns
            .iter()
            .filter(|(_, e)| e.machine.next_timeout().is_some())
            .count();
        live == self.deadlines.len()
            && self
                .txns
                .iter()
                .all(|(key, e)| match (e.machine.next_timeout(), e.deadline) {
                    (None, None) => true,
                    (Some(at), Some(slot)) => {
                        slot.0 == at && self.deadlines.get(&slot) == Some(key)
                    }
                    _ => false,
                })
    }

    fn apply(&mut self, key: &TxKey, peer: Peer, from: Peer, action: Action) {
        let key = key.clone();
        match action {
            Action::Send(message) => self.transmits.push_back(Transmit { to: peer, message }),
            Action::Response(response) => {
                self.events.push_back(TxEvent::Response { key, response })
            }
            Action::Ack(request) => self.events.push_back(TxEvent::Ack { from, request }),
            Action::Timeout => self.events.push_back(TxEvent::Timeout { key }),
        }
    }

    fn remove_if_terminated(&mut self, key: &TxKey) {
        if !self
            .txns
            .get(key)
            .is_some_and(|e| e.machine.is_terminated())
        {
            return;
        }
        if let Some(entry) = self.txns.remove(key) {
            if let Some(slot) = entry.deadline {
                self.deadlines.remove(&slot);
            }
            if let Some(ack_key) = entry.ack_key {
                self.acks.remove(&ack_key);
            }
            self.events
                .push_back(TxEvent::Terminated { key: key.clone() });
        }
    }
}
