//! Screening cost (criterion): the speech model per 32 ms chunk, in-band DTMF per 20 ms frame,
//! and the whole per-call detector on one PCMU packet (G.711 decode + model + policy + DTMF +
//! timeline; a model chunk completes on 5 packets of 8), on speech, noise and silence. Concurrent screened calls one core sustains = 20 ms / (cost per packet), since a
//! call delivers 50 packets a second.
//! Run: `cargo bench --bench screening`.
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use siaga::media::g711::ulaw_to_linear;
use siaga::media::rtp::RtpHeaderInfo;
use siaga::screening::dtmf::InbandDtmf;
use siaga::screening::model::{SpeechModel, CHUNK_SAMPLES};
use siaga::screening::CallDetector;

const SPEECH: &[u8] = include_bytes!("../fixtures/audio/speech-id.ul");
const NOISE: &[u8] = include_bytes!("../fixtures/audio/noise.ul");
const SILENCE: &[u8] = include_bytes!("../fixtures/audio/silence.ul");

fn frames(ul: &[u8]) -> Vec<Vec<i16>> {
    ul.chunks_exact(160)
        .map(|c| c.iter().map(|&b| ulaw_to_linear(b)).collect())
        .collect()
}

fn header(seq: u16) -> RtpHeaderInfo {
    RtpHeaderInfo {
        marker: false,
        payload_type: 0,
        sequence: seq,
        timestamp: u32::from(seq).wrapping_mul(160),
        ssrc: 1,
        payload_offset: 12,
        payload_len: 160,
    }
}

fn per_frame(c: &mut Criterion) {
    for (name, ul) in [("speech", SPEECH), ("noise", NOISE), ("silence", SILENCE)] {
        let fs = frames(ul);
        let chunks: Vec<[f32; CHUNK_SAMPLES]> = fs
            .concat()
            .chunks_exact(CHUNK_SAMPLES)
            .map(|c| std::array::from_fn(|i| f32::from(c[i]) / 32768.0))
            .collect();
        let mut model = SpeechModel::new().expect("weights");
        let mut i = 0;
        c.bench_function(&format!("model_chunk_32ms/{name}"), |b| {
            b.iter(|| {
                i = (i + 1) % chunks.len();
                black_box(model.chunk(black_box(&chunks[i])))
            })
        });
        let mut dtmf = InbandDtmf::new();
        c.bench_function(&format!("dtmf_inband_frame/{name}"), |b| {
            b.iter(|| {
                i = (i + 1) % fs.len();
                black_box(dtmf.push(black_box(&fs[i])))
            })
        });
        let packets: Vec<&[u8]> = ul.chunks_exact(160).collect();
        let start = Instant::now();
        let mut det = CallDetector::new(start, Duration::from_millis(160));
        let mut seq: u16 = 0;
        c.bench_function(&format!("detector_packet/{name}"), |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                // Keep the audio clock in step with the packets (no gap filling).
                let now = start + Duration::from_millis(20 * u64::from(seq));
                if seq == 0 {
                    det = CallDetector::new(now, Duration::from_millis(160));
                }
                let p = packets[usize::from(seq) % packets.len()];
                det.on_rtp(now, &header(seq), black_box(p));
            })
        });
    }
}

criterion_group!(benches, per_frame);
criterion_main!(benches);
