//! SIP signalling: messages, ingress checks, transactions, registrar, transports.
pub mod message;
