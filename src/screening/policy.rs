//! The decision policy on the speech model's output: one probability per 32 ms chunk in,
//! "speech decided", speech stretches and "faint speech" out. Pure: time is the audio clock
//! (ms of audio at the end of each chunk).
//!
//! - A **run** starts at a chunk with p ≥ [`ON`] and goes on while p ≥ [`OFF`] (Silero's own
//!   hysteresis). Speech is **decided** when one run lasts `min_run_ms` (default 200 ms, the
//!   rule measured for Silero in issue 8), never on a blip.
//! - **Faint speech**: [`FAINT_CHUNKS`] chunks in a row at p ≥ [`FAINT`] that are also
//!   [`FAINT_ABOVE_FLOOR_DB`] over the call's own noise floor (the floor follows the quietest
//!   chunks and rises 1.5 dB/s: level relative to the call, no absolute level). It never
//!   makes a call *speaking*, but a call with it is never ended as ghost: it is queued at the
//!   lowest class instead (session.rs). Chosen on the three development sets (BENCHMARKS.md,
//!   "Speech model"): the lowest thresholds at which no genuine clip is lost; steady
//!   backgrounds (music, wind, water) that the model rates a little above 0 stay at their
//!   own floor and so still end as ghost.
use super::model::CHUNK_MS;

/// Probability that starts a run.
pub const ON: f32 = 0.5;
/// Probability below which a run ends.
pub const OFF: f32 = 0.35;
/// The low threshold of "faint speech".
pub const FAINT: f32 = 0.05;
/// Consecutive chunks at [`FAINT`] or more, over the floor, that are faint speech (128 ms).
pub const FAINT_CHUNKS: u32 = 4;
/// How far over the call's floor a chunk of faint speech must be.
pub const FAINT_ABOVE_FLOOR_DB: f32 = 9.0;
/// Rise of the floor per chunk while the level stays over it (1.5 dB/s).
const FLOOR_RISE_DB: f32 = 0.048;

/// A finished run of speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    /// Start of its first chunk, ms.
    pub start_ms: u64,
    /// End of its last chunk, ms.
    pub end_ms: u64,
}

/// What one chunk changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    /// A run ended with this chunk.
    pub ended: Option<Stretch>,
    /// The chunk is part of a run.
    pub in_run: bool,
}

/// The policy's state for one call.
#[derive(Debug, Clone)]
pub struct SpeechPolicy {
    min_run_ms: u64,
    run_start_ms: Option<u64>,
    last_end_ms: u64,
    decided_at_ms: Option<u64>,
    faint_run: u32,
    faint: bool,
    floor_db: Option<f32>,
    max_p: f32,
}

impl SpeechPolicy {
    /// `min_run_ms`: how long one run must last to decide speech.
    pub fn new(min_run_ms: u64) -> SpeechPolicy {
        SpeechPolicy {
            min_run_ms: min_run_ms.max(CHUNK_MS),
            run_start_ms: None,
            last_end_ms: 0,
            decided_at_ms: None,
            faint_run: 0,
            faint: false,
            floor_db: None,
            max_p: 0.0,
        }
    }

    /// The chunk ending at `end_ms` had probability `p` and level `level_db` (dBFS).
    pub fn push(&mut self, end_ms: u64, p: f32, level_db: f32) -> Step {
        let start_ms = end_ms.saturating_sub(CHUNK_MS);
        self.last_end_ms = end_ms;
        self.max_p = self.max_p.max(p);
        let floor = match self.floor_db {
            Some(f) if level_db >= f => f + FLOOR_RISE_DB,
            _ => level_db,
        };
        self.floor_db = Some(floor);
        if p >= FAINT && level_db >= floor + FAINT_ABOVE_FLOOR_DB {
            self.faint_run += 1;
            self.faint |= self.faint_run >= FAINT_CHUNKS;
        } else {
            self.faint_run = 0;
        }
        let mut step = Step::default();
        match self.run_start_ms {
            None if p >= ON => self.run_start_ms = Some(start_ms),
            Some(s) if p < OFF => {
                self.run_start_ms = None;
                step.ended = Some(Stretch {
                    start_ms: s,
                    end_ms: start_ms,
                });
            }
            _ => {}
        }
        if let Some(s) = self.run_start_ms {
            step.in_run = true;
            if self.decided_at_ms.is_none() && end_ms - s >= self.min_run_ms {
                self.decided_at_ms = Some(end_ms);
            }
        }
        step
    }

