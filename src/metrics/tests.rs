use super::*;

const BOUNDS: &[f64] = &[0.5, 1.0, 5.0];

#[test]
fn histogram_buckets_are_cumulative_with_inf_and_sum() {
    let h = Histogram::new(BOUNDS);
    for s in [0.1, 0.7, 0.7, 3.0, 60.0, -1.0, f64::NAN] {
        h.observe(s);
    }
    let page = Exposition::new()
        .histogram("siaga_answer_seconds", "Answer time.", &h)
        .finish();
    assert!(
        page.contains("# TYPE siaga_answer_seconds histogram\n"),
        "{page}"
    );
    // -1 and NaN count as 0 s: three at or below 0.5
    assert!(
        page.contains("siaga_answer_seconds_bucket{le=\"0.5\"} 3\n"),
        "{page}"
    );
    assert!(
        page.contains("siaga_answer_seconds_bucket{le=\"1\"} 5\n"),
        "{page}"
    );
    assert!(
        page.contains("siaga_answer_seconds_bucket{le=\"5\"} 6\n"),
        "{page}"
    );
    assert!(
        page.contains("siaga_answer_seconds_bucket{le=\"+Inf\"} 7\n"),
        "{page}"
    );
    assert!(page.contains("siaga_answer_seconds_count 7\n"), "{page}");
    assert!(page.contains("siaga_answer_seconds_sum 64.5\n"), "{page}");
}

#[test]
fn labelled_counters_render_sorted_and_escaped() {
    let c = CounterVec::default();
    c.inc("INVITE");
    c.inc("BYE");
    c.add("INVITE", 2);
    c.touch("OPTIONS");
    c.inc("we\"ird\\\n");
    let page = Exposition::new()
        .counter_vec("siaga_sip_requests_total", "SIP requests.", "method", &c)
        .finish();
    let samples: Vec<&str> = page.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        samples,
        [
            "siaga_sip_requests_total{method=\"BYE\"} 1",
            "siaga_sip_requests_total{method=\"INVITE\"} 3",
            "siaga_sip_requests_total{method=\"OPTIONS\"} 0",
            "siaga_sip_requests_total{method=\"we\\\"ird\\\\\\n\"} 1",
        ]
    );
}

#[test]
fn gauge_vec_replace_keeps_named_states_at_zero() {
    let g = GaugeVec::default();
    g.replace(
        &["available", "paused"],
        [
            ("available".to_string(), 1),
            ("on_call".to_string(), 2),
            ("available".to_string(), 1),
        ],
    );
    assert_eq!(
        g.snapshot(),
        [
            ("available".to_string(), 2),
            ("on_call".to_string(), 2),
            ("paused".to_string(), 0)
        ]
    );
}

mod gateway_events {
    use crate::gateway::{Event, GatewayStats};
    use crate::metrics::gateway::Follower;
    use crate::metrics::GatewayMetrics;
    use crate::store::{AudioStats, EndReason, Party, ScreeningClass};
    use std::time::Duration;
    use tokio::time::Instant;

    fn call_events(call: &str) -> Vec<Event> {
        let call = call.to_string();
        vec![
            Event::CallReceived {
                call: call.clone(),
                caller: Some("081234567890".into()),
                display_name: None,
                trunk: "127.0.0.1:5070".into(),
            },
            Event::CallScreened {
                call: call.clone(),
                class: ScreeningClass::SilentNeedsHelp,
                score: 10,
                reasons: vec![],
                audio: AudioStats::default(),
            },
            Event::CallQueued { call: call.clone() },
            Event::SeatRinging {
                call: call.clone(),
                seat: "seat1".into(),
            },
            Event::CallAnswered {
                call: call.clone(),
                seat: "seat1".into(),
            },
            Event::CallEnded {
                call,
                reason: EndReason::MediaTimeout,
                by: Party::Gateway,
            },
        ]
    }

    #[test]
    fn a_call_moves_the_counters_and_the_answer_histogram() {
        let m = GatewayMetrics::default();
        let mut f = Follower::default();
        let t0 = Instant::now();
        let events = call_events("c1");
        // received at t0, queued at +1 s, answered at +2.5 s, ended at +60 s
        let at = [0, 400, 1000, 1200, 2500, 60_000];
        for (ev, ms) in events.iter().zip(at) {
            m.observe(&mut f, t0 + Duration::from_millis(ms), ev);
            if ms == 1200 {
                assert_eq!(m.calls_in_progress.get(), 1);
            }
        }
        assert_eq!(m.calls_in_progress.get(), 0);
        let mut stats = GatewayStats {
            received: 7,
            ..GatewayStats::default()
        };
        stats.registrar.guard.distributed_alarms = 2;
        let page = m.render(Some(&stats));
        for line in [
            "siaga_calls_received_total 1",
            "siaga_calls_ended_total{reason=\"media_timeout\"} 1",
            "siaga_screening_decisions_total{class=\"silent_needs_help\"} 1",
            "siaga_screening_decisions_total{class=\"ghost\"} 0",
            "siaga_answer_seconds_bucket{le=\"2\"} 0",
            "siaga_answer_seconds_bucket{le=\"3\"} 1",
            "siaga_queue_wait_seconds_bucket{le=\"1\"} 0",
            "siaga_queue_wait_seconds_bucket{le=\"2\"} 1",
            "siaga_seats{state=\"available\"} 0",
            "siaga_sip_messages_received_total 7",
            "siaga_registrar_distributed_alarms_total 2",
        ] {
            assert!(page.lines().any(|l| l == line), "missing {line}\n{page}");
        }
    }
}
