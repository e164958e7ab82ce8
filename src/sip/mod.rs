//! SIP signalling: messages, ingress checks, transactions, dialogs, registrar, transports.
//!
//! The protocol layer: it imports nothing from the domain above it (`gateway`, `routing`,
//! `screening`, `media`, `store`, `api`); `tests/layers.rs` holds that.
pub mod conn_limit;
pub mod dialog;
pub mod fd_budget;
pub mod framing;
pub mod header;
pub mod ingress;
pub mod message;
pub mod parse;
pub mod rate_limit;
pub mod refusal;
pub mod registrar;
pub mod reply;
pub mod transaction;
pub mod transport;
