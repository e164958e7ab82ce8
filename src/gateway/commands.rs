//! The driver's answers to [`Command`]s, and the seat/queue change events (one place that
//! reads the endpoint for the surface, so every answer is taken after the command acted).

use super::endpoint::Endpoint;
use super::surface::{Command, CommandError, Event, GatewayStats};
use crate::routing::{Acd, AcdError, QueuedView, SeatView};
use std::time::Instant;
use tracing::debug;

/// Answers one command at `now`. A reply whose asker has gone (timed out) is dropped: the
/// command has acted all the same, and nobody is left to tell.
pub fn answer(endpoint: &mut Endpoint, now: Instant, command: Command) {
    match command {
        Command::PauseSeat {
            seat,
            reason,
            reply,
        } => {
            let done = endpoint.acd_mut().pause(now, &seat, &reason);
            // Pending assignments and seat changes run before the view is taken.
            endpoint.handle_timeout(now);
            send(
                reply,
                done.and_then(|()| seat_view(endpoint.acd(), now, &seat)),
            );
        }
        Command::ResumeSeat { seat, reply } => {
            let done = endpoint.acd_mut().resume(now, &seat);
            endpoint.handle_timeout(now);
            send(
                reply,
                done.and_then(|()| seat_view(endpoint.acd(), now, &seat)),
            );
        }
        Command::Seats { reply } => send(reply, endpoint.acd().seats_view(now)),
        Command::Queue { reply } => send(reply, endpoint.acd().queue_view(now)),
        Command::Registrations { reply } => send(reply, endpoint.registrar().seats(now)),
        Command::Call { call, reply } => send(reply, endpoint.calls().view(&call, now)),
        Command::Stats { reply } => {
            let s = endpoint.stats();
            send(
                reply,
                GatewayStats {
                    received: s.received,
                    rejected: s.rejected,
                    dropped: s.dropped,
                    rate_limited: s.rate_limited,
                    untrusted_invites: s.untrusted_invites,
                    transactions: endpoint.transactions(),
                    calls: endpoint.calls().len(),
                    location: endpoint.calls().location_stats(),
                    registrar: endpoint.registrar().stats(),
                },
            );
        }
        Command::Location { location, reply } => {
            endpoint.handle_location(now, location);
            send(reply, ());
        }
        Command::Originate { to, reply } => {
            debug!(%to, "originate refused: no outbound trunk");
            send(reply, Err(CommandError::NotConfigured("outbound trunk")));
        }
    }
}

fn send<T>(reply: tokio::sync::oneshot::Sender<T>, value: T) {
    if reply.send(value).is_err() {
        debug!("command answer not delivered: the asker gave up");
    }
}

fn seat_view(acd: &Acd, now: Instant, seat: &str) -> Result<SeatView, AcdError> {
    acd.seats_view(now)
        .into_iter()
        .find(|s| s.name == seat)
        .ok_or_else(|| AcdError::UnknownSeat {
            seat: seat.to_string(),
        })
}

/// What a seat looks like for change detection: its view without the ticking seconds.
type SeatKey = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    bool,
    u32,
);
/// A waiting call for change detection: id, class, place, who rings, attempts.
type QueueKey = (String, String, usize, Option<String>, u32);

/// Turns ACD views into [`Event::SeatChanged`] / [`Event::QueueChanged`] when they change
/// (seconds counters excluded: they tick without anything happening).
#[derive(Debug, Default)]
pub struct AcdWatch {
    seats: Vec<SeatKey>,
    queue: Vec<QueueKey>,
}

impl AcdWatch {
    /// The change events since the last look, in seat order then the queue.
    pub fn changes(&mut self, acd: &Acd, now: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        let seats = acd.seats_view(now);
        let keys: Vec<SeatKey> = seats.iter().map(seat_key).collect();
        for (i, (view, key)) in seats.into_iter().zip(&keys).enumerate() {
            if self.seats.get(i) != Some(key) {
                events.push(Event::SeatChanged { seat: view });
            }
        }
        self.seats = keys;
        let queue = acd.queue_view(now);
        let keys: Vec<QueueKey> = queue.iter().map(queue_key).collect();
        if keys != self.queue {
            self.queue = keys;
            events.push(Event::QueueChanged { queue });
        }
        events
    }
}

fn seat_key(s: &SeatView) -> SeatKey {
    (
        s.name.clone(),
        format!("{:?}", s.state),
        s.call.clone(),
        s.reason.clone(),
        s.pause_pending.clone(),
        s.registered,
        s.reachable,
        s.no_answer,
    )
}

fn queue_key(q: &QueuedView) -> QueueKey {
    (
        q.call.clone(),
        format!("{:?}", q.effective_class),
        q.position,
        q.ringing.clone(),
        q.attempts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{AcdSettings, SeatSpec};
    use std::time::Duration;

    #[test]
    fn a_pause_is_one_seat_change_and_ticking_seconds_are_none() {
        let t0 = Instant::now();
        let spec = |n: &str| SeatSpec {
            name: n.into(),
            static_contact: Some(format!("sip:{n}@127.0.0.1")),
        };
        let settings = AcdSettings {
            ring_timeout: Duration::from_secs(15),
            wrap_up: Duration::from_secs(10),
            max_wait: Duration::from_secs(120),
            ageing: Duration::from_secs(30),
            no_answer_pause: 2,
            overflow_enabled: false,
        };
        let mut acd = Acd::new(t0, settings, vec![spec("a"), spec("b")]);
        let mut watch = AcdWatch::default();
        assert_eq!(watch.changes(&acd, t0).len(), 2, "first look: both seats");
        assert!(watch.changes(&acd, t0 + Duration::from_secs(5)).is_empty());
        acd.pause(t0, "b", "break").unwrap();
        let events = watch.changes(&acd, t0 + Duration::from_secs(6));
        assert!(
            matches!(&events[..], [Event::SeatChanged { seat }] if seat.name == "b" && seat.reason.as_deref() == Some("break")),
            "{events:?}"
        );
    }
}
