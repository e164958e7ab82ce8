//! What the call state machine asks of the media relay, and what it hears back. The relay
//! is async (it binds sockets), so the B2BUA only emits commands; the driver runs them on
//! the media engine and feeds the results back as events.

use crate::media::sdp::Negotiated;
use crate::media::Leg;
use std::net::SocketAddr;

/// A command for the media engine, for one call.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaCommand {
    /// Allocate and bind RTP/RTCP for both legs.
    Open {
        /// siaga's call id.
        call: String,
    },
    /// The far end of `leg` as negotiated in SDP.
    SetRemote {
        /// siaga's call id.
        call: String,
        /// Which leg.
        leg: Leg,
        /// The negotiated stream.
        negotiated: Negotiated,
    },
    /// Play a prompt to the caller (the queue prompt loops until bridged).
    Play {
        /// siaga's call id.
        call: String,
        /// Which one.
        prompt: Prompt,
    },
    /// Relay caller ↔ seat.
    Bridge {
        /// siaga's call id.
        call: String,
    },
    /// Stop relaying (the seat leg failed); the caller hears the prompt again.
    Unbridge {
        /// siaga's call id.
        call: String,
    },
    /// Release everything of the call.
    Close {
        /// siaga's call id.
        call: String,
    },
}

/// The prompts the caller hears (`config/prompts/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prompt {
    /// Played once when a screened call is answered.
    Greeting,
    /// "If you need help but cannot speak, press 5", played once.
    Press5,
    /// Looped while the call waits for a seat.
    Queue,
}

/// What the media engine reports back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// Sockets are bound: these are the RTP addresses to put in our SDP.
    Opened {
        /// siaga's call id.
        call: String,
        /// Our RTP address facing the caller (trunk leg).
        caller: SocketAddr,
        /// Our RTP address facing the seat.
        seat: SocketAddr,
    },
    /// No ports or no sockets: the call cannot carry audio.
    Failed {
        /// siaga's call id.
        call: String,
        /// Why, for the log and the call record.
        reason: String,
    },
    /// No RTP on either leg for the configured time: the call is dead.
    Dead {
        /// siaga's call id.
        call: String,
    },
}
