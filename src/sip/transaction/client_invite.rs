//! The INVITE client transaction (RFC 3261 §17.1.1, Figure 5, as updated by RFC 6026 §8.4).
//!
//! ```text
//!                                |INVITE from TU
//!              Timer A fires     |INVITE sent
//!              Reset A,          V                      Timer B fires
//!              INVITE sent +-----------+                or Transport Err.
//!                +---------|           |---------------+inform TU
//!                |         |  Calling  |               |
//!                +-------->|           |-------------->|
//!                          +-----------+ 2xx           |
//!                             |  |       2xx to TU     |
//!                             |  |1xx    ------------->+-----------+
//!     300-699 +---------------+  |1xx to TU            | Accepted  |<-+ 2xx to TU
//!     ACK sent|                  |                     |           |--+
//!  resp. to TU|  1xx             V                     +-----------+
//!             |  1xx to TU  -----------+                 |Timer M
//!             |  +---------|           |                 |fires
//!             |  |         |Proceeding |----2xx to TU--->|(Accepted)
//!             |  +-------->|           |                 V
//!             |            +-----------+            Terminated
//!             |   300-699     |
//!             |   ACK sent,   |
//!             |   resp. to TU |
//!             |               V
//!             |   +-----------+   300-699: ACK sent (not passed up)
//!             +-->| Completed |--+
//!                 |           |<-+
//!                 +-----------+
//!                    | Timer D fires
//!                    V
//!                 Terminated
//! ```

use std::time::Instant;

use super::timers::{expired, Backoff, Timers};
use super::{Action, Transport};
use crate::sip::message::{Message, Method, Request, Response};

/// The states of Figure 5 plus RFC 6026 Accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Terminated,
}

/// What can happen to the transaction after it started.
#[derive(Debug)]
pub(crate) enum Input {
    /// A response matched it (§17.1.3).
    Response(Response),
    /// The layer's clock reached [`ClientInvite::next_timeout`].
    Timer,
}

/// One INVITE client transaction.
#[derive(Debug)]
pub(crate) struct ClientInvite {
    state: State,
    request: Request,
    /// The ACK built for the first non-2xx final response, re-sent on retransmissions.
    ack: Option<Request>,
    /// Timer A (UDP only).
    timer_a: Option<Backoff>,
    /// Timer B in Calling, D in Completed, M in Accepted.
    deadline: Option<Instant>,
    timers: Timers,
    transport: Transport,
}

impl ClientInvite {
    /// Sends the INVITE and arms Timers A (UDP) and B (§17.1.1.2).
    pub(crate) fn start(
        now: Instant,
        timers: Timers,
        transport: Transport,
        request: Request,
    ) -> (ClientInvite, Vec<Action>) {
        let timer_a = (transport == Transport::Udp).then(|| Backoff::start(now, timers.t1, None));
        let send = Action::Send(Message::Request(request.clone()));
        let txn = ClientInvite {
            state: State::Calling,
            request,
            ack: None,
            timer_a,
            deadline: Some(now + timers.timeout()),
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
        let a = self.timer_a.map(|a| a.at());
        [a, self.deadline].into_iter().flatten().min()
    }

    /// The transition function of Figure 5.
    pub(crate) fn on_event(&mut self, now: Instant, input: Input) -> Vec<Action> {
        use State::*;
        match (self.state, input) {
            (Calling | Proceeding, Input::Response(r)) if r.status < 200 => {
                self.state = Proceeding;
                self.timer_a = None;
                self.deadline = None;
                vec![Action::Response(r)]
            }
            (Calling | Proceeding, Input::Response(r)) if r.status < 300 => {
                self.state = Accepted;
                self.timer_a = None;
                self.deadline = Some(now + self.timers.timeout());
                vec![Action::Response(r)]
            }
            (Calling | Proceeding, Input::Response(r)) => {
                let ack = build_ack(&self.request, &r);
                self.ack = Some(ack.clone());
                self.state = Completed;
                self.timer_a = None;
                self.deadline = Some(now + self.timers.timer_d(self.transport));
                vec![Action::Send(Message::Request(ack)), Action::Response(r)]
            }
            (Completed, Input::Response(r)) if r.status >= 300 => self.resend_ack(),
            (Accepted, Input::Response(r)) if (200..300).contains(&r.status) => {
                vec![Action::Response(r)]
            }
            (_, Input::Response(_)) | (Terminated, Input::Timer) => Vec::new(),
            (_, Input::Timer) => self.on_timer(now),
        }
    }

    fn resend_ack(&self) -> Vec<Action> {
        self.ack
            .iter()
            .map(|ack| Action::Send(Message::Request(ack.clone())))
            .collect()
    }

    fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        if expired(self.deadline, now) {
            let timed_out = self.state == State::Calling;
            self.state = State::Terminated;
            self.timer_a = None;
            self.deadline = None;
            // Timer B is a failure reported to the TU; D and M end quietly.
            return if timed_out {
                vec![Action::Timeout]
            } else {
                Vec::new()
            };
        }
        match &mut self.timer_a {
            Some(a) if a.due(now) => {
                a.step(now);
                vec![Action::Send(Message::Request(self.request.clone()))]
            }
            _ => Vec::new(),
        }
    }
}

/// The ACK for a non-2xx final response (§17.1.1.3): Request-URI, Call-ID, From, the top Via
/// (same branch) and Route of the INVITE; To of the response (with its tag); CSeq number of
/// the INVITE with method ACK.
pub(crate) fn build_ack(invite: &Request, response: &Response) -> Request {
    let mut ack = Request::new(Method::Ack, invite.uri.clone());
    let h = &invite.headers;
    if let Some(via) = h.get("Via") {
        ack.headers.push("Via", via);
    }
    ack.headers
        .push("Max-Forwards", h.get("Max-Forwards").unwrap_or("70"));
    for name in ["From", "Call-ID"] {
        if let Some(value) = h.get(name) {
            ack.headers.push(name, value);
        }
    }
    if let Some(to) = response.headers.get("To") {
        ack.headers.push("To", to);
    }
    let seq = h
        .get("CSeq")
        .and_then(|c| c.split_whitespace().next())
        .unwrap_or("1");
    ack.headers.push("CSeq", format!("{seq} ACK"));
    for route in h.get_all("Route") {
        ack.headers.push("Route", route);
    }
    ack
}
