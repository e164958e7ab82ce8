//! Automatic call distribution: seats × queue, commands in, assignments and events out.
//!
//! The B2BUA owner drives an [`Acd`] the sans-IO way: it feeds facts (`enqueue`,
//! `ring_result`, `call_ended`, `set_registration`, ...), then drains
//! [`Acd::poll_assignment`] (ring that seat) and [`Acd::poll_event`] (cancel a timed-out
//! ring, overflow a call), and sleeps until [`Acd::poll_timeout`] to call
//! [`Acd::handle_timeout`].
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::class::CallClass;
use super::queue::{CallQueue, Refusal};
use super::seats::{
    RingOutcome, Seat, SeatInput, SeatNotice, SeatRules, SeatState, TransitionError,
};
use crate::config::RoutingConfig;

/// When the only seat in service refused a call, it is offered that call again after this
/// long, not in a loop at network speed (a busy phone answers 486 in milliseconds).
pub const ONLY_SEAT_RETRY: Duration = Duration::from_secs(2);

/// The ACD's timings and policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcdSettings {
    /// How long a seat rings before the next seat is tried.
    pub ring_timeout: Duration,
    /// Wrap-up after each call.
    pub wrap_up: Duration,
    /// Wait after which a call overflows (when `overflow_enabled`).
    pub max_wait: Duration,
    /// Waiting time that raises a call by one class.
    pub ageing: Duration,
    /// Unanswered rings in a row that pause a seat; 0 never pauses.
    pub no_answer_pause: u32,
    /// Whether an overflow target exists; without one, calls keep waiting past `max_wait`.
    pub overflow_enabled: bool,
}

impl AcdSettings {
    /// The settings of a `[routing]` section (`overflow` non-empty enables overflow).
    pub fn from_config(cfg: &RoutingConfig) -> AcdSettings {
        AcdSettings {
            ring_timeout: cfg.ring_timeout(),
            wrap_up: cfg.wrap_up(),
            max_wait: cfg.max_wait(),
            ageing: cfg.ageing(),
            no_answer_pause: cfg.no_answer_pause,
            overflow_enabled: !cfg.overflow.is_empty(),
        }
    }
}

/// A seat as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatSpec {
    /// The seat name.
    pub name: String,
    /// A static contact: the seat is available without registering.
    pub static_contact: Option<String>,
}

impl SeatSpec {
    /// The spec of a configured `[[seats]]` entry.
    pub fn from_config(seat: &crate::config::Seat) -> SeatSpec {
        SeatSpec {
            name: seat.name.clone(),
            static_contact: (!seat.contact.is_empty()).then(|| seat.contact.clone()),
        }
    }
}

/// Ring `seat` for `call`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The call to connect.
    pub call: String,
    /// The seat to ring (it is `Ringing` until the ring timeout).
    pub seat: String,
    /// 1 for the call's first offer, 2 for the next, ...
    pub attempt: u32,
}

/// Something the ACD decided on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcdEvent {
    /// `seat` rang too long for `call`: cancel that seat leg (the call is back in the queue).
    RingTimeout {
        /// The call.
        call: String,
        /// The seat whose leg to cancel.
        seat: String,
    },
    /// `call` waited `max_wait`: send it to the overflow target (it has left the queue).
    Overflow {
        /// The call.
        call: String,
    },
    /// `seat` was paused (supervisor, a pending pause, or unanswered rings).
    SeatPaused {
        /// The seat.
        seat: String,
        /// Why.
        reason: String,
    },
}

/// A command the ACD refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcdError {
    /// No seat has that name.
    #[error("no seat named {seat:?}")]
    UnknownSeat {
        /// The name asked for.
        seat: String,
    },
    /// The seat's state does not allow it (e.g. resuming a seat that is not paused).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The routing owner is not running (for handles that talk to it over a channel).
    #[error("routing is not running")]
    Unavailable,
}

/// Seats and queue together. Pure: no clock, no I/O; `now` comes with every input.
#[derive(Debug, Clone)]
pub struct Acd {
    pub(super) settings: AcdSettings,
    pub(super) seats: Vec<Seat>,
    /// Seat name → index in `seats` (the seats are fixed at construction).
    by_name: HashMap<String, usize>,
    /// Call id → index of the seat `OnCall` for it; kept in step by [`Acd::apply`], the only
    /// place a seat changes state.
    on_call: HashMap<String, usize>,
    pub(super) queue: CallQueue,
    pub(super) events: VecDeque<AcdEvent>,
}

impl Acd {
    /// An ACD at `now` with `seats` in configuration order (the order breaks idle ties).
    pub fn new(now: Instant, settings: AcdSettings, seats: Vec<SeatSpec>) -> Acd {
        let seats: Vec<Seat> = seats
            .into_iter()
            .map(|s| Seat::new(now, &s.name, s.static_contact))
            .collect();
        let mut by_name = HashMap::with_capacity(seats.len());
        for (i, seat) in seats.iter().enumerate() {
            // A repeated name (the config refuses them) resolves to the first, as before.
            by_name.entry(seat.name().to_owned()).or_insert(i);
        }
        Acd {
            settings,
            seats,
            by_name,
            on_call: HashMap::new(),
            queue: CallQueue::new(settings.ageing),
            events: VecDeque::new(),
        }
    }

