//! The ACD's clock side: timeouts, events and views.
use std::time::Instant;

use super::acd::{Acd, AcdEvent};
use super::queue::CallQueue;
use super::seats::{RingOutcome, Seat, SeatInput, SeatState};
use super::view::{QueuedView, SeatView};

impl Acd {
    /// Runs everything due at `now`: ring timeouts ([`AcdEvent::RingTimeout`]; the call goes
    /// back to the queue and the ring counts as unanswered), ends of wrap-up, calls waiting
    /// `max_wait` ([`AcdEvent::Overflow`] when enabled; otherwise they keep waiting and a
    /// warning is logged once), and expiry of refusal hold-offs. Ageing needs no timer.
    pub fn handle_timeout(&mut self, now: Instant) {
        for idx in 0..self.seats.len() {
            // Most seats have nothing due: look before cloning the state (it holds a call id).
            let due = match self.seats[idx].state() {
                SeatState::Ringing { until, .. } | SeatState::WrapUp { until } => *until <= now,
                _ => false,
            };
            if !due {
                continue;
            }
            match self.seats[idx].state().clone() {
                SeatState::Ringing { call, until, .. } if until <= now => {
                    let seat = self.seats[idx].name().to_owned();
                    tracing::info!(call, seat, "ring timeout");
                    // Cancel the leg first; a pause this ring causes is reported after it.
                    self.events.push_back(AcdEvent::RingTimeout {
                        call: call.clone(),
                        seat: seat.clone(),
                    });
                    let outcome = RingOutcome::NoAnswer;
                    // Cannot fail: the seat is ringing for `call`.
                    let _ = self.apply(
                        idx,
                        now,
                        SeatInput::Rung {
                            call: &call,
                            outcome,
                        },
                    );
                    self.refused(now, &call, &seat);
                }
                SeatState::WrapUp { until } if until <= now => {
                    let _ = self.apply(idx, now, SeatInput::WrapUpOver);
                }
                _ => {}
            }
        }
        for queued in self.queue.iter_mut() {
            if let Some(r) = &mut queued.refused {
                if r.retry_at.is_some_and(|t| t <= now) {
                    r.retry_at = None;
                }
            }
        }
        self.overdue(now);
    }

    /// Calls that waited `max_wait` and are not being rung.
    fn overdue(&mut self, now: Instant) {
        let max_wait = self.settings.max_wait;
        let due: Vec<String> = self
            .queue
            .iter()
            .filter(|c| c.offered_to().is_none() && c.wait(now) >= max_wait)
            .map(|c| c.call().to_owned())
            .collect();
        for call in due {
            if self.settings.overflow_enabled {
                self.queue.remove(&call);
                tracing::info!(call, "max wait reached: overflow");
                self.events.push_back(AcdEvent::Overflow { call });
            } else if let Some(queued) = self.queue.get_mut(&call) {
                if !queued.overdue_noted {
                    queued.overdue_noted = true;
                    tracing::warn!(
                        call,
                        "max wait reached and no overflow target: still waiting"
                    );
                }
            }
        }
    }

    /// The earliest time [`Acd::handle_timeout`] has work; never a time it would not clear.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let seats = self.seats.iter().filter_map(|s| match s.state() {
            SeatState::Ringing { until, .. } | SeatState::WrapUp { until } => Some(*until),
            _ => None,
        });
        let max_wait = self.settings.max_wait;
        let overflow = self.settings.overflow_enabled;
        let queue = self.queue.iter().flat_map(|c| {
            let waiting = c.offered_to().is_none() && (overflow || !c.overdue_noted);
            let wait_due = waiting.then(|| c.arrived() + max_wait);
            let retry = c.refused.as_ref().and_then(|r| r.retry_at);
            wait_due.into_iter().chain(retry)
        });
        seats.chain(queue).min()
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<AcdEvent> {
        self.events.pop_front()
    }

    /// Every seat at `now`, in configuration order.
    pub fn seats_view(&self, now: Instant) -> Vec<SeatView> {
        self.seats.iter().map(|s| SeatView::of(s, now)).collect()
    }

    /// Every queued call at `now`, in serving order.
    pub fn queue_view(&self, now: Instant) -> Vec<QueuedView> {
        let ageing = self.queue.ageing();
        self.queue
            .serving_order(now)
            .into_iter()
            .enumerate()
            .map(|(i, c)| QueuedView::of(c, i + 1, now, ageing))
            .collect()
    }

    /// A seat by name.
    pub fn seat(&self, name: &str) -> Option<&Seat> {
        self.seat_position(name).map(|i| &self.seats[i])
    }

    /// The queue.
    pub fn queue(&self) -> &CallQueue {
        &self.queue
    }
}
