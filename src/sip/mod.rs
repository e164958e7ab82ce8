//! SIP signalling: messages, ingress checks, transactions, registrar, transports.
pub mod header;
pub mod message;
pub mod registrar;
pub mod reply;
