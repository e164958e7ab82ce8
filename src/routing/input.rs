//! The inputs of a seat's state machine, and what it reports back.
use std::time::{Duration, Instant};

use serde::Serialize;

use super::seats::SeatStateKind;
/// How a ring of a seat ended, as the B2BUA reports it.
///
/// Mapping from the seat leg's final answer (see [`RingOutcome::from_status`], the one
/// mapping the B2BUA uses): 2xx is `Answered`; 486 Busy Here and 600 Busy Everywhere are
/// `Busy`; 408, 480, 487 and 603 Decline are `NoAnswer`; anything else (other 4xx/5xx/6xx,
/// transport error) is `Failed`. 487 Request Terminated reaches the ACD only when the seat
/// side ended the ring itself (a local ring timeout of the phone, a forking proxy in front
/// of it), since a 487 after our own CANCEL is not reported: nobody picked up there.
///
/// `NoAnswer` and `Failed` count towards pausing the seat (`no_answer_pause` in a row): they
/// mean nobody will pick up there (empty desk, dead phone, a call taker who declines 112
/// calls), and every such ring costs a caller up to `ring_timeout`; a supervisor wants that
/// seat out of the rotation and a warning. `Busy` does not count, and does not reset the
/// count: a phone that says busy is alive and usually in use (call takers call agencies back
/// from the same handset), so pausing it would need a manual resume after every outbound call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RingOutcome {
    /// The seat answered (2xx).
    Answered,
    /// The phone said busy (486, 600).
    Busy,
    /// Nobody picked up (ring timeout, 408, 480, 487, 603).
    NoAnswer,
    /// The leg failed (other final statuses, transport errors).
    Failed,
}

impl RingOutcome {
    /// The outcome for a final SIP status of the seat leg.
    pub fn from_status(status: u16) -> RingOutcome {
        match status {
            200..=299 => RingOutcome::Answered,
            486 | 600 => RingOutcome::Busy,
            408 | 480 | 487 | 603 => RingOutcome::NoAnswer,
            _ => RingOutcome::Failed,
        }
    }
}

/// One input to a seat's state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatInput<'a> {
    /// Registration or qualify news.
    Presence {
        /// Has a live registration.
        registered: bool,
        /// Its contact answers OPTIONS (or is not probed).
        reachable: bool,
    },
    /// Ring the seat for `call` until `until`.
    Offer {
        /// The call offered.
        call: &'a str,
        /// The ring timeout.
        until: Instant,
    },
    /// The ring for `call` ended with `outcome` (a ring timeout is `NoAnswer`).
    Rung {
        /// The call that was offered.
        call: &'a str,
        /// How it ended.
        outcome: RingOutcome,
    },
    /// The caller hung up while the seat rang for `call`.
    Withdrawn {
        /// The call that is gone.
        call: &'a str,
    },
    /// The connected `call` ended.
    CallEnded {
        /// The call.
        call: &'a str,
    },
    /// The wrap-up time is over.
    WrapUpOver,
    /// A supervisor pauses the seat.
    Pause {
        /// Why.
        reason: &'a str,
    },
    /// A supervisor resumes the seat (or cancels a pause still pending).
    Resume,
}

impl SeatInput<'_> {
    pub(super) fn name(&self) -> &'static str {
        match self {
            SeatInput::Presence { .. } => "presence",
            SeatInput::Offer { .. } => "offer",
            SeatInput::Rung { .. } => "ring result",
            SeatInput::Withdrawn { .. } => "withdraw",
            SeatInput::CallEnded { .. } => "end call",
            SeatInput::WrapUpOver => "end wrap-up",
            SeatInput::Pause { .. } => "pause",
            SeatInput::Resume => "resume",
        }
    }
}

/// An input the seat's state does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seat {seat:?} cannot {input} while {from}")]
#[non_exhaustive]
pub struct TransitionError {
    /// The seat.
    pub seat: String,
    /// Its state when the input came.
    pub from: SeatStateKind,
    /// The refused input (`"offer"`, `"pause"`, `"resume"`, ...).
    pub input: &'static str,
}

/// The timings a seat's transitions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatRules {
    /// Wrap-up after each call.
    pub wrap_up: Duration,
    /// Unanswered rings in a row that pause the seat; 0 never pauses.
    pub no_answer_pause: u32,
}

/// Something a transition did that the owner reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeatNotice {
    /// The seat went to `Paused` (supervisor, pending pause, or unanswered rings).
    Paused {
        /// Why.
        reason: String,
    },
}
