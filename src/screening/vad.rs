//! Voice activity detection on 8 kHz telephone audio, one 20 ms frame (160 samples) at a time.
//!
//! Chosen by measurement on the labelled set in `fixtures/screening/` (see BENCHMARKS.md,
//! "Screening"): an energy gate alone calls pocket rustle, hiss and distant TV speech, so each
//! frame is judged on four features of the telephone band (300–3400 Hz, after a 250 Hz
//! high-pass that removes mains hum):
//!
//! - **band level** (dBFS) against an absolute floor and a tracked noise floor,
//! - **periodicity**: the normalised autocorrelation peak over pitch lags 2.5–20 ms (voiced
//!   speech is periodic, noise is not),
//! - **tonality**: the share of band energy in the two strongest spectral peaks (beeps, dial
//!   and busy tones, DTMF, hum harmonics and music notes concentrate there; speech does not),
//! - **spectral change**: how much the band shape moves from frame to frame (whispered speech
//!   changes shape with every phoneme; stationary or amplitude-modulated noise does not).
//!
//! A frame that passes is *evidence*. The smoothed state has an attack (3 of the last 6 frames)
//! and a hangover (300 ms), and [`Vad::recent_speech_frames`] counts evidence in the last three seconds
//! for the "speech decided" rule of the session.
use super::spectrum::{Biquad, Spectrum};

/// Samples in a 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// Milliseconds in a frame.
pub const FRAME_MS: u64 = 20;

/// Frames below this band level are never speech (distant talk, comfort noise).
const ABS_MIN_DB: f32 = -50.0;
/// Evidence needs this much above the tracked noise floor.
const ABOVE_FLOOR_DB: f32 = 6.0;
/// Noise-floor rise per frame while the level stays above it (1.5 dB/s).
const FLOOR_RISE_DB: f32 = 0.03;
/// Periodicity that counts as voiced.
const VOICED_R: f32 = 0.55;
/// Share of band energy in the two strongest peaks that makes a frame a tone.
const TONAL_SHARE: f32 = 0.80;
/// Mean absolute band-shape change (dB) of one frame that counts as unvoiced speech.
const UNVOICED_FLUX_DB: f32 = 5.0;
/// The same, smoothed over the last few loud frames (whispered speech keeps it up; the
/// periodogram noise of rustle averages out below it).
const UNVOICED_FLUX_AVG_DB: f32 = 3.0;
/// Weight of the newest frame in that average.
const FLUX_AVG_WEIGHT: f32 = 0.3;
/// Voiced frames also need some shape change (stationary periodic sounds are not speech).
const VOICED_FLUX_DB: f32 = 1.5;
/// Attack: evidence frames needed among the last `ATTACK_WINDOW`.
const ATTACK_FRAMES: u32 = 3;
const ATTACK_WINDOW: u32 = 6;
/// Frames without evidence before the smoothed state falls back to silence.
const HANGOVER_FRAMES: u32 = 15;
/// The window of [`Vad::recent_speech_frames`] (3 s): quiet speech gives sparse evidence.
const RECENT_WINDOW: usize = 150;
/// Pitch lags searched, in samples (400 Hz .. 50 Hz).
const MIN_LAG: usize = 20;
const MAX_LAG: usize = 160;

/// What one frame measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameFeatures {
    /// Telephone-band level, dBFS.
    pub level_db: f32,
    /// Tracked noise floor, dBFS.
    pub floor_db: f32,
    /// Normalised autocorrelation peak over pitch lags, 0..1 (0 for frames below the gate).
    pub periodicity: f32,
    /// Share of band energy in the two strongest peaks, 0..1.
    pub tonality: f32,
    /// Mean absolute change of the band shape from the previous frame, dB.
    pub flux_db: f32,
    /// `flux_db` averaged over the recent frames above the level gate, dB.
    pub flux_avg_db: f32,
}

/// The verdict on one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VadFrame {
    /// The measurements.
    pub features: FrameFeatures,
    /// This frame alone looks like speech.
    pub evidence: bool,
    /// Smoothed state (attack + hangover).
    pub speech: bool,
}

