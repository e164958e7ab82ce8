//! ACD scenarios in simulated time (no sleeping).
use std::time::{Duration, Instant};

use super::*;

const RING: Duration = Duration::from_secs(15);
const WRAP: Duration = Duration::from_secs(10);
const MAX_WAIT: Duration = Duration::from_secs(120);
const AGEING: Duration = Duration::from_secs(30);

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn settings(overflow_enabled: bool) -> AcdSettings {
    AcdSettings {
        ring_timeout: RING,
        wrap_up: WRAP,
        max_wait: MAX_WAIT,
        ageing: AGEING,
        no_answer_pause: 2,
        overflow_enabled,
    }
}

fn spec(name: &str) -> SeatSpec {
    SeatSpec {
        name: name.into(),
        static_contact: None,
    }
}

/// An ACD whose seats register in the order given, one second apart from `t0`.
fn acd_with(t0: Instant, names: &[&str], overflow: bool) -> Acd {
    let mut acd = Acd::new(
        t0,
        settings(overflow),
        names.iter().map(|n| spec(n)).collect(),
    );
    for (i, name) in names.iter().enumerate() {
        acd.set_registration(t0 + s(i as u64), name, true, true);
    }
    acd
}

fn assign(acd: &mut Acd, now: Instant) -> Option<(String, String)> {
    assert!(acd.indexes_consistent(), "seat indexes out of step");
    acd.poll_assignment(now).map(|a| (a.call, a.seat))
}

fn pair(call: &str, seat: &str) -> Option<(String, String)> {
    Some((call.into(), seat.into()))
}

fn events(acd: &mut Acd) -> Vec<AcdEvent> {
    std::iter::from_fn(|| acd.poll_event()).collect()
}

fn state(acd: &Acd, seat: &str) -> SeatStateKind {
    assert!(acd.indexes_consistent(), "seat indexes out of step");
    acd.seat(seat).unwrap().state().kind()
}

#[test]
fn longest_idle_seat_is_rung_first() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["b", "c", "a"], false);
    let t = t0 + s(10);
    for call in ["c1", "c2", "c3"] {
        acd.enqueue(t, call, CallClass::Unscreened, "0812");
    }
    assert_eq!(assign(&mut acd, t), pair("c1", "b"));
    assert_eq!(assign(&mut acd, t), pair("c2", "c"));
    assert_eq!(assign(&mut acd, t), pair("c3", "a"));
    assert_eq!(state(&acd, "b"), SeatStateKind::Ringing);
    assert_eq!(acd.poll_timeout(), Some(t + RING));
}

#[test]
fn three_calls_two_seats_third_waits_for_wrap_up() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["a", "b"], false);
    let t = t0 + s(5);
    for call in ["c1", "c2", "c3"] {
        acd.enqueue(t, call, CallClass::Unscreened, "0812");
    }
    assert_eq!(assign(&mut acd, t), pair("c1", "a"));
    assert_eq!(assign(&mut acd, t), pair("c2", "b"));
    assert_eq!(assign(&mut acd, t), None);
    acd.ring_result(t + s(3), "c1", "a", RingOutcome::Answered);
    acd.ring_result(t + s(4), "c2", "b", RingOutcome::Answered);
    let queue = acd.queue_view(t + s(4));
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (queue[0].call.as_str(), queue[0].position, queue[0].wait_s),
        ("c3", 1, 4)
    );
    assert_eq!(state(&acd, "a"), SeatStateKind::OnCall);

    let end = t + s(60);
    acd.call_ended(end, "c1");
    assert_eq!(state(&acd, "a"), SeatStateKind::WrapUp);
    assert_eq!(assign(&mut acd, end), None);
    assert_eq!(acd.poll_timeout(), Some(end + WRAP));
    acd.handle_timeout(end + WRAP - s(1));
    assert_eq!(assign(&mut acd, end + WRAP - s(1)), None);
    acd.handle_timeout(end + WRAP);
    assert_eq!(assign(&mut acd, end + WRAP), pair("c3", "a"));
}

