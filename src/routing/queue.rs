//! Waiting calls: served by effective class, then by arrival.
//!
//! **Ageing:** every `ageing` of waiting raises a call's effective class by one step (never
//! above [`CallClass::SilentNeedsHelp`]), so no call waits forever behind a stream of higher
//! classes. Effective classes are computed from `now` on demand: nothing is stored, no timer
//! is needed (ageing only matters at the moment a seat is chosen).
//!
//! A call being offered to a seat stays in the queue (it keeps its place and its wait time)
//! but is skipped by [`CallQueue::serving_order`] callers until the ring ends; a refused call
//! is thus back "at its old position" with nothing to do.
use std::time::{Duration, Instant};

use super::class::CallClass;

/// The seat that last refused a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The seat.
    pub seat: String,
    /// Until then the seat is not offered the call again even when it is the only seat in
    /// service; `None` once that time has passed (cleared by `handle_timeout`).
    pub retry_at: Option<Instant>,
}

/// One waiting call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedCall {
    call: String,
    caller: String,
    class: CallClass,
    arrived: Instant,
    seq: u64,
    pub(super) offered_to: Option<String>,
    pub(super) refused: Option<Refusal>,
    pub(super) attempts: u32,
    pub(super) overdue_noted: bool,
}

impl QueuedCall {
    /// The call id (the B2BUA's key for the call).
    pub fn call(&self) -> &str {
        &self.call
    }
    /// The caller's number as shown to people.
    pub fn caller(&self) -> &str {
        &self.caller
    }
    /// The class screening gave.
    pub fn class(&self) -> CallClass {
        self.class
    }
    /// When the call was enqueued.
    pub fn arrived(&self) -> Instant {
        self.arrived
    }
    /// How long the call has waited at `now` (ringing included).
    pub fn wait(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.arrived)
    }
    /// The seat being rung for this call, if any.
    pub fn offered_to(&self) -> Option<&str> {
        self.offered_to.as_deref()
    }
    /// How many times the call has been offered to a seat.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// The class raised by one step per full `ageing` waited (no ageing when zero).
    pub fn effective_class(&self, now: Instant, ageing: Duration) -> CallClass {
        if ageing.is_zero() {
            return self.class;
        }
        let steps = self.wait(now).as_nanos() / ageing.as_nanos();
        self.class.raised(u64::try_from(steps).unwrap_or(u64::MAX))
    }
}

/// The queue refused a call id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The call is already waiting.
    #[error("call {call:?} is already queued")]
    Duplicate {
        /// The call id.
        call: String,
    },
}

/// The waiting calls.
#[derive(Debug, Clone)]
pub struct CallQueue {
    calls: Vec<QueuedCall>,
    next_seq: u64,
    ageing: Duration,
}

impl CallQueue {
    /// An empty queue whose calls rise one class per `ageing` waited.
    pub fn new(ageing: Duration) -> CallQueue {
        CallQueue {
            calls: Vec::new(),
            next_seq: 0,
            ageing,
        }
    }

    /// Adds a call that arrived at `now`.
    ///
    /// # Errors
    ///
    /// [`QueueError::Duplicate`] when the call id is already queued.
    pub fn enqueue(
        &mut self,
        now: Instant,
        call_id: &str,
        class: CallClass,
        caller: String,
    ) -> Result<(), QueueError> {
        if self.get(call_id).is_some() {
            return Err(QueueError::Duplicate {
                call: call_id.to_owned(),
            });
        }
        self.calls.push(QueuedCall {
            call: call_id.to_owned(),
            caller,
            class,
            arrived: now,
            seq: self.next_seq,
            offered_to: None,
            refused: None,
            attempts: 0,
            overdue_noted: false,
        });
        self.next_seq += 1;
        Ok(())
    }

    /// Takes a call out; `None` when it is not queued.
    pub fn remove(&mut self, call_id: &str) -> Option<QueuedCall> {
        let at = self.calls.iter().position(|c| c.call == call_id)?;
        Some(self.calls.remove(at))
    }

    /// Changes a call's class (screening finished, or a supervisor's judgement); it keeps its
    /// arrival time. Returns whether the call was queued.
    pub fn reclassify(&mut self, call_id: &str, class: CallClass) -> bool {
        match self.get_mut(call_id) {
            Some(c) => {
                c.class = class;
                true
            }
            None => false,
        }
    }

