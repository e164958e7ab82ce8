//! Read-only snapshots of seats and queue for the API and the dashboard.
use std::time::{Duration, Instant};

use serde::Serialize;

use super::class::CallClass;
use super::queue::QueuedCall;
use super::seats::{Seat, SeatState, SeatStateKind};

/// One seat as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatView {
    /// The seat name.
    pub name: String,
    /// Its state.
    pub state: SeatStateKind,
    /// The call it rings for or talks to.
    pub call: Option<String>,
    /// Whole seconds in the current state.
    pub state_s: u64,
    /// Whole seconds idle, when available (the longest idle seat is rung first).
    pub idle_s: Option<u64>,
    /// Whole seconds left of the ring or the wrap-up.
    pub remaining_s: Option<u64>,
    /// Why the seat is paused.
    pub reason: Option<String>,
    /// A pause requested while busy, applied when the seat would next become idle.
    pub pause_pending: Option<String>,
    /// A static seat (configured contact; rung without registration).
    #[serde(rename = "static")]
    pub is_static: bool,
    /// Has a live registration.
    pub registered: bool,
    /// Its contact answers OPTIONS probes.
    pub reachable: bool,
    /// Unanswered rings in a row.
    pub no_answer: u32,
}

/// One waiting call as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedView {
    /// The call id.
    pub call: String,
    /// The caller's number.
    pub caller: String,
    /// The class screening gave.
    pub class: CallClass,
    /// The class after ageing: what the queue orders by.
    pub effective_class: CallClass,
    /// Whole seconds waited (ringing included).
    pub wait_s: u64,
    /// 1-based place in the serving order.
    pub position: usize,
    /// The seat being rung for it, if any.
    pub ringing: Option<String>,
    /// How many times it has been offered to a seat.
    pub attempts: u32,
}

fn secs(d: Duration) -> u64 {
    d.as_secs()
}

impl SeatView {
    pub(super) fn of(seat: &Seat, now: Instant) -> SeatView {
        let (call, idle_s, remaining_s, reason) = match &seat.state {
            SeatState::Unreachable => (None, None, None, None),
            SeatState::Available { since } => (
                None,
                Some(secs(now.saturating_duration_since(*since))),
                None,
                None,
            ),
            SeatState::Ringing { call, until, .. } => (
                Some(call.clone()),
                None,
                Some(secs(until.saturating_duration_since(now))),
                None,
            ),
            SeatState::OnCall { call, .. } => (Some(call.clone()), None, None, None),
            SeatState::WrapUp { until } => (
                None,
                None,
                Some(secs(until.saturating_duration_since(now))),
                None,
            ),
            SeatState::Paused { reason } => (None, None, None, Some(reason.clone())),
        };
        SeatView {
            name: seat.name.clone(),
            state: seat.state.kind(),
            call,
            state_s: secs(now.saturating_duration_since(seat.entered)),
            idle_s,
            remaining_s,
            reason,
            pause_pending: seat.pending_pause.clone(),
            is_static: seat.static_contact.is_some(),
            registered: seat.registered,
            reachable: seat.reachable,
            no_answer: seat.no_answer,
        }
    }
}

impl QueuedView {
    pub(super) fn of(
        call: &QueuedCall,
        position: usize,
        now: Instant,
        ageing: Duration,
    ) -> QueuedView {
        QueuedView {
            call: call.call().to_owned(),
            caller: call.caller().to_owned(),
            class: call.class(),
            effective_class: call.effective_class(now, ageing),
            wait_s: secs(call.wait(now)),
            position,
            ringing: call.offered_to().map(str::to_owned),
            attempts: call.attempts(),
        }
    }
}