#[test]
fn busy_seat_then_next_seat_rings() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["a", "b"], false);
    let t = t0 + s(5);
    acd.enqueue(t, "c1", CallClass::Unscreened, "0812");
    assert_eq!(assign(&mut acd, t), pair("c1", "a"));
    acd.ring_result(t + s(1), "c1", "a", RingOutcome::Busy);
    assert_eq!(state(&acd, "a"), SeatStateKind::Available);
    assert_eq!(acd.seat("a").unwrap().no_answer(), 0, "busy does not count");
    let next = acd.poll_assignment(t + s(1)).unwrap();
    assert_eq!(
        (next.call.as_str(), next.seat.as_str(), next.attempt),
        ("c1", "b", 2)
    );
}

#[test]
fn ring_timeout_moves_to_next_seat_and_late_result_is_ignored() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["a", "b"], false);
    let t = t0 + s(5);
    acd.enqueue(t, "c1", CallClass::Unscreened, "0812");
    assert_eq!(assign(&mut acd, t), pair("c1", "a"));
    acd.handle_timeout(t + RING - s(1));
    assert!(events(&mut acd).is_empty());
    acd.handle_timeout(t + RING);
    assert_eq!(
        events(&mut acd),
        [AcdEvent::RingTimeout {
            call: "c1".into(),
            seat: "a".into()
        }]
    );
    assert_eq!(assign(&mut acd, t + RING), pair("c1", "b"));
    // The cancelled leg's 487 arrives late: no effect.
    acd.ring_result(t + RING + s(1), "c1", "a", RingOutcome::Failed);
    assert_eq!(acd.seat("a").unwrap().no_answer(), 1);
    assert_eq!(state(&acd, "b"), SeatStateKind::Ringing);
}

#[test]
fn two_unanswered_rings_pause_the_seat() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["a", "b"], false);
    let t = t0 + s(5);
    acd.enqueue(t, "c1", CallClass::Unscreened, "0812");
    assert_eq!(assign(&mut acd, t), pair("c1", "a"));
    acd.ring_result(t + s(2), "c1", "a", RingOutcome::NoAnswer);
    assert_eq!(assign(&mut acd, t + s(2)), pair("c1", "b"));
    acd.ring_result(t + s(3), "c1", "b", RingOutcome::Answered);

    acd.enqueue(t + s(4), "c2", CallClass::Unscreened, "0813");
    assert_eq!(assign(&mut acd, t + s(4)), pair("c2", "a"));
    acd.handle_timeout(t + s(4) + RING);
    let reason = "no answer 2 times in a row".to_owned();
    assert_eq!(
        events(&mut acd),
        [
            AcdEvent::RingTimeout {
                call: "c2".into(),
                seat: "a".into()
            },
            AcdEvent::SeatPaused {
                seat: "a".into(),
                reason: reason.clone()
            },
        ]
    );
    let view = &acd.seats_view(t + s(30))[0];
    assert_eq!(
        (view.state, view.reason.as_ref(), view.no_answer),
        (SeatStateKind::Paused, Some(&reason), 2)
    );
    assert_eq!(assign(&mut acd, t + s(30)), None, "paused seat is not rung");

    acd.resume(t + s(40), "a").unwrap();
    assert_eq!(acd.seat("a").unwrap().no_answer(), 0);
    assert_eq!(
        assign(&mut acd, t + s(40)),
        None,
        "a refused c2 and b is in service"
    );
    acd.call_ended(t + s(41), "c1");
    acd.handle_timeout(t + s(41) + WRAP);
    assert_eq!(assign(&mut acd, t + s(41) + WRAP), pair("c2", "b"));
}

