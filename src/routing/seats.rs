//! One call-taker seat: its state machine, driven by [`Seat::apply`].
//!
//! ```text
//!                 presence up                      offer
//!  Unreachable ───────────────► Available{since} ────────► Ringing{call, until}
//!      ▲  ◄──────────────────────   ▲   ▲                   │      │ busy / no answer / failed
//!      │        presence down       │   │ caller gone        │      │ (no answer × N → Paused)
//!      │                            │   └────────────────────┤      ▼
//!      │          wrap-up over      │                answered│   Available (back of the line)
//!      └──────── (if offline) ── WrapUp{until} ◄── OnCall{call} ◄┘
//!                                    call ended
//!  Paused{reason} ◄── pause (now when idle; after the call when ringing, on a call or in wrap-up)
//!       └── resume ──► Available / Unreachable
//! ```
//!
//! Every other (state, input) pair is a [`TransitionError`]. Registration facts
//! (`registered`, `reachable`) are kept beside the state: a seat on a call whose softphone
//! re-registers or misses a probe keeps its call, and settles to `Unreachable` or
//! `Available` only when it would next become idle.
use std::time::Instant;

use serde::Serialize;

pub use super::input::{RingOutcome, SeatInput, SeatNotice, SeatRules, TransitionError};

/// Where a seat stands, with what the state needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatState {
    /// Not registered, or its contact misses OPTIONS probes: never rung.
    Unreachable,
    /// Idle since `since`; the longest idle seat is offered the next call.
    Available {
        /// When the seat last became idle (end of wrap-up, or of a refused ring).
        since: Instant,
    },
    /// Being offered `call` until `until` (the ring timeout).
    Ringing {
        /// The offered call.
        call: String,
        /// When the ring times out.
        until: Instant,
        /// The idle-since the seat had before; restored when the caller hangs up meanwhile.
        idle_since: Instant,
    },
    /// Talking to `call` since `since`.
    OnCall {
        /// The connected call.
        call: String,
        /// When the seat answered.
        since: Instant,
    },
    /// Writing up the last call until `until`.
    WrapUp {
        /// When the seat is offered calls again.
        until: Instant,
    },
    /// Taken out of the rotation by a supervisor or by unanswered rings.
    Paused {
        /// Why, shown on the dashboard.
        reason: String,
    },
}

/// The name of a [`SeatState`], as shown by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatStateKind {
    /// [`SeatState::Unreachable`].
    Unreachable,
    /// [`SeatState::Available`].
    Available,
    /// [`SeatState::Ringing`].
    Ringing,
    /// [`SeatState::OnCall`].
    OnCall,
    /// [`SeatState::WrapUp`].
    WrapUp,
    /// [`SeatState::Paused`].
    Paused,
}

impl SeatStateKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SeatStateKind::Unreachable => "unreachable",
            SeatStateKind::Available => "available",
            SeatStateKind::Ringing => "ringing",
            SeatStateKind::OnCall => "on_call",
            SeatStateKind::WrapUp => "wrap_up",
            SeatStateKind::Paused => "paused",
        }
    }
}

impl std::fmt::Display for SeatStateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SeatState {
    /// The state's name.
    pub fn kind(&self) -> SeatStateKind {
        match self {
            SeatState::Unreachable => SeatStateKind::Unreachable,
            SeatState::Available { .. } => SeatStateKind::Available,
            SeatState::Ringing { .. } => SeatStateKind::Ringing,
            SeatState::OnCall { .. } => SeatStateKind::OnCall,
            SeatState::WrapUp { .. } => SeatStateKind::WrapUp,
            SeatState::Paused { .. } => SeatStateKind::Paused,
        }
    }
}

/// A seat: its state, its registration facts and its unanswered-ring count.
#[derive(Debug, Clone)]
pub struct Seat {
    pub(super) name: String,
    pub(super) static_contact: Option<String>,
    pub(super) registered: bool,
    pub(super) reachable: bool,
    pub(super) state: SeatState,
    pub(super) entered: Instant,
    pub(super) no_answer: u32,
    pub(super) pending_pause: Option<String>,
}

impl Seat {
    /// A seat at `now`: a static seat (a desk phone with a configured contact) is available at
    /// once; a registering seat is unreachable until it registers.
    pub fn new(now: Instant, name: &str, static_contact: Option<String>) -> Seat {
        let state = match static_contact {
            Some(_) => SeatState::Available { since: now },
            None => SeatState::Unreachable,
        };
        Seat {
            name: name.to_owned(),
            static_contact,
            registered: false,
            reachable: true,
            state,
            entered: now,
            no_answer: 0,
            pending_pause: None,
        }
    }

    /// The seat name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current state.
    pub fn state(&self) -> &SeatState {
        &self.state
    }

    /// Unanswered rings in a row.
    pub fn no_answer(&self) -> u32 {
        self.no_answer
    }

    /// Whether the seat can be rung: reachable, and registered or static.
    pub fn online(&self) -> bool {
        self.reachable && (self.registered || self.static_contact.is_some())
    }

