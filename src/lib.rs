//! siaga — a SIP gateway for an emergency number (112).
//!
//! # Layers
//!
//! ```text
//!  app (wiring, signals)          api (HTTP JSON)        demo, CLI
//!        │                              │ gateway::Handle (Command / Event)
//!        ▼                              ▼
//!  gateway: driver (async) ─► endpoint (sans-IO) ─► b2bua ─► record_writer ─► store
//!        │                      │        │
//!        ▼                      ▼        ▼
//!  sip (protocol)          routing    screening      media      location
//! ```
//!
//! A layer uses only the layers below it: [`sip`] knows nothing of calls, seats, screening,
//! media or the store (`tests/layers.rs` checks its imports).
//!
//! - [`sip`]: SIP messages (parse, print, ingress checks), transactions (RFC 3261 §17),
//!   dialogs, the seat registrar, transports.
//! - [`gateway`]: the B2BUA (trunk calls in, seat legs out), the stateful SIP endpoint that
//!   owns transactions, registrar, ACD and calls, its async driver (sockets, timers, media
//!   engine), the call-record writer, and the one typed surface into the running gateway
//!   (commands in, events out).
//! - [`media`]: SDP offer/answer (RFC 3264), the RTP/RTCP relay between the caller and seat legs
//!   with symmetric latching, prompt playback, G.711; sans-IO except `media::engine`.
//! - [`config`]: one strict serde tree loaded from TOML with `SIAGA__SECTION__KEY` overrides.
//! - [`screening`]: caller audio analysis (VAD, DTMF), the listen / press-5 state machine,
//!   repeat-caller windows and the explainable risk score; pure, fed by [`screening::ScreeningTap`].
//! - [`routing`]: automatic call distribution (seats, queue with ageing, ring timeouts,
//!   overflow) as a pure state machine.
//! - [`location`]: kecamatan/kelurahan of a position (point in polygon, `fixtures/geo/`).
//! - [`store`]: call records, dispositions, caller history, analytics counts, accounts
//!   (SQLite by default, in-memory twin).
//! - [`analytics`]: reports per kecamatan × category × day/week/month, prank/ghost share,
//!   busiest hours, repeat callers; CSV and text tables.
//! - [`api`]: HTTP JSON: seats and queue, pause/resume, logins, call records,
//!   dispositions, analytics, health.
//! - [`app`]: wiring of the subsystems; runs until SIGINT/SIGTERM.
pub mod analytics;
pub mod api;
pub mod app;
pub mod config;
pub mod demo;
pub mod gateway;
pub mod location;
pub mod media;
pub mod metrics;
pub mod routing;
pub mod screening;
pub mod sip;
pub mod store;