#[test]
fn queue_serves_by_class_then_arrival() {
    let t0 = Instant::now();
    let mut acd = Acd::new(t0, settings(false), vec![spec("a")]);
    let calls = [
        ("low", CallClass::Low),
        ("sp1", CallClass::Speaking),
        ("un", CallClass::Unscreened),
        ("silent", CallClass::SilentNeedsHelp),
        ("sp2", CallClass::Speaking),
    ];
    for (i, (call, class)) in calls.iter().enumerate() {
        acd.enqueue(t0 + Duration::from_millis(i as u64), call, *class, "0812");
    }
    let now = t0 + s(1);
    let order: Vec<String> = acd.queue_view(now).into_iter().map(|q| q.call).collect();
    assert_eq!(order, ["silent", "sp1", "sp2", "un", "low"]);
    acd.set_registration(now, "a", true, true);
    let mut served = Vec::new();
    let mut t = now;
    while let Some(a) = acd.poll_assignment(t) {
        acd.ring_result(t, &a.call, &a.seat, RingOutcome::Answered);
        acd.call_ended(t + s(1), &a.call);
        t += s(1) + WRAP;
        acd.handle_timeout(t);
        served.push(a.call);
    }
    assert_eq!(served, order);
}

#[test]
fn ageing_lifts_an_old_low_call_above_a_newer_higher_one() {
    let t0 = Instant::now();
    let mut acd = Acd::new(t0, settings(false), vec![spec("a")]);
    acd.enqueue(t0, "old", CallClass::Low, "0812");
    acd.enqueue(t0 + s(45), "new", CallClass::Speaking, "0813");
    let first = |acd: &Acd, now| acd.queue_view(now)[0].call.clone();
    assert_eq!(first(&acd, t0 + s(45)), "new");
    assert_eq!(first(&acd, t0 + s(59)), "new");
    let view = acd.queue_view(t0 + s(60));
    assert_eq!(view[0].call, "old");
    assert_eq!(
        (view[0].class, view[0].effective_class),
        (CallClass::Low, CallClass::Speaking)
    );
    acd.set_registration(t0 + s(60), "a", true, true);
    assert_eq!(assign(&mut acd, t0 + s(60)), pair("old", "a"));
}

#[test]
fn overflow_after_max_wait_only_when_enabled() {
    let t0 = Instant::now();
    let mut acd = Acd::new(t0, settings(true), vec![spec("a")]);
    acd.enqueue(t0, "c1", CallClass::Unscreened, "0812");
    assert_eq!(acd.poll_timeout(), Some(t0 + MAX_WAIT));
    acd.handle_timeout(t0 + MAX_WAIT - s(1));
    assert!(events(&mut acd).is_empty());
    acd.handle_timeout(t0 + MAX_WAIT);
    assert_eq!(events(&mut acd), [AcdEvent::Overflow { call: "c1".into() }]);
    assert!(acd.queue().is_empty());
    assert_eq!(acd.poll_timeout(), None);

    let mut acd = Acd::new(t0, settings(false), vec![spec("a")]);
    acd.enqueue(t0, "c1", CallClass::Unscreened, "0812");
    acd.handle_timeout(t0 + MAX_WAIT);
    assert!(events(&mut acd).is_empty());
    assert_eq!(acd.queue().len(), 1);
    assert_eq!(acd.poll_timeout(), None, "no timer left to spin on");
    acd.set_registration(t0 + s(300), "a", true, true);
    assert_eq!(assign(&mut acd, t0 + s(300)), pair("c1", "a"));
}

#[test]
fn caller_gone_while_ringing_frees_the_seat() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["a", "b"], false);
    let t = t0 + s(5);
    acd.enqueue(t, "c1", CallClass::Unscreened, "0812");
    assert_eq!(assign(&mut acd, t), pair("c1", "a"));
    acd.caller_gone(t + s(2), "c1");
    assert_eq!(state(&acd, "a"), SeatStateKind::Available);
    assert!(acd.queue().is_empty());
    assert_eq!(acd.poll_timeout(), None);
    acd.ring_result(t + s(3), "c1", "a", RingOutcome::NoAnswer);
    assert_eq!(acd.seat("a").unwrap().no_answer(), 0, "late result ignored");
    acd.enqueue(t + s(4), "c2", CallClass::Unscreened, "0813");
    assert_eq!(
        assign(&mut acd, t + s(4)),
        pair("c2", "a"),
        "a kept its idle time"
    );
}

