//! The SIP transaction layer (RFC 3261 §17, with the RFC 6026 Accepted states), sans-IO.
//!
//! The layer owns every live transaction. Input comes through [`TransactionLayer::handle_message`],
//! [`TransactionLayer::send_request`], [`TransactionLayer::respond`] and
//! [`TransactionLayer::handle_timeout`], each taking `now`; output is pulled with
//! [`TransactionLayer::poll_transmit`], [`TransactionLayer::poll_event`] and
//! [`TransactionLayer::poll_timeout`]. Nothing here reads a clock or touches a socket: the shell
//! prints each [`Transmit`] and sends it, and sleeps until `poll_timeout`.
//!
//! Matching follows §17.1.3 and §17.2.3 (`key.rs`); each kind of transaction is one state
//! machine: `client_invite.rs` (Figure 5), `client.rs` (Figure 6), `server_invite.rs`
//! (Figure 7), `server.rs` (Figure 8). Timer values are in [`Timers`].

mod client;
mod client_invite;
mod key;
mod layer;
mod machine;
mod server;
mod server_invite;
mod timers;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;

pub use key::{Role, TxKey};
pub use layer::TransactionLayer;
pub use timers::Timers;

use crate::sip::header::HeaderError;
use crate::sip::message::{Message, Request, Response};

/// The transport a peer is reached over. Reliable transports skip the request and response
/// retransmissions (Timers A, E, G) and use zero Timers D, I, J and K (§17.1.1.2, §17.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Unreliable datagrams.
    Udp,
    /// A reliable stream.
    Tcp,
}

/// The far end of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// How to reach it.
    pub transport: Transport,
    /// Its address (for a server transaction, the source of the request).
    pub addr: SocketAddr,
}

/// A message the shell must print ([`Message::to_bytes`]) and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub to: Peer,
    /// What to send.
    pub message: Message,
}

/// What the layer reports to the transaction user (the B2BUA and dialog layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxEvent {
    /// A new server transaction (INVITE, CANCEL, BYE, ...): answer it with
    /// [`TransactionLayer::respond`].
    Request {
        /// The new transaction.
        key: TxKey,
        /// Where it came from.
        from: Peer,
        /// The request.
        request: Request,
    },
    /// A response for a client transaction; in Accepted (RFC 6026) 2xx retransmissions too.
    Response {
        /// The client transaction.
        key: TxKey,
        /// The response.
        response: Response,
    },
    /// An ACK for a 2xx: it is not part of the INVITE transaction (§17.1.1.3) and goes to the
    /// dialog layer. Seen once per received ACK; ACKs for non-2xx responses are absorbed.
    Ack {
        /// Where it came from.
        from: Peer,
        /// The ACK.
        request: Request,
    },
    /// The transaction failed: Timer B or F (no final response), Timer H (no ACK for a
    /// non-2xx) or Timer L (no ACK for a 2xx; the B2BUA should send BYE).
    Timeout {
        /// The failed transaction.
        key: TxKey,
    },
    /// The transaction ended and its key was forgotten.
    Terminated {
        /// The ended transaction.
        key: TxKey,
    },
    /// A response that matched no client transaction (§18.1.2 drops it; reported for metrics
    /// and for late 2xx retransmissions the dialog layer may still ACK).
    StrayResponse {
        /// Where it came from.
        from: Peer,
        /// The response.
        response: Response,
    },
}

/// Why the layer refused a request or response from the TU, or could not key a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// A header needed to key the transaction is absent.
    #[error("missing {header} header")]
    MissingHeader {
        /// The header's canonical name.
        header: &'static str,
    },
    /// A header needed to key the transaction does not parse.
    #[error(transparent)]
    BadHeader(#[from] HeaderError),
    /// A request sent statefully must carry a `z9hG4bK` branch in its top Via (§8.1.1.7).
    #[error("top Via has no RFC 3261 branch")]
    NoRfc3261Branch,
    /// ACK is never a client transaction (§17.1.1.3); use [`TransactionLayer::send_stateless`].
    #[error("ACK is not a transaction; send it stateless")]
    AckNotTransaction,
    /// A transaction with this key is alive already.
    #[error("transaction {key} already exists")]
    Duplicate {
        /// The clashing key.
        key: TxKey,
    },
    /// No live transaction has this key (it ended, or never existed).
    #[error("no transaction {key}")]
    Unknown {
        /// The key asked for.
        key: TxKey,
    },
    /// Only server transactions take responses from the TU.
    #[error("not a server transaction")]
    NotServer,
    /// The status code is not in 100..=699.
    #[error("status {status} is not a SIP status code")]
    InvalidStatus {
        /// The status given.
        status: u16,
    },
    /// A final response was sent already (§17.2: one final response per transaction;
    /// RFC 6026 allows further 2xx only after a 2xx).
    #[error("final response {status} already sent, cannot send {attempted}")]
    AlreadyFinal {
        /// The final status that was sent.
        status: u16,
        /// The status refused.
        attempted: u16,
    },
}

/// What a state machine asks the layer to do.
#[derive(Debug)]
pub(crate) enum Action {
    /// Send a message to the transaction's peer.
    Send(Message),
    /// Pass a response up ([`TxEvent::Response`]).
    Response(Response),
    /// Pass an ACK for a 2xx up ([`TxEvent::Ack`]).
    Ack(Request),
    /// Report a timeout ([`TxEvent::Timeout`]).
    Timeout,
}
