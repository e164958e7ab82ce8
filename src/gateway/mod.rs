//! The gateway: the domain layer above the SIP protocol cores. The back-to-back user agent
//! ([`b2bua`]), the stateful sans-IO [`endpoint`] that owns the transaction layer, the
//! registrar, the ACD and the calls, its async [`driver`] (sockets, timers, media), the
//! call-record writer ([`record_writer`]), and the one typed surface into the running
//! gateway ([`surface`]: [`Command`]s in, [`Event`]s out, through a [`Handle`]).
pub mod b2bua;
pub mod commands;
pub mod driver;
pub mod endpoint;
pub mod history;
pub mod prompts;
pub mod record_writer;
pub mod registrations;
pub mod surface;
pub mod verdict_tap;

pub use surface::{CallView, Command, CommandError, Event, GatewayStats, Handle, Inbox};
