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