    /// A gap (missing audio) breaks any run; the time goes on at `end_ms`.
    pub fn gap(&mut self, end_ms: u64) -> Option<Stretch> {
        self.faint_run = 0;
        self.last_end_ms = end_ms;
        self.run_start_ms.take().map(|s| Stretch {
            start_ms: s,
            end_ms,
        })
    }

    /// When speech was decided, ms of audio.
    pub fn decided_at_ms(&self) -> Option<u64> {
        self.decided_at_ms
    }

    /// The run still open, if any, closed at the last chunk.
    pub fn open(&self) -> Option<Stretch> {
        self.run_start_ms.map(|s| Stretch {
            start_ms: s,
            end_ms: self.last_end_ms,
        })
    }

    /// Faint speech was heard (or speech decided).
    pub fn heard_faint(&self) -> bool {
        self.faint || self.decided_at_ms.is_some()
    }

    /// The highest probability so far.
    pub fn max_probability(&self) -> f32 {
        self.max_p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(p: &SpeechPolicy, probs: &[f32]) -> SpeechPolicy {
        let mut p = p.clone();
        for (k, &x) in probs.iter().enumerate() {
            // Quiet first chunks set the floor; the rest is 20 dB over it.
            let level = if k < 2 { -60.0 } else { -40.0 };
            p.push((k as u64 + 1) * CHUNK_MS, x, level);
        }
        p
    }

    #[test]
    fn a_blip_is_not_speech_a_run_of_200_ms_is() {
        let p = SpeechPolicy::new(200);
        let blips = feed(&p, &[0.0, 0.9, 0.1, 0.9, 0.0, 0.95, 0.0, 0.9, 0.0, 0.9]);
        assert_eq!(blips.decided_at_ms(), None);
        // Seven chunks (224 ms) over 0.5, with a dip to 0.4 that does not end the run.
        let run = feed(&p, &[0.0, 0.6, 0.9, 0.4, 0.9, 0.9, 0.8, 0.7, 0.1]);
        assert_eq!(run.decided_at_ms(), Some(8 * CHUNK_MS));
        let short = feed(&p, &[0.6, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1]);
        assert_eq!(short.decided_at_ms(), None);
        assert!(short.heard_faint());
    }

    #[test]
    fn faint_needs_four_chunks_at_the_low_threshold_over_the_floor() {
        let p = SpeechPolicy::new(200);
        assert!(!feed(&p, &[0.0, 0.0, 0.25, 0.25, 0.01, 0.3, 0.3, 0.3, 0.0]).heard_faint());
        assert!(feed(&p, &[0.0, 0.0, 0.06, 0.3, 0.15, 0.1]).heard_faint());
        // The same probabilities at the call's own floor (a steady background) are not.
        let mut steady = SpeechPolicy::new(200);
        for k in 0..20u64 {
            steady.push((k + 1) * CHUNK_MS, 0.3, -30.0);
        }
        assert!(!steady.heard_faint());
    }

    #[test]
    fn runs_become_stretches_and_gaps_end_them() {
        let mut p = SpeechPolicy::new(200);
        assert!(p.push(32, 0.9, -20.0).in_run);
        let s = p.push(64, 0.1, -20.0).ended.expect("ended");
        assert_eq!((s.start_ms, s.end_ms), (0, 32));
        p.push(96, 0.9, -20.0);
        assert_eq!(p.open().map(|s| s.start_ms), Some(64));
        assert_eq!(p.gap(500).map(|s| s.end_ms), Some(500));
        assert_eq!(p.open(), None);
    }
}