    fn rules(&self) -> SeatRules {
        SeatRules {
            wrap_up: self.settings.wrap_up,
            no_answer_pause: self.settings.no_answer_pause,
        }
    }

    fn seat_index(&self, name: &str) -> Result<usize, AcdError> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| AcdError::UnknownSeat {
                seat: name.to_owned(),
            })
    }

    /// Applies `input` to seat `idx`, turning a pause notice into an event.
    pub(super) fn apply(
        &mut self,
        idx: usize,
        now: Instant,
        input: SeatInput<'_>,
    ) -> Result<(), AcdError> {
        let rules = self.rules();
        let seat = &mut self.seats[idx];
        let was_on = on_call_id(seat.state()).map(str::to_owned);
        let notice = seat.apply(now, input, &rules);
        let is_on = on_call_id(seat.state());
        if was_on.as_deref() != is_on {
            if let Some(call) = &was_on {
                self.on_call.remove(call);
            }
            if let Some(call) = is_on {
                self.on_call.insert(call.to_owned(), idx);
            }
        }
        let seat = &self.seats[idx];
        if let Some(SeatNotice::Paused { reason }) = notice? {
            self.events.push_back(AcdEvent::SeatPaused {
                seat: seat.name().to_owned(),
                reason,
            });
        }
        Ok(())
    }

    /// Registration or qualify news about `seat` (from the registrar).
    pub fn set_registration(
        &mut self,
        now: Instant,
        seat: &str,
        registered: bool,
        reachable: bool,
    ) {
        let input = SeatInput::Presence {
            registered,
            reachable,
        };
        if let Err(err) = self
            .seat_index(seat)
            .and_then(|idx| self.apply(idx, now, input))
        {
            tracing::warn!(%err, "registration news for a seat the ACD does not know");
        }
    }

    /// A call joins the queue (a duplicate call id is logged and ignored).
    pub fn enqueue(&mut self, now: Instant, call: &str, class: CallClass, caller: &str) {
        if let Err(err) = self.queue.enqueue(now, call, class, caller.to_owned()) {
            tracing::warn!(%err, "enqueue ignored");
        }
    }

    /// Changes a waiting call's class (it keeps its arrival); returns whether it was queued.
    pub fn reclassify(&mut self, call: &str, class: CallClass) -> bool {
        self.queue.reclassify(call, class)
    }

    /// The caller hung up while waiting or ringing: the call leaves the queue and a seat
    /// ringing for it goes back to `Available` with its old idle time. On a connected call
    /// this is [`Acd::call_ended`].
    pub fn caller_gone(&mut self, now: Instant, call: &str) {
        let Some(gone) = self.queue.remove(call) else {
            if self.connected_seat(call).is_some() {
                self.call_ended(now, call);
            }
            return;
        };
        if let Some(seat) = gone.offered_to() {
            let res = self
                .seat_index(seat)
                .and_then(|idx| self.apply(idx, now, SeatInput::Withdrawn { call }));
            if let Err(err) = res {
                tracing::warn!(%err, call, "caller gone: seat was not ringing for it");
            }
        }
    }

    /// The index of the seat named `name`.
    pub(super) fn seat_position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    fn connected_seat(&self, call: &str) -> Option<usize> {
        self.on_call.get(call).copied()
    }

    /// No seat is on a call.
    #[cfg(test)]
    pub(super) fn on_call_is_empty(&self) -> bool {
        self.on_call.is_empty()
    }

    /// The seat indexes agree with a scan of every seat.
    #[cfg(test)]
    pub(super) fn indexes_consistent(&self) -> bool {
        let scanned: HashMap<String, usize> = self
            .seats
            .iter()
            .enumerate()
            .filter_map(|(i, s)| on_call_id(s.state()).map(|c| (c.to_owned(), i)))
            .collect();
        scanned == self.on_call
            && self
                .seats
                .iter()
                .enumerate()
                .all(|(i, s)| self.by_name.get(s.name()) == Some(&i))
    }

    /// Seats that can take calls now or soon (not unreachable, not paused).
    fn in_service(&self) -> usize {
        let out =
            |s: &&Seat| matches!(s.state(), SeatState::Unreachable | SeatState::Paused { .. });
        self.seats.iter().filter(|s| !out(s)).count()
    }

    /// The next ring to start: the best waiting call (effective class, then arrival) on the
    /// longest-idle available seat. The seat is `Ringing` until `now + ring_timeout`.
    ///
    /// A call is not offered again to the seat that last refused it while another seat is in
    /// service; when that seat is the only one, it is offered again after
    /// [`ONLY_SEAT_RETRY`]. A call that cannot use the free seat does not block the calls
    /// behind it.
    pub fn poll_assignment(&mut self, now: Instant) -> Option<Assignment> {
        // Nothing waits (every queued call is being rung): skip the scans of every seat.
        if self.queue.iter().all(|c| c.offered_to().is_some()) {
            return None;
        }
        let only_one = self.in_service() == 1;
        let (call, idx) = self
            .queue
            .serving_order(now)
            .into_iter()
            .filter(|c| c.offered_to().is_none())
            .find_map(|c| {
                let eligible = |s: &Seat| match &c.refused {
                    Some(r) if r.seat == s.name() => only_one && r.retry_at.is_none(),
                    _ => true,
                };
                let idx = self
                    .seats
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| eligible(s))
                    .filter_map(|(i, s)| match s.state() {
                        SeatState::Available { since } => Some((*since, i)),
                        _ => None,
                    })
                    .min()?
                    .1;
                Some((c.call().to_owned(), idx))
            })?;
        let until = now + self.settings.ring_timeout;
        self.apply(idx, now, SeatInput::Offer { call: &call, until })
            .ok()?;
        let seat = self.seats[idx].name().to_owned();
        let queued = self.queue.get_mut(&call)?;
        queued.offered_to = Some(seat.clone());
        queued.attempts += 1;
        tracing::debug!(call, seat, attempt = queued.attempts, "ringing seat");
        Some(Assignment {
            call,
            seat,
            attempt: queued.attempts,
        })
    }

    /// How ringing `seat` for `call` ended. `Answered`: the seat is on the call and the call
    /// leaves the queue. Otherwise the call is back in the queue at its old position and the
    /// seat `Available` (back of the idle line) or `Paused` (see [`RingOutcome`]). A result
    /// for a ring that already ended (timed out, caller gone) is ignored.
    pub fn ring_result(&mut self, now: Instant, call: &str, seat: &str, outcome: RingOutcome) {
        let Ok(idx) = self.seat_index(seat) else {
            tracing::warn!(call, seat, "ring result for an unknown seat");
            return;
        };
        if let Err(err) = self.apply(idx, now, SeatInput::Rung { call, outcome }) {
            tracing::debug!(%err, call, ?outcome, "stale ring result ignored");
            return;
        }
        if outcome == RingOutcome::Answered {
            self.queue.remove(call);
        } else {
            self.refused(now, call, seat);
        }
    }

    /// Puts a refused call back to waiting and remembers who refused it.
    pub(super) fn refused(&mut self, now: Instant, call: &str, seat: &str) {
        if let Some(queued) = self.queue.get_mut(call) {
            queued.offered_to = None;
            queued.refused = Some(Refusal {
                seat: seat.to_owned(),
                retry_at: Some(now + ONLY_SEAT_RETRY),
            });
        }
    }

    /// The connected `call` ended: its seat goes to wrap-up. A call still waiting is treated
    /// as [`Acd::caller_gone`].
    pub fn call_ended(&mut self, now: Instant, call: &str) {
        match self.connected_seat(call) {
            Some(idx) => {
                if let Err(err) = self.apply(idx, now, SeatInput::CallEnded { call }) {
                    tracing::warn!(%err, call, "call end not applied");
                }
            }
            None if self.queue.get(call).is_some() => self.caller_gone(now, call),
            None => tracing::debug!(call, "end of a call the ACD does not hold"),
        }
    }

    /// A supervisor pauses `seat`: at once when idle or unreachable, after the current call
    /// (and its wrap-up) when ringing, on a call or in wrap-up.
    ///
    /// # Errors
    ///
    /// [`AcdError::UnknownSeat`]; [`AcdError::Transition`] when already paused or a pause is
    /// already pending.
    pub fn pause(&mut self, now: Instant, seat: &str, reason: &str) -> Result<(), AcdError> {
        let idx = self.seat_index(seat)?;
        self.apply(idx, now, SeatInput::Pause { reason })?;
        tracing::info!(seat, reason, "seat pause requested");
        Ok(())
    }

    /// A supervisor resumes `seat` (or cancels its pending pause); the unanswered-ring count
    /// starts again from zero.
    ///
    /// # Errors
    ///
    /// [`AcdError::UnknownSeat`]; [`AcdError::Transition`] when the seat is neither paused nor
    /// has a pending pause.
    pub fn resume(&mut self, now: Instant, seat: &str) -> Result<(), AcdError> {
        let idx = self.seat_index(seat)?;
        self.apply(idx, now, SeatInput::Resume)?;
        tracing::info!(seat, "seat resumed");
        Ok(())
    }
}

/// The call a seat in `state` is connected to.
fn on_call_id(state: &SeatState) -> Option<&str> {
    match state {
        SeatState::OnCall { call, .. } => Some(call),
        _ => None,
    }
}
