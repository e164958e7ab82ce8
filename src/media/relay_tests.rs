use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::media::playback::FRAME;
use crate::media::sdp::Direction;
use crate::media::tap::CountingTap;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn negotiated(remote: &str) -> Negotiated {
    Negotiated {
        codec: Codec::Pcmu,
        payload_type: 0,
        dtmf_payload_type: Some(101),
        remote_rtp: Some(addr(remote)),
        direction: Direction::SendRecv,
    }
}

const ID: RtpIdentity = RtpIdentity {
    ssrc: 9,
    sequence: 1,
    timestamp: 1,
};

fn relay(tap: Arc<CountingTap>, t0: Instant) -> Relay {
    let local = [addr("203.0.113.5:30000"), addr("203.0.113.5:30002")];
    let mut r = Relay::new("call-1", tap, local, [ID, ID], t0);
    r.set_trunk_networks(Arc::from(vec!["192.0.2.0/24".parse().unwrap()]));
    r.set_remote(Leg::Caller, &negotiated("192.0.2.10:4000"));
    r.set_remote(Leg::Seat, &negotiated("198.51.100.7:7078"));
    r
}

fn rtp(seq: u16) -> Vec<u8> {
    crate::media::rtp::tests::packet(seq, u32::from(seq) * 160, 0xCA11, &[0x55; 160])
}

#[test]
fn unbridged_caller_audio_is_only_analysed() {
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let mut r = relay(tap.clone(), t0);
    let out = r.on_packet(
        t0,
        Leg::Caller,
        Channel::Rtp,
        addr("192.0.2.10:4000"),
        &rtp(1),
    );
    assert!(out.is_empty());
    assert_eq!((tap.packets(), tap.bytes()), (1, 160));
    // Seat audio before the bridge goes nowhere and is not tapped.
    let out = r.on_packet(
        t0,
        Leg::Seat,
        Channel::Rtp,
        addr("198.51.100.7:7078"),
        &rtp(1),
    );
    assert!(out.is_empty());
    assert_eq!(tap.packets(), 1);
}

#[test]
fn bridged_packets_go_to_the_latched_address_of_the_other_leg() {
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let mut r = relay(tap.clone(), t0);
    r.bridge();
    // The seat sends from another port than its SDP says: it latches there.
    let seat_src = addr("198.51.100.7:40404");
    let out = r.on_packet(t0, Leg::Seat, Channel::Rtp, seat_src, &rtp(1));
    let to_caller = Forward {
        leg: Leg::Caller,
        channel: Channel::Rtp,
        to: addr("192.0.2.10:4000"),
    };
    assert_eq!(out, [to_caller]);
    let out = r.on_packet(
        t0,
        Leg::Caller,
        Channel::Rtp,
        addr("192.0.2.10:4000"),
        &rtp(1),
    );
    assert_eq!(out[0].to, seat_src);
    assert_eq!(out[0].leg, Leg::Seat);
    let stats = r.stats(t0);
    assert!(stats.seat.latched && stats.bridged);
    assert_eq!((stats.seat.tx.packets, stats.caller.tx.packets), (1, 1));
    assert_eq!(tap.packets(), 1);
}

#[test]
fn strangers_are_dropped_and_counted() {
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let mut r = relay(tap.clone(), t0);
    r.bridge();
    let out = r.on_packet(
        t0,
        Leg::Caller,
        Channel::Rtp,
        addr("203.0.113.99:4000"),
        &rtp(1),
    );
    assert!(out.is_empty());
    let garbage = r.on_packet(
        t0,
        Leg::Caller,
        Channel::Rtp,
        addr("192.0.2.10:4000"),
        b"\x40xx",
    );
    assert!(garbage.is_empty());
    let stats = r.stats(t0);
    assert_eq!(
        (
            stats.caller.rejected_packets,
            stats.caller.malformed_packets
        ),
        (1, 1)
    );
    assert_eq!(
        tap.packets(),
        0,
        "a stranger's audio must not be screened as the caller's"
    );
}

#[test]
fn rtcp_is_relayed_as_is_between_rtcp_sockets() {
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let mut r = relay(tap, t0);
    r.bridge();
    let rr = [0x80, 201, 0, 1, 0, 0, 0xCA, 0x11];
    let out = r.on_packet(t0, Leg::Caller, Channel::Rtcp, addr("192.0.2.10:4001"), &rr);
    let expected = Forward {
        leg: Leg::Seat,
        channel: Channel::Rtcp,
        to: addr("198.51.100.7:7079"),
    };
    assert_eq!(out, [expected]);
    assert_eq!(r.stats(t0).caller.rx.rtcp_packets, 1);
    assert!(r
        .on_packet(t0, Leg::Caller, Channel::Rtcp, addr("192.0.2.99:1"), &rr)
        .is_empty());
}

