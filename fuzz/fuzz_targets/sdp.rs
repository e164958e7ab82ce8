//! SDP parse → answer must never panic; our own answer must parse back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siaga::media::sdp::{answer, SdpOrigin, SessionDescription};

fuzz_target!(|data: &[u8]| {
    if let Ok(offer) = SessionDescription::parse(data) {
        let local = std::net::SocketAddr::from(([203, 0, 113, 5], 30_000));
        if let Ok((body, _)) = answer(&offer, local, &mut SdpOrigin::new(1)) {
            SessionDescription::parse(&body).expect("our answer parses");
        }
    }
});