/// A streaming detector for one call. Cheap to create; about 3 KB of state.
#[derive(Debug, Clone)]
pub struct Vad {
    hp: Biquad,
    /// The previous frame and the current one, high-passed, as f32 in -1..1.
    history: [f32; 2 * FRAME_SAMPLES],
    spectrum: Spectrum,
    prev_shape: Option<[f32; Spectrum::BANDS]>,
    flux_avg_db: f32,
    floor_db: Option<f32>,
    attack: u32,
    since_evidence: u32,
    speech: bool,
    recent: [bool; RECENT_WINDOW],
    recent_pos: usize,
    recent_count: usize,
}

impl Default for Vad {
    fn default() -> Self {
        Vad::new()
    }
}

impl Vad {
    /// A detector in the silent state.
    pub fn new() -> Vad {
        Vad {
            hp: Biquad::highpass_250hz(),
            history: [0.0; 2 * FRAME_SAMPLES],
            spectrum: Spectrum::new(),
            prev_shape: None,
            flux_avg_db: 0.0,
            floor_db: None,
            attack: 0,
            since_evidence: u32::MAX,
            speech: false,
            recent: [false; RECENT_WINDOW],
            recent_pos: 0,
            recent_count: 0,
        }
    }

    /// Feeds one frame of linear samples (normally 160; shorter frames are zero-padded,
    /// longer ones truncated).
    pub fn push(&mut self, samples: &[i16]) -> VadFrame {
        self.history.copy_within(FRAME_SAMPLES.., 0);
        let cur = &mut self.history[FRAME_SAMPLES..];
        for (i, out) in cur.iter_mut().enumerate() {
            let x = samples.get(i).map_or(0.0, |&s| f32::from(s) / 32768.0);
            *out = self.hp.run(x);
        }
        let features = self.measure();
        let evidence = is_evidence(&features);
        self.smooth(evidence);
        VadFrame {
            features,
            evidence,
            speech: self.speech,
        }
    }

    /// Feeds a frame of silence (missing RTP, comfort noise).
    pub fn push_silence(&mut self) -> VadFrame {
        self.push(&[0; FRAME_SAMPLES])
    }

    /// The smoothed state after the last frame.
    pub fn is_speech(&self) -> bool {
        self.speech
    }

    /// Evidence frames among the last 150 (3 s).
    pub fn recent_speech_frames(&self) -> usize {
        self.recent_count
    }

    fn measure(&mut self) -> FrameFeatures {
        let cur = &self.history[FRAME_SAMPLES..];
        let bands = self.spectrum.analyse(cur);
        let level_db = db(bands.power);
        let floor = match self.floor_db {
            None => level_db,
            Some(f) if level_db < f => level_db,
            Some(f) => f + FLOOR_RISE_DB,
        };
        self.floor_db = Some(floor);
        let flux_db = match (&self.prev_shape, bands.power > 1e-9) {
            (Some(prev), true) => {
                let sum: f32 = prev
                    .iter()
                    .zip(bands.shape.iter())
                    .map(|(a, b)| (a - b).abs())
                    .sum();
                sum / Spectrum::BANDS as f32
            }
            _ => 0.0,
        };
        self.prev_shape = (bands.power > 1e-9).then_some(bands.shape);
        let gated = passes_gate(level_db, floor);
        if gated {
            self.flux_avg_db += FLUX_AVG_WEIGHT * (flux_db - self.flux_avg_db);
        } else {
            self.flux_avg_db *= 1.0 - FLUX_AVG_WEIGHT;
        }
        // The pitch search is most of the cost; quiet frames cannot be speech anyway.
        let periodicity = if gated {
            periodicity(&self.history)
        } else {
            0.0
        };
        FrameFeatures {
            flux_avg_db: self.flux_avg_db,
            level_db,
            floor_db: floor,
            periodicity,
            tonality: bands.peak_share,
            flux_db,
        }
    }

