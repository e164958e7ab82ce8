//! The gateway: the domain layer above the SIP protocol cores. The back-to-back user agent
//! ([`b2bua`]), the stateful sans-IO [`endpoint`] that owns the transaction layer, the
//! registrar, the ACD and the calls, its async [`driver`] (sockets, timers, media), and the
//! call-record writer ([`record_writer`]).
pub mod b2bua;
pub mod driver;
pub mod endpoint;
pub mod record_writer;