#[test]
fn static_seat_is_available_without_registration() {
    let t0 = Instant::now();
    let desk = SeatSpec {
        name: "desk".into(),
        static_contact: Some("sip:desk@192.0.2.10".into()),
    };
    let mut acd = Acd::new(t0, settings(false), vec![spec("soft"), desk]);
    acd.enqueue(t0, "c1", CallClass::Unscreened, "0812");
    assert_eq!(assign(&mut acd, t0), pair("c1", "desk"));
    let views = acd.seats_view(t0);
    assert_eq!(
        (views[0].state, views[0].is_static),
        (SeatStateKind::Unreachable, false)
    );
    assert_eq!(
        (views[1].state, views[1].is_static),
        (SeatStateKind::Ringing, true)
    );
    assert_eq!(views[1].call.as_deref(), Some("c1"));
}

#[test]
fn unreachable_seat_is_never_rung() {
    let t0 = Instant::now();
    let mut acd = Acd::new(t0, settings(false), vec![spec("a"), spec("b")]);
    acd.set_registration(t0, "a", true, false);
    acd.enqueue(t0, "c1", CallClass::Unscreened, "0812");
    assert_eq!(assign(&mut acd, t0), None);
    assert_eq!(state(&acd, "a"), SeatStateKind::Unreachable);
    acd.set_registration(t0 + s(1), "b", true, true);
    acd.set_registration(t0 + s(2), "b", true, false);
    assert_eq!(assign(&mut acd, t0 + s(2)), None);
    acd.set_registration(t0 + s(3), "a", true, true);
    assert_eq!(assign(&mut acd, t0 + s(3)), pair("c1", "a"));
}

#[test]
fn pause_waits_for_the_call_and_wrap_up() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["a", "b"], false);
    acd.pause(t0 + s(2), "b", "break").unwrap();
    assert_eq!(
        events(&mut acd),
        [AcdEvent::SeatPaused {
            seat: "b".into(),
            reason: "break".into()
        }]
    );
    assert!(matches!(
        acd.pause(t0 + s(2), "b", "again"),
        Err(AcdError::Transition(_))
    ));
    assert!(matches!(
        acd.pause(t0, "zz", "x"),
        Err(AcdError::UnknownSeat { .. })
    ));
    assert!(matches!(acd.resume(t0, "a"), Err(AcdError::Transition(_))));

    acd.enqueue(t0 + s(3), "c1", CallClass::Unscreened, "0812");
    assert_eq!(assign(&mut acd, t0 + s(3)), pair("c1", "a"));
    acd.ring_result(t0 + s(4), "c1", "a", RingOutcome::Answered);
    acd.pause(t0 + s(5), "a", "end of shift").unwrap();
    assert_eq!(
        acd.seats_view(t0 + s(5))[0].pause_pending.as_deref(),
        Some("end of shift")
    );
    assert_eq!(state(&acd, "a"), SeatStateKind::OnCall);
    acd.call_ended(t0 + s(20), "c1");
    acd.handle_timeout(t0 + s(20) + WRAP);
    assert_eq!(state(&acd, "a"), SeatStateKind::Paused);
    assert_eq!(
        events(&mut acd),
        [AcdEvent::SeatPaused {
            seat: "a".into(),
            reason: "end of shift".into()
        }]
    );
    acd.resume(t0 + s(40), "b").unwrap();
    assert_eq!(state(&acd, "b"), SeatStateKind::Available);
}

#[test]
fn only_seat_is_offered_a_refused_call_again_after_a_hold_off() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["a"], false);
    acd.enqueue(t0, "c1", CallClass::Unscreened, "0812");
    assert_eq!(assign(&mut acd, t0), pair("c1", "a"));
    acd.ring_result(t0 + s(1), "c1", "a", RingOutcome::Busy);
    assert_eq!(assign(&mut acd, t0 + s(1)), None);
    let retry = t0 + s(1) + ONLY_SEAT_RETRY;
    assert_eq!(acd.poll_timeout(), Some(retry));
    acd.handle_timeout(retry);
    let again = acd.poll_assignment(retry).unwrap();
    assert_eq!((again.seat.as_str(), again.attempt), ("a", 2));
}

