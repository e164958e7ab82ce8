//! SIP signalling: messages, ingress checks, transactions, registrar, transports.
pub mod b2bua;
pub mod dialog;
pub mod endpoint;
pub mod framing;
pub mod header;
pub mod ingress;
pub mod message;
pub mod parse;
pub mod rate_limit;
pub mod records;
pub mod refusal;
pub mod registrar;
pub mod reply;
pub mod server;
pub mod transaction;
pub mod transport;
