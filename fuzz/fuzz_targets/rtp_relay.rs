//! Arbitrary datagrams into a bridged relay on either leg and socket: no panic, and forwards
//! only ever go to the SDP addresses.
#![no_main]
use std::sync::Arc;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use siaga::media::playback::RtpIdentity;
use siaga::media::relay::{Channel, Relay};
use siaga::media::sdp::Direction;
use siaga::media::{Codec, Leg, Negotiated, NoTap};

fuzz_target!(|data: &[u8]| {
    let id = RtpIdentity { ssrc: 1, sequence: 1, timestamp: 1 };
    let a = "192.0.2.10:4000".parse().unwrap();
    let b = "198.51.100.7:7078".parse().unwrap();
    let local = ["203.0.113.5:30000".parse().unwrap(), "203.0.113.5:30002".parse().unwrap()];
    let mut relay = Relay::new("fuzz", Arc::new(NoTap), local, [id, id], Instant::now());
    for (leg, remote) in [(Leg::Caller, a), (Leg::Seat, b)] {
        let n = Negotiated {
            codec: Codec::Pcmu,
            payload_type: 0,
            dtmf_payload_type: None,
            remote_rtp: Some(remote),
            direction: Direction::SendRecv,
        };
        relay.set_remote(leg, &n);
    }
    relay.bridge();
    let (leg, from) = if data.first().is_some_and(|b| b & 1 == 0) { (Leg::Caller, a) } else { (Leg::Seat, b) };
    let channel = if data.first().is_some_and(|b| b & 2 == 0) { Channel::Rtp } else { Channel::Rtcp };
    for f in relay.on_packet(Instant::now(), leg, channel, from, data) {
        assert!(f.to.ip() == a.ip() || f.to.ip() == b.ip());
    }
});