#[test]
fn a_refused_call_does_not_block_the_calls_behind_it() {
    let t0 = Instant::now();
    let mut acd = acd_with(t0, &["a", "b"], false);
    acd.enqueue(t0 + s(2), "c0", CallClass::Unscreened, "0811");
    assert_eq!(assign(&mut acd, t0 + s(2)), pair("c0", "a"));
    acd.ring_result(t0 + s(2), "c0", "a", RingOutcome::Answered);
    acd.enqueue(t0 + s(3), "c1", CallClass::Speaking, "0812");
    assert_eq!(assign(&mut acd, t0 + s(3)), pair("c1", "b"));
    acd.ring_result(t0 + s(4), "c1", "b", RingOutcome::Busy);
    assert_eq!(
        assign(&mut acd, t0 + s(4)),
        None,
        "a is on a call; b refused c1"
    );
    acd.enqueue(t0 + s(5), "c2", CallClass::Low, "0813");
    assert_eq!(assign(&mut acd, t0 + s(5)), pair("c2", "b"));
}

/// Many seats and calls through every way a connected call can end: the name and on-call
/// indexes always match a scan of the seats.
#[test]
fn seat_indexes_follow_every_transition() {
    let t0 = Instant::now();
    let names: Vec<String> = (1..=40).map(|i| format!("seat{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut acd = acd_with(t0, &refs, false);
    let mut t = t0 + s(60);
    for round in 0..3u64 {
        for i in 0..40u64 {
            acd.enqueue(t, &format!("r{round}c{i}"), CallClass::Unscreened, "0812");
        }
        let mut rung = Vec::new();
        while let Some(a) = acd.poll_assignment(t) {
            rung.push(a);
        }
        assert_eq!(rung.len(), 40);
        assert!(acd.indexes_consistent());
        for (i, a) in rung.iter().enumerate() {
            let outcome = if i % 7 == 3 {
                RingOutcome::Busy
            } else {
                RingOutcome::Answered
            };
            acd.ring_result(t + s(1), &a.call, &a.seat, outcome);
            assert!(acd.indexes_consistent());
        }
        for (i, a) in rung.iter().enumerate() {
            match i % 4 {
                0 => acd.call_ended(t + s(2), &a.call),
                1 => acd.caller_gone(t + s(2), &a.call),
                2 => {
                    let _ = acd.pause(t + s(2), &a.seat, "test");
                    acd.call_ended(t + s(3), &a.call);
                    let _ = acd.resume(t + s(4), &a.seat);
                }
                _ => acd.call_ended(t + s(5), &a.call),
            }
            assert!(acd.indexes_consistent());
        }
        t += WRAP + s(10);
        acd.handle_timeout(t);
        // Calls a busy seat refused are still queued: let them go.
        for i in 0..40u64 {
            acd.caller_gone(t, &format!("r{round}c{i}"));
        }
        assert!(acd.indexes_consistent());
        assert!(acd.on_call_is_empty());
    }
}

#[test]
fn one_status_mapping_487_is_no_answer() {
    use super::RingOutcome;
    assert_eq!(RingOutcome::from_status(200), RingOutcome::Answered);
    assert_eq!(RingOutcome::from_status(486), RingOutcome::Busy);
    assert_eq!(RingOutcome::from_status(600), RingOutcome::Busy);
    for status in [408, 480, 487, 603] {
        assert_eq!(
            RingOutcome::from_status(status),
            RingOutcome::NoAnswer,
            "{status}"
        );
    }
    assert_eq!(RingOutcome::from_status(500), RingOutcome::Failed);
    assert_eq!(RingOutcome::from_status(404), RingOutcome::Failed);
}
