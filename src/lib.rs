//! siaga — a SIP gateway for an emergency number (112).
//!
//! # Layout
//!
//! - [`sip`]: SIP messages (parse, print, ingress checks), transactions (RFC 3261 §17),
//!   the seat registrar, transports.
//! - [`config`]: one strict serde tree loaded from TOML with `SIAGA__SECTION__KEY` overrides.
//! - [`location`]: kecamatan/kelurahan of a position (point in polygon, `fixtures/geo/`).
//! - [`store`]: call records, dispositions, caller history, analytics counts, accounts
//!   (SQLite by default, in-memory twin).
//! - [`app`]: wiring of the subsystems; runs until SIGINT/SIGTERM.
pub mod app;
pub mod config;
pub mod location;
pub mod sip;
pub mod store;
