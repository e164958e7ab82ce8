//! One emergency call: the trunk leg (caller) and at most one seat leg at a time.
//!
//! ```text
//!            INVITE from trunk
//!                  │ 100 Trying, media Open
//!                  ▼
//!   Opening ──Opened──► Queued ──assignment──► Ringing ──seat 200──► Connected ──BYE──► gone
//!      │                 ▲  │                    │  │                     │
//!      │ Failed: 503     │  │ CANCEL: 487        │  │ 486/480/timeout:    │ BYE either side:
//!      ▼                 │  ▼                    │  │ back to Queued      │ BYE the other leg
//!     gone               └──┴────────────────────┘  ▼
//!                                                CANCEL from trunk: CANCEL the seat leg
//! ```
//!
//! The caller hears the queue prompt as early media (183 Session Progress with our SDP
//! answer) while waiting and while a seat rings; the trunk leg is answered (200 OK with the
//! same SDP, RFC 3264 §5) only when a seat answers, so the trunk may CANCEL until then.

use crate::media::sdp::{Negotiated, SdpOrigin};
use crate::sip::dialog::Dialog;
use crate::sip::message::Request;
use crate::sip::transaction::{Peer, TxKey};
use std::net::SocketAddr;
use std::time::Instant;

/// Where the call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Waiting for RTP ports.
    Opening,
    /// Answered by the gateway; listening to the caller (issue 4 screening).
    Screening,
    /// In the ACD queue, hearing the queue prompt.
    Queued,
    /// A seat (or the overflow target) is being rung.
    Ringing,
    /// Caller and seat are talking.
    Connected,
}

/// The trunk side.
#[derive(Debug)]
pub(crate) struct TrunkLeg {
    /// The INVITE that started the call.
    pub(crate) invite: Request,
    /// Its server transaction.
    pub(crate) key: TxKey,
    /// Where the trunk sent it from.
    pub(crate) peer: Peer,
    /// Our side of the dialog (our To tag).
    pub(crate) dialog: Dialog,
    /// The SDP offer from the trunk.
    pub(crate) offer: Vec<u8>,
    /// Our SDP answer (sent in 183 and again in 200).
    pub(crate) answer: Option<Vec<u8>>,
    /// The stream negotiated with the caller.
    pub(crate) negotiated: Option<Negotiated>,
    /// Our `o=` line toward the trunk (one session per leg, RFC 3264 §8).
    pub(crate) origin: SdpOrigin,
}

/// Who a seat leg rings: an ACD seat, or the overflow target (which the ACD does not
/// manage, so ring results are not reported for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RingTarget {
    /// A configured seat, by name.
    Seat(String),
    /// `routing.overflow`.
    Overflow,
}

impl RingTarget {
    /// The name in logs, records and events (`overflow` for the overflow target).
    pub(crate) fn name(&self) -> &str {
        match self {
            RingTarget::Seat(name) => name,
            RingTarget::Overflow => "overflow",
        }
    }

    /// The ACD seat to report ring results to; `None` for the overflow target.
    pub(crate) fn acd_seat(&self) -> Option<&str> {
        match self {
            RingTarget::Seat(name) => Some(name),
            RingTarget::Overflow => None,
        }
    }
}

/// Where a seat leg's INVITE stands (RFC 3261 §9.1 for the CANCEL rules).
///
/// ```text
///  Trying ──1xx──► Proceeding ──2xx──► Answered
///    │                 │
///    │ give up         │ give up: CANCEL now
///    ▼                 ▼
///  CancelPending ──1xx: CANCEL──► Cancelled ──late 2xx: ACK + BYE
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LegState {
    /// INVITE sent, no provisional response yet: a CANCEL could overtake the INVITE.
    Trying,
    /// A provisional response arrived: a CANCEL may be sent.
    Proceeding,
    /// We gave up before any provisional response: CANCEL goes when one arrives.
    CancelPending,
    /// CANCEL sent; a late 2xx gets ACK + BYE (§9.2 race).
    Cancelled,
    /// The seat answered.
    Answered,
}

/// A seat (or overflow) leg being rung or connected.
#[derive(Debug)]
pub(crate) struct SeatLeg {
    /// Who is rung.
    pub(crate) target: RingTarget,
    /// The INVITE we sent.
    pub(crate) invite: Request,
    /// Its client transaction.
    pub(crate) key: TxKey,
    /// Our side of its dialog.
    pub(crate) dialog: Dialog,
    /// Where the INVITE stands.
    pub(crate) state: LegState,
    /// Our `o=` line toward the seat.
    pub(crate) origin: SdpOrigin,
    /// The stream negotiated with the seat (once answered).
    pub(crate) negotiated: Option<Negotiated>,
}

impl SeatLeg {
    /// The seat answered.
    pub(crate) fn answered(&self) -> bool {
        self.state == LegState::Answered
    }

    /// We gave up on the leg (CANCEL sent or waiting for a provisional response).
    pub(crate) fn given_up(&self) -> bool {
        matches!(self.state, LegState::CancelPending | LegState::Cancelled)
    }
}

/// One call.
#[derive(Debug)]
pub(crate) struct Call {
    /// siaga's call id (X-Siaga-Call).
    pub(crate) id: String,
    pub(crate) state: CallState,
    pub(crate) trunk: TrunkLeg,
    pub(crate) seat: Option<SeatLeg>,
    /// Our RTP addresses: caller side, seat side.
    pub(crate) media: Option<(SocketAddr, SocketAddr)>,
    /// The caller as shown to seats (From of the trunk INVITE).
    pub(crate) caller: String,
    /// The caller's number (PAI, else From), or withheld (RFC 3323 Privacy, anonymous).
    pub(crate) caller_id: crate::screening::CallerId,
    /// Display name of P-Asserted-Identity, else From (for the record).
    pub(crate) display_name: Option<String>,
    pub(crate) created: Instant,
    /// The trunk leg was answered (200 sent).
    pub(crate) answered: bool,
    /// RFC 4028 session interval the trunk refreshes, when it asked for one.
    pub(crate) session_interval: Option<std::time::Duration>,
    /// When the session expires unless refreshed (set once answered).
    pub(crate) session_deadline: Option<Instant>,
    /// Screening state while the caller is listened to.
    pub(crate) screening: Option<super::screen::CallScreening>,
    /// The screening verdict, for the seat's INVITE headers.
    pub(crate) risk: Option<crate::screening::RiskScore>,
}
