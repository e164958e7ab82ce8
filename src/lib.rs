//! siaga — a SIP gateway for an emergency number (112).
//!
//! # Layout
//!
//! - [`sip`]: SIP messages (parse, print, ingress checks), transactions (RFC 3261 §17),
//!   the seat registrar, transports.
//! - [`media`]: SDP offer/answer (RFC 3264), the RTP/RTCP relay between the caller and seat legs
//!   with symmetric latching, prompt playback, G.711; sans-IO except `media::engine`.
//! - [`config`]: one strict serde tree loaded from TOML with `SIAGA__SECTION__KEY` overrides.
//! - [`app`]: wiring of the subsystems; runs until SIGINT/SIGTERM.
pub mod app;
pub mod config;
pub mod media;
pub mod sip;