    /// A queued call.
    pub fn get(&self, call_id: &str) -> Option<&QueuedCall> {
        self.calls.iter().find(|c| c.call == call_id)
    }

    pub(super) fn get_mut(&mut self, call_id: &str) -> Option<&mut QueuedCall> {
        self.calls.iter_mut().find(|c| c.call == call_id)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &QueuedCall> {
        self.calls.iter()
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut QueuedCall> {
        self.calls.iter_mut()
    }

    /// How many calls wait (ringing ones included).
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether no call waits.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The ageing step.
    pub fn ageing(&self) -> Duration {
        self.ageing
    }

    /// All calls in serving order at `now`: effective class, then arrival.
    pub fn serving_order(&self, now: Instant) -> Vec<&QueuedCall> {
        let mut order: Vec<&QueuedCall> = self.calls.iter().collect();
        order.sort_by_key(|c| (c.effective_class(now, self.ageing), c.arrived, c.seq));
        order
    }

    /// A call's 1-based place in the serving order at `now`.
    pub fn position(&self, now: Instant, call_id: &str) -> Option<usize> {
        self.serving_order(now)
            .iter()
            .position(|c| c.call == call_id)
            .map(|i| i + 1)
    }

    /// How long a call has waited at `now`.
    pub fn wait(&self, now: Instant, call_id: &str) -> Option<Duration> {
        self.get(call_id).map(|c| c.wait(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGEING: Duration = Duration::from_secs(30);

    fn ids(q: &CallQueue, now: Instant) -> Vec<&str> {
        q.serving_order(now).iter().map(|c| c.call()).collect()
    }

    #[test]
    fn class_then_arrival() {
        let t0 = Instant::now();
        let mut q = CallQueue::new(AGEING);
        q.enqueue(t0, "low", CallClass::Low, "1".into()).unwrap();
        q.enqueue(t0, "u1", CallClass::Unscreened, "2".into())
            .unwrap();
        q.enqueue(t0, "silent", CallClass::SilentNeedsHelp, "3".into())
            .unwrap();
        q.enqueue(t0, "u2", CallClass::Unscreened, "4".into())
            .unwrap();
        assert_eq!(ids(&q, t0), ["silent", "u1", "u2", "low"]);
        assert_eq!(q.position(t0, "u2"), Some(3));
        assert!(q.enqueue(t0, "u2", CallClass::Low, "4".into()).is_err());
    }

    #[test]
    fn ageing_raises_one_class_per_step_and_stops_at_the_top() {
        let t0 = Instant::now();
        let mut q = CallQueue::new(AGEING);
        q.enqueue(t0, "prank", CallClass::RepeatPrank, "1".into())
            .unwrap();
        let c = q.get("prank").unwrap();
        assert_eq!(
            c.effective_class(t0 + AGEING - Duration::from_millis(1), AGEING),
            CallClass::RepeatPrank
        );
        assert_eq!(c.effective_class(t0 + AGEING, AGEING), CallClass::Low);
        assert_eq!(
            c.effective_class(t0 + AGEING * 3, AGEING),
            CallClass::Speaking
        );
        assert_eq!(
            c.effective_class(t0 + AGEING * 100, AGEING),
            CallClass::SilentNeedsHelp
        );
    }

    #[test]
    fn reclassify_keeps_arrival_and_remove_forgets() {
        let t0 = Instant::now();
        let mut q = CallQueue::new(AGEING);
        q.enqueue(t0, "a", CallClass::Unscreened, "1".into())
            .unwrap();
        q.enqueue(
            t0 + Duration::from_secs(1),
            "b",
            CallClass::Unscreened,
            "2".into(),
        )
        .unwrap();
        assert!(q.reclassify("b", CallClass::Speaking));
        assert!(!q.reclassify("zz", CallClass::Speaking));
        let t = t0 + Duration::from_secs(2);
        assert_eq!(ids(&q, t), ["b", "a"]);
        assert_eq!(q.wait(t, "b"), Some(Duration::from_secs(1)));
        assert_eq!(
            q.remove("b").map(|c| c.caller().to_owned()),
            Some("2".into())
        );
        assert_eq!(q.remove("b"), None);
        assert_eq!(q.len(), 1);
    }
}