    /// The one transition function: applies `input` at `now`.
    ///
    /// # Errors
    ///
    /// [`TransitionError`] when the current state does not accept `input` (the state is left
    /// unchanged).
    pub fn apply(
        &mut self,
        now: Instant,
        input: SeatInput<'_>,
        rules: &SeatRules,
    ) -> Result<Option<SeatNotice>, TransitionError> {
        let next = match (&self.state, input) {
            (
                _,
                SeatInput::Presence {
                    registered,
                    reachable,
                },
            ) => {
                self.registered = registered;
                self.reachable = reachable;
                match self.state {
                    SeatState::Unreachable if self.online() => SeatState::Available { since: now },
                    SeatState::Available { .. } if !self.online() => SeatState::Unreachable,
                    _ => return Ok(None),
                }
            }
            (&SeatState::Available { since }, SeatInput::Offer { call, until }) => {
                SeatState::Ringing {
                    call: call.to_owned(),
                    until,
                    idle_since: since,
                }
            }
            (SeatState::Ringing { call: rung, .. }, SeatInput::Rung { call, outcome })
                if rung == call =>
            {
                return Ok(self.rung(now, outcome, rules));
            }
            (
                SeatState::Ringing {
                    call: rung,
                    idle_since,
                    ..
                },
                SeatInput::Withdrawn { call },
            ) if rung == call => {
                let since = *idle_since;
                return Ok(self.settle(now, since));
            }
            (SeatState::OnCall { call: on, .. }, SeatInput::CallEnded { call }) if on == call => {
                if rules.wrap_up.is_zero() {
                    return Ok(self.settle(now, now));
                }
                SeatState::WrapUp {
                    until: now + rules.wrap_up,
                }
            }
            (&SeatState::WrapUp { until }, SeatInput::WrapUpOver) if until <= now => {
                return Ok(self.settle(now, until));
            }
            (SeatState::Available { .. } | SeatState::Unreachable, SeatInput::Pause { reason }) => {
                self.enter(
                    now,
                    SeatState::Paused {
                        reason: reason.to_owned(),
                    },
                );
                return Ok(Some(SeatNotice::Paused {
                    reason: reason.to_owned(),
                }));
            }
            (
                SeatState::Ringing { .. } | SeatState::OnCall { .. } | SeatState::WrapUp { .. },
                SeatInput::Pause { reason },
            ) if self.pending_pause.is_none() => {
                // "Pause after this call": applied when the seat would next become idle.
                self.pending_pause = Some(reason.to_owned());
                return Ok(None);
            }
            (SeatState::Paused { .. }, SeatInput::Resume) => {
                self.no_answer = 0;
                self.pending_pause = None;
                return Ok(self.settle(now, now));
            }
            (_, SeatInput::Resume) if self.pending_pause.is_some() => {
                self.pending_pause = None;
                return Ok(None);
            }
            (state, input) => {
                return Err(TransitionError {
                    seat: self.name.clone(),
                    from: state.kind(),
                    input: input.name(),
                })
            }
        };
        self.enter(now, next);
        Ok(None)
    }

    /// The end of a ring that was not cut short by the caller.
    fn rung(
        &mut self,
        now: Instant,
        outcome: RingOutcome,
        rules: &SeatRules,
    ) -> Option<SeatNotice> {
        let call = match &self.state {
            SeatState::Ringing { call, .. } => call.clone(),
            _ => return None,
        };
        match outcome {
            RingOutcome::Answered => {
                self.no_answer = 0;
                self.enter(now, SeatState::OnCall { call, since: now });
                None
            }
            // A refusing seat goes to the back of the idle line.
            RingOutcome::Busy => self.settle(now, now),
            RingOutcome::NoAnswer | RingOutcome::Failed => {
                self.no_answer = self.no_answer.saturating_add(1);
                let limit = rules.no_answer_pause;
                if limit == 0 || self.no_answer < limit {
                    return self.settle(now, now);
                }
                let reason = format!("no answer {} times in a row", self.no_answer);
                tracing::warn!(seat = %self.name, misses = self.no_answer, "seat paused: rings unanswered");
                self.pending_pause = None;
                self.enter(
                    now,
                    SeatState::Paused {
                        reason: reason.clone(),
                    },
                );
                Some(SeatNotice::Paused { reason })
            }
        }
    }

    /// Where a seat goes when it would become idle: a pending pause, else unreachable when
    /// offline, else available since `idle_since`.
    fn settle(&mut self, now: Instant, idle_since: Instant) -> Option<SeatNotice> {
        if let Some(reason) = self.pending_pause.take() {
            self.enter(
                now,
                SeatState::Paused {
                    reason: reason.clone(),
                },
            );
            return Some(SeatNotice::Paused { reason });
        }
        let next = if self.online() {
            SeatState::Available { since: idle_since }
        } else {
            SeatState::Unreachable
        };
        self.enter(now, next);
        None
    }

    fn enter(&mut self, now: Instant, state: SeatState) {
        self.state = state;
        self.entered = now;
    }
}