    fn smooth(&mut self, evidence: bool) {
        // Recent-evidence ring (3 s).
        if self.recent[self.recent_pos] {
            self.recent_count -= 1;
        }
        self.recent[self.recent_pos] = evidence;
        if evidence {
            self.recent_count += 1;
        }
        self.recent_pos = (self.recent_pos + 1) % RECENT_WINDOW;
        // Attack: evidence among the last ATTACK_WINDOW frames.
        let window_start =
            (self.recent_pos + RECENT_WINDOW - ATTACK_WINDOW as usize) % RECENT_WINDOW;
        self.attack = (0..ATTACK_WINDOW as usize)
            .filter(|i| self.recent[(window_start + i) % RECENT_WINDOW])
            .count() as u32;
        self.since_evidence = if evidence {
            0
        } else {
            self.since_evidence.saturating_add(1)
        };
        if !self.speech && self.attack >= ATTACK_FRAMES {
            self.speech = true;
        } else if self.speech && self.since_evidence > HANGOVER_FRAMES {
            self.speech = false;
        }
    }
}

/// The per-frame rule (see the module doc).
fn is_evidence(f: &FrameFeatures) -> bool {
    if !passes_gate(f.level_db, f.floor_db) {
        return false;
    }
    if f.tonality >= TONAL_SHARE {
        return false;
    }
    (f.periodicity >= VOICED_R && f.flux_db >= VOICED_FLUX_DB)
        || f.flux_db >= UNVOICED_FLUX_DB
        || f.flux_avg_db >= UNVOICED_FLUX_AVG_DB
}

/// The level gate: above the absolute minimum and above the noise floor.
fn passes_gate(level_db: f32, floor_db: f32) -> bool {
    level_db >= ABS_MIN_DB && level_db >= floor_db + ABOVE_FLOOR_DB
}

fn db(power: f32) -> f32 {
    10.0 * (power + 1e-12).log10()
}

/// Normalised autocorrelation peak of the current frame (second half of `h`) against the past,
/// over lags `MIN_LAG..=MAX_LAG`.
fn periodicity(h: &[f32; 2 * FRAME_SAMPLES]) -> f32 {
    let cur = &h[FRAME_SAMPLES..];
    let e_cur: f32 = cur.iter().map(|x| x * x).sum();
    if e_cur < 1e-9 {
        return 0.0;
    }
    // Energy of the lagged window h[160-L .. 320-L], updated as L grows.
    let mut e_lag: f32 = h[FRAME_SAMPLES - MIN_LAG..2 * FRAME_SAMPLES - MIN_LAG]
        .iter()
        .map(|x| x * x)
        .sum();
    let mut best = 0.0f32;
    for lag in MIN_LAG..=MAX_LAG {
        if lag > MIN_LAG {
            let add = h[FRAME_SAMPLES - lag];
            let drop = h[2 * FRAME_SAMPLES - lag];
            e_lag = (e_lag + add * add - drop * drop).max(0.0);
        }
        let past = &h[FRAME_SAMPLES - lag..2 * FRAME_SAMPLES - lag];
        let dot = dot(cur, past);
        let denom = (e_cur * e_lag).sqrt();
        if denom > 1e-12 {
            best = best.max(dot / denom);
        }
    }
    best.clamp(0.0, 1.0)
}

/// Dot product with eight partial sums (lets the compiler vectorise a float reduction).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a
        .chunks_exact(8)
        .remainder()
        .iter()
        .zip(b.chunks_exact(8).remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, amp: f32, start: usize) -> Vec<i16> {
        (start..start + FRAME_SAMPLES)
            .map(|n| (amp * (2.0 * std::f32::consts::PI * freq * n as f32 / 8000.0).sin()) as i16)
            .collect()
    }

    #[test]
    fn digital_silence_is_not_speech() {
        let mut vad = Vad::new();
        for _ in 0..100 {
            let f = vad.push_silence();
            assert!(!f.evidence && !f.speech);
        }
    }

    #[test]
    fn a_steady_tone_is_tonal_not_speech() {
        let mut vad = Vad::new();
        for i in 0..100 {
            let f = vad.push(&sine(1000.0, 8000.0, i * FRAME_SAMPLES));
            if i > 2 {
                assert!(f.features.tonality > TONAL_SHARE, "{f:?}");
                assert!(!f.evidence);
            }
        }
    }

    #[test]
    fn short_and_empty_frames_do_not_panic() {
        let mut vad = Vad::new();
        vad.push(&[]);
        vad.push(&[i16::MAX; 7]);
        vad.push(&[i16::MIN; 400]);
    }
}
