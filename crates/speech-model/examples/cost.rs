//! Cost of the speech model per 32 ms chunk and the calls one core sustains, on a recording
//! (default: siaga's fixtures/screening-real/r-g-snr5-rain-default_uk.ul, µ-law 8 kHz).
//! Run: `cargo run --release -p siaga-speech-model --example cost [FILE.ul]`
use std::time::Instant;

use siaga_speech_model::{SpeechModel, CHUNK_MS, CHUNK_SAMPLES};

/// G.711 µ-law → linear (ITU-T G.711), so the example needs nothing but this crate.
fn ulaw(u: u8) -> f32 {
    let u = !u;
    let e = (u >> 4) & 7;
    let m = i32::from(u & 0x0F);
    let mag = (((m << 3) + 0x84) << e) - 0x84;
    (if u & 0x80 != 0 { -mag } else { mag }) as f32 / 32768.0
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/screening-real/r-g-snr5-rain-default_uk.ul"
        )
        .to_owned()
    });
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let pcm: Vec<f32> = bytes.iter().map(|&b| ulaw(b)).collect();
    let chunks: Vec<[f32; CHUNK_SAMPLES]> = pcm
        .chunks_exact(CHUNK_SAMPLES)
        .map(|c| std::array::from_fn(|i| c[i]))
        .collect();
    let mut model = SpeechModel::new().expect("compiled-in weights");
    let rounds = 40;
    let mut sum = 0.0;
    let t = Instant::now();
    for _ in 0..rounds {
        for c in &chunks {
            sum += model.chunk(c);
        }
    }
    let per = t.elapsed().as_secs_f64() / (rounds * chunks.len()) as f64;
    println!(
        "{} chunks: {:.1} µs per {CHUNK_MS} ms chunk, {:.1} µs per 20 ms of audio, {:.0} calls per core (checksum {sum:.1})",
        rounds * chunks.len(),
        per * 1e6,
        per * 1e6 * 20.0 / CHUNK_MS as f64,
        CHUNK_MS as f64 / 1000.0 / per
    );
}
