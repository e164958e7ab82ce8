//! Dispatch from the layer to the four state machines of §17 (Figures 5–8).

use std::time::Instant;

use super::key::AckKey;
use super::{client, client_invite, server, server_invite};
use super::{Action, Peer, TransactionError};
use crate::sip::message::{Method, Request, Response};

/// One of the four transaction kinds.
#[derive(Debug)]
pub(crate) enum Machine {
    ClientInvite(client_invite::ClientInvite),
    Client(client::Client),
    ServerInvite(server_invite::ServerInvite),
    Server(server::Server),
}

/// A live transaction: its machine and where its messages go.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Client: where the request goes. Server: where the request came from, so responses
    /// go back to the source address (RFC 3581 symmetric response routing).
    pub(crate) peer: Peer,
    pub(crate) machine: Machine,
    /// Registered once a 2xx left a server INVITE transaction.
    pub(crate) ack_key: Option<AckKey>,
    /// The slot of this transaction in the layer's deadline index: the machine's
    /// [`Machine::next_timeout`] when the layer last looked, and a tie-breaking sequence.
    pub(crate) deadline: Option<(Instant, u64)>,
}

impl Machine {
    /// The earliest pending timer of the transaction.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        match self {
            Machine::ClientInvite(m) => m.next_timeout(),
            Machine::Client(m) => m.next_timeout(),
            Machine::ServerInvite(m) => m.next_timeout(),
            Machine::Server(m) => m.next_timeout(),
        }
    }

    /// The state's name, for logs and tests.
    pub(crate) fn state_name(&self) -> String {
        match self {
            Machine::ClientInvite(m) => format!("{:?}", m.state()),
            Machine::Client(m) => format!("{:?}", m.state()),
            Machine::ServerInvite(m) => format!("{:?}", m.state()),
            Machine::Server(m) => format!("{:?}", m.state()),
        }
    }

    /// True once the machine reached Terminated and can be dropped.
    pub(crate) fn is_terminated(&self) -> bool {
        match self {
            Machine::ClientInvite(m) => m.state() == client_invite::State::Terminated,
            Machine::Client(m) => m.state() == client::State::Terminated,
            Machine::ServerInvite(m) => m.state() == server_invite::State::Terminated,
            Machine::Server(m) => m.state() == server::State::Terminated,
        }
    }

    /// A timer may have fired.
    pub(crate) fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        match self {
            Machine::ClientInvite(m) => m.on_event(now, client_invite::Input::Timer),
            Machine::Client(m) => m.on_event(now, client::Input::Timer),
            Machine::ServerInvite(m) => m
                .on_event(now, server_invite::Input::Timer)
                .unwrap_or_default(),
            Machine::Server(m) => m.on_event(now, server::Input::Timer).unwrap_or_default(),
        }
    }

    /// A response matched the key; only client transactions take it.
    pub(crate) fn on_response(&mut self, now: Instant, response: Response) -> Vec<Action> {
        match self {
            Machine::ClientInvite(m) => m.on_event(now, client_invite::Input::Response(response)),
            Machine::Client(m) => m.on_event(now, client::Input::Response(response)),
            Machine::ServerInvite(_) | Machine::Server(_) => Vec::new(),
        }
    }

    /// A request matched the key (retransmission, or ACK for a server INVITE).
    pub(crate) fn on_request(&mut self, now: Instant, request: Request) -> Vec<Action> {
        let result = match self {
            Machine::ServerInvite(m) if request.method == Method::Ack => {
                m.on_event(now, server_invite::Input::Ack(request))
            }
            Machine::ServerInvite(m) => m.on_event(now, server_invite::Input::Invite),
            Machine::Server(m) => m.on_event(now, server::Input::Request),
            Machine::ClientInvite(_) | Machine::Client(_) => Ok(Vec::new()),
        };
        result.unwrap_or_default()
    }

    /// The TU answers a server transaction.
    pub(crate) fn respond(
        &mut self,
        now: Instant,
        response: Response,
    ) -> Result<Vec<Action>, TransactionError> {
        match self {
            Machine::ServerInvite(m) => m.on_event(now, server_invite::Input::Respond(response)),
            Machine::Server(m) => m.on_event(now, server::Input::Respond(response)),
            Machine::ClientInvite(_) | Machine::Client(_) => Err(TransactionError::NotServer),
        }
    }
}
