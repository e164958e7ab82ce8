//! The guard's rules in simulated time.
use super::*;
use std::net::Ipv4Addr;

fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0xc633_6400 + n)) // 198.51.100.0/24 and up
}
fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}
fn guard() -> Guard {
    Guard::new(GuardSettings {
        threshold: 3,
        window: s(60),
        silence: s(300),
        max_delay: s(16),
        account_failures: 10,
        alarm_sources: 4,
    })
}

#[test]
fn slower_answers_then_silence_for_one_pair() {
    let (t0, mut g) = (Instant::now(), guard());
    assert_eq!(g.gate(t0, "seat1", ip(1)), Gate::Evaluate);
    assert_eq!(g.fail(t0, "seat1", ip(1), true), Penalty::AnswerAfter(s(0)));
    assert_eq!(g.fail(t0, "seat1", ip(1), true), Penalty::AnswerAfter(s(0)));
    // Third failure: slowed, 1 s, then doubling.
    assert_eq!(g.fail(t0, "seat1", ip(1), true), Penalty::AnswerAfter(s(1)));
    assert_eq!(g.gate(t0, "seat1", ip(1)), Gate::RefuseAfter(s(1)));
    let t1 = t0 + s(1);
    assert_eq!(g.gate(t1, "seat1", ip(1)), Gate::Evaluate);
    assert_eq!(g.fail(t1, "seat1", ip(1), true), Penalty::AnswerAfter(s(2)));
    let t2 = t1 + s(2);
    assert_eq!(g.fail(t2, "seat1", ip(1), true), Penalty::AnswerAfter(s(4)));
    // Sixth failure (2 × threshold): silence for 300 s.
    let t3 = t2 + s(4);
    assert_eq!(g.fail(t3, "seat1", ip(1), true), Penalty::Silence);
    assert_eq!(g.gate(t3 + s(299), "seat1", ip(1)), Gate::Silence);
    assert_eq!(g.gate(t3 + s(300), "seat1", ip(1)), Gate::Evaluate);
    // The same address for another account is untouched (the NAT case).
    assert_eq!(g.gate(t3, "seat4", ip(1)), Gate::Evaluate);
}

#[test]
fn the_source_holding_the_binding_is_slowed_never_silenced() {
    let (t0, mut g) = (Instant::now(), guard());
    g.succeed(t0, "seat1", ip(1));
    let mut t = t0;
    for _ in 0..20 {
        if let Gate::RefuseAfter(d) = g.gate(t, "seat1", ip(1)) {
            t += d;
        }
        assert_ne!(g.fail(t, "seat1", ip(1), true), Penalty::Silence);
    }
    assert!(matches!(
        g.gate(t, "seat1", ip(1)),
        Gate::RefuseAfter(d) if d <= s(16)
    ));
    assert_eq!(g.gate(t + s(16), "seat1", ip(1)), Gate::Evaluate);
}

#[test]
fn distributed_guessing_protects_the_account_but_not_from_its_own_source() {
    let (t0, mut g) = (Instant::now(), guard());
    g.succeed(t0, "seat1", ip(1));
    // 5 sources × 2 guesses: each pair stays below its threshold.
    for n in 10..15 {
        for _ in 0..2 {
            assert_eq!(g.gate(t0, "seat1", ip(n)), Gate::Evaluate);
            g.fail(t0, "seat1", ip(n), true);
        }
    }
    assert_eq!(g.stats().distributed_alarms, 1);
    assert_eq!(g.stats().protections, 1);
    // A new source is refused unevaluated; the seat's own source still evaluated.
    assert!(matches!(
        g.gate(t0 + s(1), "seat1", ip(99)),
        Gate::RefuseAfter(_)
    ));
    assert_eq!(g.gate(t0 + s(1), "seat1", ip(1)), Gate::Evaluate);
    // Another account is not protected.
    assert_eq!(g.gate(t0 + s(1), "seat2", ip(99)), Gate::Evaluate);
    // Protection lasts while the guessing goes on, and ends `silence` after it stops.
    assert!(matches!(
        g.gate(t0 + s(200), "seat1", ip(98)),
        Gate::RefuseAfter(_)
    ));
    assert!(matches!(
        g.gate(t0 + s(499), "seat1", ip(97)),
        Gate::RefuseAfter(_)
    ));
    assert_eq!(g.gate(t0 + s(800), "seat1", ip(96)), Gate::Evaluate);
    // The alarm is raised once per window.
    assert_eq!(g.stats().distributed_alarms, 1);
}

#[test]
fn unknown_accounts_count_per_pair_only() {
    let (t0, mut g) = (Instant::now(), guard());
    for n in 0..50 {
        g.fail(t0, "nobody", ip(n), false);
    }
    assert_eq!(g.stats().protections, 0);
    assert_eq!(g.sizes().1, 0);
}

/// Guesses one sequential client gets evaluated per minute, over 10 simulated minutes.
#[test]
fn guesses_per_minute_under_back_off() {
    let (t0, mut g) = (Instant::now(), Guard::new(GuardSettings::default()));
    let (mut t, mut evaluated) = (t0, 0u32);
    let end = t0 + s(600);
    while t < end {
        match g.gate(t, "seat1", ip(1)) {
            Gate::Evaluate => {
                evaluated += 1;
                if let Penalty::AnswerAfter(d) = g.fail(t, "seat1", ip(1), true) {
                    t += d;
                }
            }
            Gate::RefuseAfter(d) => t += d,
            Gate::Silence => {}
        }
        t += Duration::from_millis(100);
    }
    let per_min = f64::from(evaluated) / 10.0;
    eprintln!("one source, one account: {evaluated} guesses evaluated in 10 min ({per_min}/min)");
    assert!(per_min < 3.0, "{per_min}/min");
}

#[test]
fn tables_stay_bounded() {
    let (t0, mut g) = (Instant::now(), guard());
    for n in 0..(CAP as u32 + 500) {
        g.fail(t0, &format!("user{n}"), ip(n), false);
    }
    assert!(g.sizes().0 <= CAP);
}

/// Guesses evaluated in one simulated hour when 200 sources guess one account, each once a
/// second or as soon as its (slowed) answer comes, against the defaults.
#[test]
fn distributed_guesses_per_hour_under_protection() {
    let (t0, mut g) = (Instant::now(), Guard::new(GuardSettings::default()));
    let mut next: Vec<Instant> = vec![t0; 200];
    let (mut evaluated, mut attempts) = (0u32, 0u32);
    let end = t0 + s(3600);
    let mut t = t0;
    while t < end {
        for (n, due) in next.iter_mut().enumerate() {
            if *due > t {
                continue;
            }
            attempts += 1;
            let source = ip(1000 + n as u32);
            *due = t + s(1);
            match g.gate(t, "seat1", source) {
                Gate::Evaluate => {
                    evaluated += 1;
                    if let Penalty::AnswerAfter(d) = g.fail(t, "seat1", source, true) {
                        *due += d;
                    }
                }
                Gate::RefuseAfter(d) => *due += d,
                Gate::Silence => *due += s(60),
            }
        }
        t += Duration::from_millis(250);
    }
    eprintln!("200 sources, 1 h: {attempts} attempts, {evaluated} guesses evaluated");
    assert!(evaluated <= 20, "{evaluated}");
    // Refused attempts keep the protection up but are not failures: one alarm, one
    // protection for the whole hour.
    assert_eq!(g.stats().distributed_alarms, 1);
    assert_eq!(g.stats().protections, 1);
}
