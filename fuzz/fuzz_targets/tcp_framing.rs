//! Any stream cut into any chunks gives the same frames as the stream pushed at once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use siaga::sip::framing::StreamFramer;

fn frames(chunks: &[&[u8]]) -> (Vec<siaga::sip::framing::Frame>, bool) {
    let mut framer = StreamFramer::new(4096);
    let mut out = Vec::new();
    for chunk in chunks {
        framer.push(chunk);
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => out.push(frame),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let split = data[0] as usize % 17 + 1;
    let stream = &data[1..];
    let whole = frames(&[stream]);
    let pieces: Vec<&[u8]> = stream.chunks(split).collect();
    let chunked = frames(&pieces);
    assert_eq!(whole, chunked);
});
