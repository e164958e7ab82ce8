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
//! - [`analytics`]: reports per kecamatan × category × day/week/month, prank/ghost share,
//!   busiest hours, repeat callers; CSV and text tables.
//! - [`api`]: HTTP JSON: logins, call records, dispositions, analytics.
//! - [`app`]: wiring of the subsystems; runs until SIGINT/SIGTERM.
pub mod analytics;
pub mod api;
pub mod app;
pub mod config;
pub mod location;
pub mod sip;
pub mod store;
