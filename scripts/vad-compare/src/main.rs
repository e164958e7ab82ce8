// The candidates on one labelled set. siaga's own speech model (crates/speech-model, Silero
// VAD v5 8 kHz in plain Rust) is judged as Silero is: speech = one run of >= 200 ms of
// chunks at p >= 0.5; the others by their old rule (>= 160 ms of flagged frames in 3 s).
// The hand-made feature VAD that siaga used before issue 8 is gone from the tree; its last
// figures are in BENCHMARKS.md.
use std::time::Instant;
fn ulaw(u: u8) -> i16 {
    let u = !u;
    let e = (u >> 4) & 7;
    let m = i32::from(u & 0x0F);
    let mag = (((m << 3) + 0x84) << e) - 0x84;
    (if u & 0x80 != 0 { -mag } else { mag }) as i16
}
/// frame flags (frame_ms) -> decision time ms: >= need_ms of flagged frames within 3 s.
fn decide(flags: &[bool], frame_ms: f64, need_ms: f64) -> Option<f64> {
    let win = (3000.0 / frame_ms) as usize;
    let need = (need_ms / frame_ms).ceil() as usize;
    let mut c = 0;
    for i in 0..flags.len() {
        if flags[i] {
            c += 1
        }
        if i >= win && flags[i - win] {
            c -= 1
        }
        if c >= need {
            return Some((i + 1) as f64 * frame_ms);
        }
    }
    None
}
/// flags -> decision time ms: one run of consecutive flagged frames lasting >= need_ms.
fn decide_run(flags: &[bool], frame_ms: f64, need_ms: f64) -> Option<f64> {
    let need = (need_ms / frame_ms).ceil() as usize;
    let mut run = 0;
    for (i, &f) in flags.iter().enumerate() {
        run = if f { run + 1 } else { 0 };
        if run >= need {
            return Some((i + 1) as f64 * frame_ms);
        }
    }
    None
}
fn main() {
    // The labelled set, or another folder with labels.tsv (e.g. fixtures/screening/holdout).
    let dir = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/screening").to_owned()
    });
    let labels = std::fs::read_to_string(format!("{dir}/labels.tsv")).unwrap();
    let names = [
        "silero-rust run>=200ms",
        "energy>-40dBFS",
        "energy>-45dBFS",
        "webrtc-quality",
        "webrtc-aggr",
        "webrtc-very-aggr",
        "earshot>0.5",
        "earshot>0.3",
    ];
    let mut res = vec![(0usize, 0usize, 0usize, 0usize, Vec::<f64>::new(), 0.0f64); names.len()];
    let mut time = vec![0f64; names.len()];
    let mut nframes = 0usize;
    // Both layouts: file,label,kind,onset_s and name,label,kind,description,onset.
    let five = labels.lines().next().unwrap_or("").split('\t').count() == 5;
    for line in labels.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        let genuine = c[1] == "genuine";
        let onset: Option<f64> = c[if five { 4 } else { 3 }]
            .parse::<f64>()
            .ok()
            .map(|s| s * 1000.0);
        let mut pcm: Vec<i16> = std::fs::read(format!("{dir}/{}", c[0]))
            .unwrap()
            .into_iter()
            .map(ulaw)
            .collect();
        pcm.resize(12 * 8000, 0); // the 12 s of both windows, silence after the clip
        let frames: Vec<&[i16]> = pcm.chunks(160).collect();
        nframes += frames.len();
        for k in 0..names.len() {
            let t = Instant::now();
            let (flags, fms): (Vec<bool>, f64) = match k {
                0 => {
                    let mut m = siaga_speech_model::SpeechModel::new().expect("weights");
                    let mut flags = Vec::new();
                    m.push(&pcm, |p| flags.push(p >= 0.5));
                    (flags, 32.0)
                }
                1 | 2 => {
                    let th = if k == 1 { -40.0 } else { -45.0 };
                    (
                        frames
                            .iter()
                            .map(|f| {
                                let e: f64 =
                                    f.iter().map(|&s| (s as f64 / 32768.0).powi(2)).sum::<f64>()
                                        / 160.0;
                                10.0 * (e + 1e-12).log10() > th
                            })
                            .collect(),
                        20.0,
                    )
                }
                3..=5 => {
                    let mode = match k {
                        3 => webrtc_vad::VadMode::Quality,
                        4 => webrtc_vad::VadMode::Aggressive,
                        _ => webrtc_vad::VadMode::VeryAggressive,
                    };
                    let mut v = webrtc_vad::Vad::new_with_rate_and_mode(
                        webrtc_vad::SampleRate::Rate8kHz,
                        mode,
                    );
                    (
                        frames
                            .iter()
                            .map(|f| v.is_voice_segment(f).unwrap_or(false))
                            .collect(),
                        20.0,
                    )
                }
                _ => {
                    let th = if k == 6 { 0.5 } else { 0.3 };
                    let mut up = Vec::with_capacity(pcm.len() * 2);
                    for i in 0..pcm.len() {
                        let a = pcm[i] as i32;
                        let b = *pcm.get(i + 1).unwrap_or(&pcm[i]) as i32;
                        up.push(a as i16);
                        up.push(((a + b) / 2) as i16);
                    }
                    let mut d = earshot::Detector::default();
                    (
                        up.chunks_exact(256)
                            .map(|f| d.predict_i16(f) >= th)
                            .collect(),
                        16.0,
                    )
                }
            };
            time[k] += t.elapsed().as_secs_f64();
            let dec = if k == 0 {
                decide_run(&flags, fms, 200.0)
            } else {
                decide(&flags, fms, 160.0)
            };
            let r = &mut res[k];
            // DTMF clips are not speech: they are left out of the genuine-speech count.
            if genuine && !c[2].starts_with("dtmf") {
                r.0 += 1;
                if dec.is_none() {
                    r.1 += 1
                }
            } else if !genuine {
                r.2 += 1;
                if dec.is_none() {
                    r.3 += 1
                }
            }
            if let (Some(o), Some(d)) = (onset, dec) {
                r.4.push((d - o).max(0.0));
            }
        }
    }
    println!("| detector | genuine speech missed (no decision in 12 s) | ghost kept ghost | decision after onset, median / max | µs per 20 ms frame |");
    println!("|---|---|---|---|---|");
    for (k, name) in names.iter().enumerate() {
        let r = &mut res[k];
        r.4.sort_by(|a, b| a.total_cmp(b));
        let med = r.4.get(r.4.len() / 2).copied().unwrap_or(f64::NAN);
        let max = r.4.last().copied().unwrap_or(f64::NAN);
        println!(
            "| {name} | {} of {} | {} of {} ({:.0} %) | {med:.0} / {max:.0} ms | {:.2} |",
            r.1,
            r.0,
            r.3,
            r.2,
            100.0 * r.3 as f64 / r.2 as f64,
            time[k] * 1e6 / nframes as f64
        );
    }
}
