//! The gateway's metrics, fed from its event stream ([`Event`]) by one follower task, plus
//! the endpoint counters read at scrape time ([`GatewayStats`]).
//!
//! Times are taken when an event reaches the follower (the async edge), so answer and queue
//! waits include the broadcast's delay: microseconds, far below the buckets' resolution.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Counter, CounterVec, Exposition, Gauge, GaugeVec, Histogram};
use crate::gateway::{Event, GatewayStats, Handle};

/// Answer time buckets (received → a seat answered), seconds: a PSAP's service level is
/// "answered within 10 s" for most calls; the tail up to minutes shows queueing.
const ANSWER_BOUNDS: &[f64] = &[0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];
/// Queue wait buckets (queued → a seat answered), seconds.
const WAIT_BOUNDS: &[f64] = &[
    0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
];
/// Seat states always exported (0 when no seat is in them).
const SEAT_STATES: &[&str] = &[
    "unreachable",
    "available",
    "ringing",
    "on_call",
    "wrap_up",
    "paused",
];
/// Screening classes always exported.
const CLASSES: &[&str] = &["speaking", "silent_needs_help", "ghost", "unscreened"];

/// Every metric the gateway exports.
#[derive(Debug)]
pub struct GatewayMetrics {
    /// Calls accepted from the trunk.
    pub calls_received: Counter,
    /// Calls ended, by end reason.
    pub calls_ended: CounterVec,
    /// Screening verdicts, by class.
    pub screened: CounterVec,
    /// Calls queued.
    pub calls_queued: Counter,
    /// Seat rings (a call offered to a seat or the overflow target).
    pub seat_rings: Counter,
    /// Received → answered.
    pub answer_seconds: Histogram,
    /// Queued → answered.
    pub queue_wait_seconds: Histogram,
    /// Calls waiting now.
    pub queue_length: Gauge,
    /// Calls between received and ended.
    pub calls_in_progress: Gauge,
    /// Seats by state.
    pub seats: GaugeVec,
    /// Events the follower missed (it lagged the broadcast) and re-read as state.
    pub events_lagged: Counter,
}

impl Default for GatewayMetrics {
    fn default() -> Self {
        let m = GatewayMetrics {
            calls_received: Counter::default(),
            calls_ended: CounterVec::default(),
            screened: CounterVec::default(),
            calls_queued: Counter::default(),
            seat_rings: Counter::default(),
            answer_seconds: Histogram::new(ANSWER_BOUNDS),
            queue_wait_seconds: Histogram::new(WAIT_BOUNDS),
            queue_length: Gauge::default(),
            calls_in_progress: Gauge::default(),
            seats: GaugeVec::default(),
            events_lagged: Counter::default(),
        };
        for class in CLASSES {
            m.screened.touch(class);
        }
        m.seats.replace(SEAT_STATES, []);
        m
    }
}

/// What the follower remembers between events: when each live call arrived and queued,
/// and every seat's state.
#[derive(Debug, Default)]
pub struct Follower {
    calls: HashMap<String, (Instant, Option<Instant>)>,
    seat_states: BTreeMap<String, String>,
}

impl GatewayMetrics {
    /// Updates the metrics for one event seen at `now`.
    pub fn observe(&self, state: &mut Follower, now: Instant, event: &Event) {
        match event {
            Event::CallReceived { call, .. } => {
                self.calls_received.inc();
                state.calls.insert(call.clone(), (now, None));
            }
            Event::CallScreened { class, .. } => self.screened.inc(&snake(class)),
            Event::CallQueued { call } => {
                self.calls_queued.inc();
                if let Some(entry) = state.calls.get_mut(call) {
                    entry.1.get_or_insert(now);
                }
            }
            Event::SeatRinging { .. } => self.seat_rings.inc(),
            // Location counters are the gateway's own (`Command::Stats`).
            Event::CallLocated { .. } => {}
            Event::CallAnswered { call, .. } => {
                if let Some((received, queued)) = state.calls.get(call) {
                    self.answer_seconds
                        .observe(now.duration_since(*received).as_secs_f64());
                    if let Some(q) = queued {
                        self.queue_wait_seconds
                            .observe(now.duration_since(*q).as_secs_f64());
                    }
                }
            }
            Event::CallEnded { call, reason, .. } => {
                self.calls_ended.inc(&snake(reason));
                state.calls.remove(call);
            }
            Event::SeatChanged { seat } => {
                state
                    .seat_states
                    .insert(seat.name.clone(), seat.state.as_str().to_string());
                self.publish_seats(state);
            }
            Event::QueueChanged { queue } => {
                self.queue_length
                    .set(i64::try_from(queue.len()).unwrap_or(i64::MAX));
            }
        }
        self.calls_in_progress
            .set(i64::try_from(state.calls.len()).unwrap_or(i64::MAX));
    }

    fn publish_seats(&self, state: &Follower) {
        self.seats.replace(
            SEAT_STATES,
            state.seat_states.values().map(|s| (s.clone(), 1)),
        );
    }