#[test]
fn loss_jitter_and_idle_time_are_reported() {
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let mut r = relay(tap, t0);
    for seq in (0..20u16).filter(|s| s % 5 != 4) {
        let at = t0 + FRAME * u32::from(seq);
        r.on_packet(
            at,
            Leg::Caller,
            Channel::Rtp,
            addr("192.0.2.10:4000"),
            &rtp(seq),
        );
    }
    let end = t0 + FRAME * 18 + Duration::from_millis(500);
    let stats = r.stats(end);
    assert_eq!(
        (stats.caller.rx.packets, stats.caller.rx.expected),
        (16, 19)
    );
    assert_eq!(stats.caller.rx.lost, 3);
    assert!(stats.caller.rx.jitter_ms < 0.01);
    assert_eq!(stats.caller.rx.last_rx_age_ms, Some(500));
    assert_eq!(r.idle_for(end), Duration::from_millis(500));
}

#[test]
fn playback_runs_until_the_bridge_then_stops() {
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let mut r = relay(tap, t0);
    r.play(Leg::Caller, Arc::new(vec![0xFF; 1600]), true, t0);
    assert_eq!(r.poll_timeout(), Some(t0));
    let first = r.poll_playback(t0);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].to, addr("192.0.2.10:4000"));
    assert_eq!(r.poll_timeout(), Some(t0 + FRAME));
    assert!(r.poll_playback(t0 + Duration::from_millis(10)).is_empty());
    assert_eq!(r.poll_playback(t0 + FRAME).len(), 1);
    r.bridge();
    assert!(!r.is_playing(Leg::Caller));
    assert_eq!(r.poll_timeout(), None);
    assert!(r.poll_playback(t0 + FRAME * 5).is_empty());
    assert_eq!(r.stats(t0).caller.tx.playback_packets, 2);
    // Back to the prompt after the seat leg failed: sequence numbers continue.
    r.unbridge();
    r.play(
        Leg::Caller,
        Arc::new(vec![0xFF; 160]),
        false,
        t0 + FRAME * 6,
    );
    let again = r.poll_playback(t0 + FRAME * 6);
    let h = RtpHeaderInfo::parse(&again[0].bytes).unwrap();
    assert_eq!(h.sequence, ID.sequence + 2);
}

#[test]
fn hold_stops_sending_to_that_leg() {
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let mut r = relay(tap, t0);
    r.bridge();
    let mut hold = negotiated("198.51.100.7:7078");
    hold.direction = Direction::RecvOnly;
    r.set_remote(Leg::Seat, &hold);
    let out = r.on_packet(
        t0,
        Leg::Caller,
        Channel::Rtp,
        addr("192.0.2.10:4000"),
        &rtp(1),
    );
    assert!(out.is_empty());
    hold.remote_rtp = None;
    hold.direction = Direction::SendRecv;
    r.set_remote(Leg::Seat, &hold);
    let out = r.on_packet(
        t0,
        Leg::Caller,
        Channel::Rtp,
        addr("192.0.2.10:4000"),
        &rtp(2),
    );
    assert!(out.is_empty());
}

#[test]
fn caller_sdp_outside_the_trunk_networks_gets_nothing_before_its_rtp() {
    // Issue 10: 550 packets once went to an address named in the SDP before any RTP.
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let local = [addr("203.0.113.5:30000"), addr("203.0.113.5:30002")];
    let mut r = Relay::new("call-2", tap, local, [ID, ID], t0);
    r.set_trunk_networks(Arc::from(vec!["192.0.2.0/24".parse().unwrap()]));
    r.set_remote(Leg::Caller, &negotiated("198.51.100.99:4000"));
    r.set_remote(Leg::Seat, &negotiated("198.51.100.7:7078"));
    r.play(Leg::Caller, Arc::new(vec![0xff; 1600]), true, t0);
    r.bridge();
    let from_seat = r.on_packet(
        t0,
        Leg::Seat,
        Channel::Rtp,
        addr("198.51.100.7:7078"),
        &rtp(1),
    );
    assert!(from_seat.is_empty(), "{from_seat:?}");
    // The caller's first RTP latches; from then on the seat's audio reaches it.
    let caller = addr("198.51.100.99:4002");
    r.on_packet(t0, Leg::Caller, Channel::Rtp, caller, &rtp(1));
    let out = r.on_packet(
        t0,
        Leg::Seat,
        Channel::Rtp,
        addr("198.51.100.7:7078"),
        &rtp(2),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, caller);
}

#[test]
fn prompts_wait_for_the_callers_rtp_outside_the_trunk_networks() {
    let (t0, tap) = (Instant::now(), Arc::new(CountingTap::default()));
    let local = [addr("203.0.113.5:30000"), addr("203.0.113.5:30002")];
    let mut r = Relay::new("call-3", tap, local, [ID, ID], t0);
    r.set_remote(Leg::Caller, &negotiated("198.51.100.99:4000"));
    r.play(Leg::Caller, Arc::new(vec![0xff; 1600]), true, t0);
    let sent: usize = (1..20)
        .map(|i| r.poll_playback(t0 + Duration::from_millis(20 * i)).len())
        .sum();
    assert_eq!(sent, 0);
    r.on_packet(
        t0,
        Leg::Caller,
        Channel::Rtp,
        addr("198.51.100.99:4000"),
        &rtp(1),
    );
    let sent: usize = (20..40)
        .map(|i| r.poll_playback(t0 + Duration::from_millis(20 * i)).len())
        .sum();
    assert!(sent > 0);
}
