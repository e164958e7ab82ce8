//! The INVITE server transaction (RFC 3261 §17.2.1, Figure 7, as updated by RFC 6026 §7.1).
//!
//! ```text
//!                               |INVITE
//!                               |pass INV to TU
//!            INVITE             V send 100 Trying
//!            send response+-----------+
//!                +--------|           |--------+ 101-199 from TU
//!                |        |Proceeding |        | send response
//!                +------->|           |<-------+
//!                         |           |
//!                         +-----------+              2xx from TU
//!            300-699 from TU |     |2xx from TU       send response
//!            send response   |     |send response    +--------+
//!                            |     +---------------->|Accepted|<--+ ACK: to TU,
//!            INVITE          V                       |        |   | stop 2xx retransmit
//!            send response+-----------+               +--------+---+ INVITE: absorbed
//!                +--------|           |                 | 2xx retransmit (T1→T2)
//!                |        | Completed |<------+         | Timer L fires (Timeout if no ACK)
//!                +------->|           |       |         V
//!                         +-----------+  Timer G    Terminated
//!                 Timer H fires |  |     resend
//!                 inform TU     |  +-------+
//!                    +----------+  | ACK
//!                    |             V
//!                    |        +-----------+  ACK, INVITE: absorbed
//!                    |        | Confirmed |
//!                    |        +-----------+
//!                    |             | Timer I fires
//!                    +-----------> V
//!                             Terminated
//! ```
//!
//! The 2xx retransmission of the Accepted state is the UAS core duty of §13.3.1.4, kept here so
//! the B2BUA gets one place for it. It runs over every transport: the 2xx is end-to-end and a
//! hop behind a proxy may be UDP.

use std::time::Instant;

use super::timers::{expired, Backoff, Timers};
use super::{Action, TransactionError, Transport};
use crate::sip::message::{Message, Request, Response};
use crate::sip::reply::response_to;

/// The states of Figure 7 plus RFC 6026 Accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated,
}

/// What can happen to the transaction after it was created.
#[derive(Debug)]
pub(crate) enum Input {
    /// A retransmission of the INVITE (same key).
    Invite,
    /// An ACK: same key (non-2xx) or matched by dialog to a 2xx sent in Accepted.
    Ack(Request),
    /// The TU answers.
    Respond(Response),
    /// The layer's clock reached [`ServerInvite::next_timeout`].
    Timer,
}

/// One INVITE server transaction.
#[derive(Debug)]
pub(crate) struct ServerInvite {
    state: State,
    /// The last response sent, re-sent on INVITE retransmissions and Timer G.
    last: Response,
    /// Timer G (UDP, Completed) or the 2xx retransmission (Accepted).
    retransmit: Option<Backoff>,
    /// Timer H in Completed, I in Confirmed, L in Accepted.
    deadline: Option<Instant>,
    acked: bool,
    timers: Timers,
    transport: Transport,
}

impl ServerInvite {
    /// Creates the transaction in Proceeding and sends 100 Trying at once (§17.2.1: the TU
    /// may take longer than 200 ms, and the 100 stops the caller's Timer A).
    pub(crate) fn start(
        timers: Timers,
        transport: Transport,
        invite: &Request,
    ) -> (ServerInvite, Vec<Action>) {
        let trying = response_to(invite, 100, None);
        let send = Action::Send(Message::Response(trying.clone()));
        let txn = ServerInvite {
            state: State::Proceeding,
            last: trying,
            retransmit: None,
            deadline: None,
            acked: false,
            timers,
            transport,
        };
        (txn, vec![send])
    }

    /// The current state.
    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// The earliest pending timer.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let r = self.retransmit.map(|r| r.at());
        [r, self.deadline].into_iter().flatten().min()
    }

    /// The transition function of Figure 7.
    pub(crate) fn on_event(
        &mut self,
        now: Instant,
        input: Input,
    ) -> Result<Vec<Action>, TransactionError> {
        use State::*;
        Ok(match (self.state, input) {
            (Proceeding | Completed, Input::Invite) => vec![self.send_last()],
            (Proceeding, Input::Respond(r)) => self.respond(now, r),
            (Accepted, Input::Respond(r)) if (200..300).contains(&r.status) => {
                // RFC 6026 §7.1: further 2xx from the TU are sent in Accepted.
                self.last = r;
                vec![self.send_last()]
            }
            (_, Input::Respond(r)) => {
                return Err(TransactionError::AlreadyFinal {
                    status: self.last.status,
                    attempted: r.status,
                })
            }
            (Completed, Input::Ack(_)) => {
                self.state = Confirmed;
                self.retransmit = None;
                self.deadline = Some(now + self.timers.timer_i_k(self.transport));
                Vec::new()
            }
            (Accepted, Input::Ack(ack)) => {
                self.acked = true;
                self.retransmit = None;
                vec![Action::Ack(ack)]
            }
            (Terminated, Input::Timer) => Vec::new(),
            (_, Input::Timer) => self.on_timer(now),
            (_, Input::Invite | Input::Ack(_)) => Vec::new(),
        })
    }

    fn send_last(&self) -> Action {
        Action::Send(Message::Response(self.last.clone()))
    }

    fn respond(&mut self, now: Instant, response: Response) -> Vec<Action> {
        let status = response.status;
        self.last = response;
        if status >= 300 {
            self.state = State::Completed;
            self.retransmit = (self.transport == Transport::Udp)
                .then(|| Backoff::start(now, self.timers.t1, Some(self.timers.t2)));
            self.deadline = Some(now + self.timers.timeout());
        } else if status >= 200 {
            self.state = State::Accepted;
            self.retransmit = Some(Backoff::start(now, self.timers.t1, Some(self.timers.t2)));
            self.deadline = Some(now + self.timers.timeout());
        }
        vec![self.send_last()]
    }

    fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        if expired(self.deadline, now) {
            // Timer H (no ACK for a non-2xx) and Timer L without an ACK for the 2xx are
            // failures; Timer I and Timer L after an ACK end quietly.
            let timed_out = match self.state {
                State::Completed => true,
                State::Accepted => !self.acked,
                _ => false,
            };
            self.state = State::Terminated;
            self.retransmit = None;
            self.deadline = None;
            return if timed_out {
                vec![Action::Timeout]
            } else {
                Vec::new()
            };
        }
        match &mut self.retransmit {
            Some(r) if r.due(now) => {
                r.step(now);
                vec![self.send_last()]
            }
            _ => Vec::new(),
        }
    }
}