    /// Re-reads seats and queue from the gateway (at start, and after the follower lagged).
    async fn resync(&self, state: &mut Follower, handle: &Handle) {
        if let Ok(seats) = handle.seats().await {
            state.seat_states = seats
                .into_iter()
                .map(|s| (s.name, s.state.as_str().to_string()))
                .collect();
            self.publish_seats(state);
        }
        if let Ok(queue) = handle.queue().await {
            self.queue_length
                .set(i64::try_from(queue.len()).unwrap_or(i64::MAX));
        }
    }

    /// Follows the gateway's events until `shutdown`.
    pub async fn follow(self: Arc<Self>, handle: Handle, shutdown: CancellationToken) {
        let mut events = handle.subscribe();
        let mut state = Follower::default();
        self.resync(&mut state, &handle).await;
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => return,
                next = events.recv() => next,
            };
            match next {
                Ok(event) => self.observe(&mut state, Instant::now(), &event),
                Err(RecvError::Lagged(n)) => {
                    self.events_lagged.add(n);
                    self.resync(&mut state, &handle).await;
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    /// The `/metrics` page; `stats` are the endpoint's counters when the gateway answered.
    pub fn render(&self, stats: Option<&GatewayStats>) -> String {
        let mut page = Exposition::new();
        page.counter(
            "siaga_calls_received_total",
            "Emergency calls accepted from the trunk.",
            &self.calls_received,
        )
        .counter_vec(
            "siaga_calls_ended_total",
            "Calls ended, by reason.",
            "reason",
            &self.calls_ended,
        )
        .counter_vec(
            "siaga_screening_decisions_total",
            "Screening verdicts, by class.",
            "class",
            &self.screened,
        )
        .counter(
            "siaga_calls_queued_total",
            "Calls put in the seat queue.",
            &self.calls_queued,
        )
        .counter(
            "siaga_seat_rings_total",
            "Calls offered to a seat (or the overflow target).",
            &self.seat_rings,
        )
        .histogram(
            "siaga_answer_seconds",
            "Time from the trunk INVITE to a seat's answer.",
            &self.answer_seconds,
        )
        .histogram(
            "siaga_queue_wait_seconds",
            "Time from queueing to a seat's answer.",
            &self.queue_wait_seconds,
        )
        .gauge(
            "siaga_queue_length",
            "Calls waiting for a seat.",
            &self.queue_length,
        )
        .gauge(
            "siaga_calls_in_progress",
            "Calls between INVITE and end.",
            &self.calls_in_progress,
        )
        .gauge_vec("siaga_seats", "Seats by state.", "state", &self.seats)
        .counter(
            "siaga_metrics_events_lagged_total",
            "Gateway events the metrics follower missed and re-read as state.",
            &self.events_lagged,
        );
        if let Some(s) = stats {
            let c = |v: u64| Counter::from_value(v);
            page.counter(
                "siaga_sip_messages_received_total",
                "SIP messages received.",
                &c(s.received),
            )
            .counter(
                "siaga_sip_rejected_total",
                "SIP requests refused at ingress (4xx/5xx).",
                &c(s.rejected),
            )
            .counter(
                "siaga_sip_dropped_total",
                "SIP messages dropped at ingress.",
                &c(s.dropped),
            )
            .counter(
                "siaga_sip_rate_limited_total",
                "SIP messages dropped by the per-source rate limit.",
                &c(s.rate_limited),
            )
            .counter(
                "siaga_sip_untrusted_invites_total",
                "INVITEs from outside trunk.allow (403).",
                &c(s.untrusted_invites),
            )
            .gauge_value(
                "siaga_sip_transactions",
                "Live SIP transactions.",
                i64::try_from(s.transactions).unwrap_or(i64::MAX),
            )
            .gauge_value(
                "siaga_sip_calls",
                "Live B2BUA calls.",
                i64::try_from(s.calls).unwrap_or(i64::MAX),
            );
            // Issue 10: guessing and alarms are visible to monitoring, not only in the log.
            let r = &s.registrar;
            for (name, help, v) in [
                ("siaga_registrar_auth_failures_total", "Seat REGISTERs with a wrong password (evaluated).", r.guard.failures),
                ("siaga_registrar_refused_unevaluated_total", "Seat REGISTERs refused without checking the password (slowed, silenced or protected).", r.guard.refused_unevaluated),
                ("siaga_registrar_distributed_alarms_total", "Alarms: one seat saw failed passwords from many sources.", r.guard.distributed_alarms),
                ("siaga_registrar_protections_total", "Times a seat entered protection against guessing from many sources.", r.guard.protections),
                ("siaga_registrar_unknown_nonces_total", "Credentials with a nonce not issued to that source (challenged again).", r.unknown_nonces),
                ("siaga_registrar_outside_allow_from_total", "REGISTERs refused by an allow_from list.", r.outside_allow_from),
                ("siaga_registrar_binding_moves_total", "Seat bindings that moved to a new source address.", r.binding_moves),
            ] {
                page.counter(name, help, &c(v));
            }
        }
        page.finish()
    }
}

/// The snake_case name serde gives a unit variant (`EndReason::MediaTimeout` → `media_timeout`).
fn snake<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "other".to_string(),
    }
}
