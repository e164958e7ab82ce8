//! Screening of the caller's audio (issue 4), all pure (no tokio, no sockets, no clock):
//!
//! - [`model`]: the speech model (Silero VAD v5, 8 kHz, plain Rust), a probability per 32 ms;
//! - [`policy`]: speech decided on a run of probability, "faint speech" that blocks ghost;
//! - [`dtmf`]: RFC 4733 telephone-events and in-band tones;
//! - [`detector`]: per-call analysis of the caller's RTP → timeline, levels, counters;
//! - [`session`]: listen window → press-5 prompt → outcome, with the safety rule;
//! - [`audio`]: what screening heard, one µ-law file per call, deleted by age, WAV out;
//! - [`history`]: caller identity and repeat-caller windows;
//! - [`score`](mod@score): the risk score with named reasons, the class and the SIP header values;
//! - [`tap`]: [`ScreeningTap`], the media relay's hook feeding per-call detectors;
//! - [`input`], [`offline`], [`evaluate`]: recordings (.ul/.wav/.pcap), `siaga score`, and
//!   the accuracy on the labelled set in `fixtures/screening/`.
//!
//! Safety rule (DESIGN.md): a caller who speaks or presses a key always reaches a seat, and
//! any screening fault queues the call unscreened.
pub mod audio;
pub mod detector;
pub mod dtmf;
pub mod evaluate;
pub mod export;
pub mod history;
pub mod input;
pub mod model;
pub mod offline;
pub mod policy;
pub mod score;
pub mod session;
pub mod tap;

#[cfg(test)]
mod tests;

pub use crate::config::{GhostAction, ScreeningConfig as ScreeningSettings};
pub use detector::{CallDetector, DetectorCounters, DigitSource, TimelineEvent};
pub use history::{CallerId, RepeatCallers, RepeatCounts};
pub use score::{score, CallFeatures, Reason, RiskScore};
pub use session::{Action, Outcome, ScreeningFault, Session, State};
pub use tap::{ScreeningTap, TapError};
