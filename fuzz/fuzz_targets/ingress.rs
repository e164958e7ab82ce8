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
            // A refusal must itself be a parseable message.
            let printed = r.to_bytes();
            parse(&printed, Framing::Stream).expect("refusal does not parse");
            return;
        }
        Ingress::Drop(_) => return,
    };
    let printed = message.to_bytes();
    let again = parse(&printed, Framing::Stream).expect("printed message does not parse");
    assert_eq!(again, message, "round trip changed the message");
});
