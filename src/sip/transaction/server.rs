//! The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8). CANCEL is one of these
//! (§9.2): it gets its own response, independent of the INVITE it cancels.
//!
//! ```text
//!                                   |Request received
//!                                   |pass to TU
//!                                   V
//!                             +-----------+
//!                             |           |
//!                             | Trying    |-------------+
//!                             |           |             |
//!                             +-----------+             |200-699 from TU
//!                                   |                   |send response
//!                                   |1xx from TU        |
//!                                   |send response      |
//!                                   |                   |
//!                Request            V      1xx from TU  |
//!                send response+-----------+send response|
//!                    +--------|           |--------+    |
//!                    |        | Proceeding|        |    |
//!                    +------->|           |<-------+    |
//!                             +-----------+             |
//!                200-699 from TU    |                   |
//!                send response      |                   |
//!                                   V                   |
//!                Request      +-----------+             |
//!                send response|           |<------------+
//!                    +--------| Completed |
//!                    |        |           |
//!                    +------->+-----------+
//!                                   | Timer J fires
//!                                   V
//!                             +-----------+
//!                             | Terminated|
//!                             +-----------+
//! ```

use std::time::Instant;

use super::timers::{expired, Timers};
use super::{Action, TransactionError, Transport};
use crate::sip::message::{Message, Response};

/// The states of Figure 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// What can happen to the transaction after it was created.
#[derive(Debug)]
pub(crate) enum Input {
    /// A retransmission of the request (same key).
    Request,
    /// The TU answers.
    Respond(Response),
    /// The layer's clock reached [`Server::next_timeout`].
    Timer,
}

/// One non-INVITE server transaction.
#[derive(Debug)]
pub(crate) struct Server {
    state: State,
    /// The last response sent, re-sent on request retransmissions.
    last: Option<Response>,
    /// Timer J in Completed.
    deadline: Option<Instant>,
    timers: Timers,
    transport: Transport,
}

impl Server {
    /// Creates the transaction in Trying; the request goes to the TU (§17.2.2).
    pub(crate) fn start(timers: Timers, transport: Transport) -> Server {
        Server {
            state: State::Trying,
            last: None,
            deadline: None,
            timers,
            transport,
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// The earliest pending timer.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The transition function of Figure 8.
    pub(crate) fn on_event(
        &mut self,
        now: Instant,
        input: Input,
    ) -> Result<Vec<Action>, TransactionError> {
        use State::*;
        Ok(match (self.state, input) {
            // §17.2.2: retransmissions in Trying are discarded.
            (Trying, Input::Request) | (Terminated, _) => Vec::new(),
            (Proceeding | Completed, Input::Request) => self.send_last(),
            (Trying | Proceeding, Input::Respond(r)) => {
                if r.status >= 200 {
                    self.state = Completed;
                    self.deadline = Some(now + self.timers.timer_j(self.transport));
                } else {
                    self.state = Proceeding;
                }
                self.last = Some(r);
                self.send_last()
            }
            (Completed, Input::Respond(r)) => {
                let status = self.last.as_ref().map_or(0, |l| l.status);
                return Err(TransactionError::AlreadyFinal {
                    status,
                    attempted: r.status,
                });
            }
            (_, Input::Timer) => {
                if expired(self.deadline, now) {
                    self.state = Terminated;
                    self.deadline = None;
                }
                Vec::new()
            }
        })
    }

    fn send_last(&self) -> Vec<Action> {
        self.last
            .iter()
            .map(|r| Action::Send(Message::Response(r.clone())))
            .collect()
    }
}
