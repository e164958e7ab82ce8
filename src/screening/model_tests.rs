//! The Rust forward pass against the original model: `fixtures/screening-model/
//! silero-reference.tsv` holds onnxruntime's probabilities (scripts/silero/reference.py).
use super::*;
use crate::media::g711::ulaw_to_linear;

/// Largest difference allowed from onnxruntime, per chunk. Measured: 3e-6 (summation order
/// of f32 dot products); 1e-4 leaves room for other compilers and CPUs, and is far below
/// any threshold of the policy (0.1 apart at the least).
const TOLERANCE: f32 = 1e-4;

fn reference() -> Vec<(String, Vec<f32>)> {
    let text = include_str!("../../fixtures/screening-model/silero-reference.tsv");
    let mut out: Vec<(String, Vec<f32>)> = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [clip, _chunk, p] = cols[..] else {
            panic!("bad reference row {line:?}");
        };
        let p: f32 = p.parse().expect("probability");
        match out.last_mut() {
            Some((c, ps)) if c == clip => ps.push(p),
            _ => out.push((clip.to_owned(), vec![p])),
        }
    }
    out
}

#[test]
fn matches_onnxruntime_reference_within_tolerance() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let refs = reference();
    assert!(refs.len() >= 5, "reference clips: {}", refs.len());
    let mut worst = 0.0f32;
    let mut chunks = 0;
    for (clip, want) in &refs {
        let bytes = std::fs::read(root.join(clip)).expect(clip);
        let pcm: Vec<i16> = bytes.iter().map(|&b| ulaw_to_linear(b)).collect();
        let mut model = SpeechModel::new().expect("weights");
        let mut got = Vec::new();
        model.push(&pcm, |p| got.push(p));
        assert_eq!(got.len(), want.len(), "{clip}: chunk count");
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            let d = (g - w).abs();
            assert!(d <= TOLERANCE, "{clip} chunk {k}: rust {g} onnxruntime {w}");
            worst = worst.max(d);
        }
        chunks += got.len();
    }
    eprintln!("{chunks} chunks, max abs diff {worst:e}");
}

#[test]
fn frames_of_any_size_give_the_same_chunks() {
    let pcm: Vec<i16> = (0..4000)
        .map(|i| ((i * 37 % 200) as i16 - 100) * 50)
        .collect();
    let mut a = SpeechModel::new().expect("weights");
    let mut b = a.clone();
    let (mut pa, mut pb) = (Vec::new(), Vec::new());
    a.push(&pcm, |p| pa.push(p));
    for frame in pcm.chunks(160) {
        b.push(frame, |p| pb.push(p));
    }
    assert_eq!(pa.len(), 4000 / CHUNK_SAMPLES);
    assert_eq!(pa, pb);
}
