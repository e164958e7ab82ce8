//! Media: SDP offer/answer, the RTP/RTCP relay between the caller (trunk) leg and the seat
//! leg, prompt playback and G.711.
//!
//! Everything but [`engine`] is sans-IO: bytes and `now: Instant` in, decisions out.
pub mod engine;
pub mod g711;
pub mod latch;
pub mod playback;
pub mod ports;
pub mod relay;
pub mod rtp;
pub mod sdp;
pub mod stats;
pub mod tap;

pub use engine::{CallMedia, MediaEngine, MediaError};
pub use relay::Leg;
pub use sdp::{Codec, Negotiated, SdpError, SdpOrigin, SessionDescription};
pub use stats::CallMediaStats;
pub use tap::{CallerAudioTap, CountingTap, NoTap};
