//! The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
//!
//! ```text
//!                                |Request from TU
//!                                |send request
//!            Timer E             V
//!            send request  +-----------+
//!                +---------|           |-------------------+
//!                |         |  Trying   |  Timer F          |
//!                +-------->|           |  or Transport Err.|
//!                          +-----------+  inform TU        |
//!             200-699         |  |                         |
//!             resp. to TU     |  |1xx                      |
//!             +---------------+  |resp. to TU              |
//!             |                  |                         |
//!             |   Timer E        V       Timer F           |
//!             |   send req +-----------+ or Transport Err. |
//!             |  +---------|           | inform TU         |
//!             |  |         |Proceeding |------------------>|
//!             |  +-------->|           |-----+             |
//!             |            +-----------+     |1xx          |
//!             |              |      ^        |resp to TU   |
//!             | 200-699      |      +--------+             |
//!             | resp. to TU  |                             |
//!             |              V                             |
//!             |            +-----------+                   |
//!             |            |           |                   |
//!             |            | Completed |                   |
//!             |            |           |                   |
//!             |            +-----------+                   |
//!             |              ^   |                         |
//!             |              |   | Timer K                 |
//!             +--------------+   | -                       |
//!                                |                         |
//!                                V                         |
//!          NOTE:           +-----------+                   |
//!                          |           |                   |
//!      transitions         | Terminated|<------------------+
//!      labeled with        |           |
//!      the event           +-----------+
//!      over the action
//!      to take
//! ```

use std::time::Instant;

use super::timers::{expired, Backoff, Timers};
use super::{Action, Transport};
use crate::sip::message::{Message, Request, Response};

/// The states of Figure 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// What can happen to the transaction after it started.
#[derive(Debug)]
pub(crate) enum Input {
    /// A response matched it (§17.1.3).
    Response(Response),
    /// The layer's clock reached [`Client::next_timeout`].
    Timer,
}

/// One non-INVITE client transaction.
#[derive(Debug)]
pub(crate) struct Client {
    state: State,
    request: Request,
    /// Timer E (UDP only).
    timer_e: Option<Backoff>,
    /// Timer F in Trying/Proceeding, K in Completed.
    deadline: Option<Instant>,
    timers: Timers,
    transport: Transport,
}

impl Client {
    /// Sends the request and arms Timers E (UDP) and F (§17.1.2.2).
    pub(crate) fn start(
        now: Instant,
        timers: Timers,
        transport: Transport,
        request: Request,
    ) -> (Client, Vec<Action>) {
        let timer_e =
            (transport == Transport::Udp).then(|| Backoff::start(now, timers.t1, Some(timers.t2)));
        let send = Action::Send(Message::Request(request.clone()));
        let txn = Client {
            state: State::Trying,
            request,
            timer_e,
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
        let e = self.timer_e.map(|e| e.at());
        [e, self.deadline].into_iter().flatten().min()
    }

    /// The transition function of Figure 6.
    pub(crate) fn on_event(&mut self, now: Instant, input: Input) -> Vec<Action> {
        use State::*;
        match (self.state, input) {
            (Trying | Proceeding, Input::Response(r)) if r.status < 200 => {
                self.state = Proceeding;
                vec![Action::Response(r)]
            }
            (Trying | Proceeding, Input::Response(r)) => {
                self.state = Completed;
                self.timer_e = None;
                self.deadline = Some(now + self.timers.timer_i_k(self.transport));
                vec![Action::Response(r)]
            }
            (_, Input::Response(_)) | (Terminated, Input::Timer) => Vec::new(),
            (_, Input::Timer) => self.on_timer(now),
        }
    }

    fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        if expired(self.deadline, now) {
            // Timer F is a failure reported to the TU; K ends quietly.
            let timed_out = self.state != State::Completed;
            self.state = State::Terminated;
            self.timer_e = None;
            self.deadline = None;
            return if timed_out {
                vec![Action::Timeout]
            } else {
                Vec::new()
            };
        }
        let t2 = self.timers.t2;
        match &mut self.timer_e {
            Some(e) if e.due(now) => {
                // §17.1.2.2: in Proceeding, Timer E is reset to T2 at each firing.
                if self.state == State::Proceeding {
                    e.step_fixed(now, t2);
                } else {
                    e.step(now);
                }
                vec![Action::Send(Message::Request(self.request.clone()))]
            }
            _ => Vec::new(),
        }
    }
}
