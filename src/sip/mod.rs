//! SIP signalling: messages, ingress checks, transactions, registrar, transports.
pub mod framing;
pub mod header;
pub mod ingress;
pub mod message;
pub mod parse;
pub mod rate_limit;
pub mod registrar;
pub mod reply;
pub mod transaction;
pub mod endpoint;
pub mod server;
pub mod transport;
