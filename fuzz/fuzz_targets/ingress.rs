//! Any bytes through the ingress gate: never a panic; every accepted message prints to
//! bytes that parse back to the same message (parse → print → parse).
#![no_main]

use libfuzzer_sys::fuzz_target;
use siaga::sip::ingress::{ingress, Ingress};
use siaga::sip::message::Message;
use siaga::sip::parse::{parse, Framing};

fuzz_target!(|data: &[u8]| {
    let message = match ingress(data, Framing::Datagram, "siaga") {
        Ingress::Request(r) => Message::Request(r),
        Ingress::Response(r) => Message::Response(r),
        Ingress::Reject(r) => {
            // A refusal echoes the sender's Via/From/To (RFC 3261 §8.2.6.2), which may be
            // the broken part, so only its own start line is checked: one clean line.
            let printed = r.to_bytes();
            let first = printed.split(|&b| b == b'\n').next().unwrap_or_default();
            let expected = format!("SIP/2.0 {} ", r.status);
            assert!(first.starts_with(expected.as_bytes()));
            assert!(!first[..first.len() - 1].contains(&b'\r'));
            return;
        }
        Ingress::Drop(_) => return,
    };
    let printed = message.to_bytes();
    let again = parse(&printed, Framing::Stream).expect("printed message does not parse");
    assert_eq!(again, message, "round trip changed the message");
});
