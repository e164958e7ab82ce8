//! Real-peer tests: the `siaga` binary against SIPp 3.6.1 and baresip 1.0.0 on 127.0.0.1.
//!
//! Each test starts its own gateway (free ports, temporary store, shipped seats `seat1`..`seat4`
//! with passwords `siaga-seat1`..`siaga-seat4`), drives it with a real SIP peer, then stops it
//! with SIGTERM and asserts a clean exit. The peers must be installed: a missing `sipp` or
//! `baresip` fails the test with a hint to run `bash scripts/install-test-peers.sh`.
//! The scenarios are in `fixtures/sipp/`; the helpers in `tests/common/mod.rs`.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{run_sipp, seat_line, seat_lines, Baresip, Gateway};

/// Bound of every SIPp run (its `-timeout`; a watchdog adds 10 s).
const SIPP_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn sipp_registers_with_digest_auth() {
    let gw = Gateway::start(&[]);
    // seat1..seat4, one REGISTER transaction pair (401, then 200 with the binding) each
    let run = run_sipp(
        gw.sip,
        "register_auth.xml",
        &seat_lines(4),
        4,
        10,
        SIPP_TIMEOUT,
    );
    run.assert_all_succeeded(4, &gw);
    gw.stop();
}

#[test]
fn sipp_wrong_password_refused() {
    let gw = Gateway::start(&[]);
    // a known seat with a wrong password: 401, then 403 (or 401), never 200
    let wrong = [seat_line("seat1", "not-siaga-seat1")];
    let run = run_sipp(gw.sip, "register_wrong.xml", &wrong, 1, 10, SIPP_TIMEOUT);
    run.assert_all_succeeded(1, &gw);
    // an unknown user with some password is refused the same way
    let unknown = [seat_line("seat99", "siaga-seat99")];
    let run = run_sipp(gw.sip, "register_wrong.xml", &unknown, 1, 10, SIPP_TIMEOUT);
    run.assert_all_succeeded(1, &gw);
    // two failures (below the default lockout of 5): the right password still registers
    let run = run_sipp(
        gw.sip,
        "register_auth.xml",
        &seat_lines(1),
        1,
        10,
        SIPP_TIMEOUT,
    );
    run.assert_all_succeeded(1, &gw);
    gw.stop();
}

#[test]
fn repeated_failures_silence_one_seat_for_that_address_not_its_neighbours() {
    const FAILURES: u32 = 4; // 2 × lockout_failures: slowed, then silence
    const SILENCE: Duration = Duration::from_secs(2);
    let gw = Gateway::start(&[
        ("SIAGA__REGISTRAR__LOCKOUT_FAILURES", "2"),
        ("SIAGA__REGISTRAR__LOCKOUT_WINDOW_S", "60"),
        ("SIAGA__REGISTRAR__BACKOFF_MAX_S", "1"),
        ("SIAGA__REGISTRAR__LOCKOUT_S", "2"),
    ]);
    // FAILURES wrong attempts for seat2 from 127.0.0.1, each challenged then refused
    let wrong = [seat_line("seat2", "wrong-password")];
    let run = run_sipp(
        gw.sip,
        "register_wrong.xml",
        &wrong,
        FAILURES,
        10,
        SIPP_TIMEOUT,
    );
    run.assert_all_succeeded(u64::from(FAILURES), &gw);
    let silenced_at = Instant::now();
    // seat1 behind the same address (one NAT for all seats) registers at once
    let run = run_sipp(
        gw.sip,
        "register_auth.xml",
        &seat_lines(1),
        1,
        10,
        SIPP_TIMEOUT,
    );
    run.assert_all_succeeded(1, &gw);
    // after lockout_s seat2 itself registers again from that address
    sleep(SILENCE + Duration::from_secs(1));
    assert!(silenced_at.elapsed() > SILENCE);
    let right = seat_lines(2)[1..].to_vec();
    let run = run_sipp(gw.sip, "register_auth.xml", &right, 1, 10, SIPP_TIMEOUT);
    run.assert_all_succeeded(1, &gw);
    gw.stop();
}

#[test]
fn sipp_unregister() {
    let gw = Gateway::start(&[]);
    // seat3: 200 with its binding, then Expires: 0 -> 200 without any Contact
    let seat3 = seat_lines(3)[2..].to_vec();
    let run = run_sipp(
        gw.sip,
        "register_unregister.xml",
        &seat3,
        1,
        10,
        SIPP_TIMEOUT,
    );
    run.assert_all_succeeded(1, &gw);
    gw.stop();
}

#[test]
fn baresip_registers_as_seat() {
    let gw = Gateway::start(&[]);
    let mut seat = Baresip::start(gw.sip, "seat2", "siaga-seat2");
    let registered = seat.wait_registered(Duration::from_secs(15));
    if let Err(why) = registered {
        panic!("{why}\n--- baresip ---\n{}\n{}", seat.log(), gw.log());
    }
    // SIGTERM: baresip unregisters and exits 0
    let log = seat.log();
    let status = seat.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "baresip did not exit cleanly after SIGTERM ({status:?})\n{log}"
    );
    gw.stop();
}

/// Why `md5_only_user_agents` exists: with the list emptied, Debian's baresip 1.0.0 (libre
/// 1.1.0) gets the shipped MD5-then-SHA-256 challenges and gives up ("Function not
/// implemented", ENOSYS) although MD5 comes first. If a newer baresip registers here, the
/// default list can lose its entry.
#[test]
fn baresip_gives_up_on_any_sha256_challenge() {
    let gw = Gateway::start(&[("SIAGA__REGISTRAR__MD5_ONLY_USER_AGENTS", "")]);
    let mut seat = Baresip::start(gw.sip, "seat2", "siaga-seat2");
    let registered = seat.wait_registered(Duration::from_secs(5));
    let log = seat.log();
    assert!(
        registered.is_err(),
        "baresip registered with a SHA-256 challenge present: the MD5-only rule may go\n{log}"
    );
    assert!(
        log.contains("Function not implemented"),
        "baresip failed otherwise\n{log}\n{}",
        gw.log()
    );
    drop(seat);
    gw.stop();
}
