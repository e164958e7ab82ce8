//! Per-call analysis of the caller's RTP: G.711 decoding into 20 ms frames, the speech model
//! ([`super::model`], 32 ms chunks) and its decision policy ([`super::policy`]), in-band and
//! RFC 4733 DTMF, comfort noise (RFC 3389, payload type 13), and missing RTP counted as
//! silence. Time is the audio clock (frames analysed since `start`), caught up to `now` with
//! silence when packets stop.
//!
//! No level gate: the model judges the shape of the sound, not its loudness, so a caller at
//! −45 dBFS is heard like one at −10 dBFS. Levels are only reported (peak, mean).
use std::time::{Duration, Instant};

use serde::Serialize;

use super::dtmf::{Digit, InbandDtmf, Rfc4733};
use super::model::{SpeechModel, WeightsError};
use super::policy::{SpeechPolicy, Stretch};
use crate::media::g711::{alaw_to_linear, ulaw_to_linear};
use crate::media::rtp::RtpHeaderInfo;

/// Samples in a 20 ms frame at 8 kHz (one G.711 packet of the usual size).
pub const FRAME_SAMPLES: usize = 160;
/// Milliseconds in a frame.
pub const FRAME_MS: u64 = 20;

/// Caller audio kept for review (audio.rs): the default listen + press-5 windows and a
/// second more, 104 KB of µ-law.
pub const CAPTURE_MS: u64 = 13_000;
const CAPTURE_BYTES: usize = (CAPTURE_MS as usize) * 8;

/// Samples per model chunk.
const CHUNK: u64 = super::model::CHUNK_SAMPLES as u64;

/// RFC 3551 payload types.
const PT_PCMU: u8 = 0;
const PT_PCMA: u8 = 8;
/// RFC 3389 comfort noise.
const PT_CN: u8 = 13;
/// Packets may lag the clock by this much before the gap is filled with silence.
const GAP_SLACK_MS: u64 = 60;
/// A key seen both as a telephone-event and as tones within this window is reported once.
const SAME_KEY_MS: u64 = 300;
/// A gap longer than this is counted as silence without running the VAD on every frame.
const MAX_GAP_FRAMES: u64 = 50;

/// How a key reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DigitSource {
    /// RFC 4733 telephone-event.
    Rfc4733,
    /// Tones in the audio.
    Inband,
}

/// One entry of the call's timeline (times in ms of audio since the start).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineEvent {
    /// A run of speech probability (policy.rs).
    Speech {
        /// Start, ms.
        start_ms: u64,
        /// End, ms.
        end_ms: u64,
    },
    /// A key.
    Digit {
        /// When it was recognised, ms.
        at_ms: u64,
        /// The key.
        digit: Digit,
        /// Telephone-event or in-band.
        source: DigitSource,
    },
}

/// Counters over the whole analysis (the detector's working figures; what a call record keeps
/// of them is [`crate::store::AudioStats`], made by [`CallDetector::record_audio`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DetectorCounters {
    /// Milliseconds of audio (received or filled) analysed.
    pub audio_ms: u64,
    /// Milliseconds in runs of speech probability.
    pub speech_ms: u64,
    /// Milliseconds not in speech (including missing RTP).
    pub silence_ms: u64,
    /// Milliseconds of missing RTP filled with silence.
    pub missing_ms: u64,
    /// Comfort-noise packets (RFC 3389).
    pub comfort_noise_packets: u64,
    /// Packets of a payload type we do not decode.
    pub other_packets: u64,
    /// Loudest frame, dBFS (−120 when none).
    pub peak_level_db: f32,
    /// Mean level of the received audio (power mean over frames, missing RTP left out),
    /// dBFS; −120 when none.
    pub mean_level_db: f32,
    /// The highest speech probability of any chunk, 0..1.
    pub max_speech_probability: f32,
}

/// The analysis of one call.
#[derive(Debug, Clone)]
pub struct CallDetector {
    start: Instant,
    /// `Err` when the model could not be built: the session queues the call unscreened.
    model: Result<SpeechModel, WeightsError>,
    policy: SpeechPolicy,
    /// Samples given to the model (its clock; chunk k ends at sample 256·(k+1)).
    model_samples: u64,
    inband: InbandDtmf,
    events: Rfc4733,
    /// Decoded samples waiting to fill a frame.
    pending: Vec<i16>,
    frames: u64,
    timeline: Vec<TimelineEvent>,
    last_digit: Option<(Digit, DigitSource, u64)>,
    /// The caller's audio since `start` as µ-law (missing RTP as silence), up to
    /// [`CAPTURE_MS`].
    capture: Vec<u8>,
    /// Sum of squares of the samples of the model chunk being filled (its level).
    chunk_energy: f64,
    /// Sum of frame powers and count of received frames, for the mean level.
    power_sum: f64,
    power_frames: u64,
    stats: DetectorCounters,
}

impl CallDetector {
    /// Starts the analysis at `start` (when the caller's audio begins to count).
    /// `min_speech` is how long one run of speech probability must last to decide speech.
    pub fn new(start: Instant, min_speech: Duration) -> CallDetector {
        CallDetector {
            start,
            model: SpeechModel::new(),
            policy: SpeechPolicy::new(min_speech.as_millis() as u64),
            model_samples: 0,
            chunk_energy: 0.0,
            capture: Vec::new(),
            inband: InbandDtmf::new(),
            events: Rfc4733::new(),
            pending: Vec::with_capacity(2 * FRAME_SAMPLES),
            frames: 0,
            timeline: Vec::new(),
            last_digit: None,
            power_sum: 0.0,
            power_frames: 0,
            stats: DetectorCounters {
                peak_level_db: -120.0,
                mean_level_db: -120.0,
                ..DetectorCounters::default()
            },
        }
    }

    /// The speech model could not be used (the session queues the call unscreened).
    pub fn model_fault(&self) -> Option<WeightsError> {
        self.model.as_ref().err().copied()
    }

    /// One RTP packet from the caller.
    pub fn on_rtp(&mut self, now: Instant, header: &RtpHeaderInfo, payload: &[u8]) {
        self.fill_gap(now, GAP_SLACK_MS);
        match header.payload_type {
            PT_PCMU => self.on_audio(payload.iter().map(|&b| ulaw_to_linear(b))),
            PT_PCMA => self.on_audio(payload.iter().map(|&b| alaw_to_linear(b))),
            PT_CN => {
                self.stats.comfort_noise_packets += 1;
                // Comfort noise stands for the packets it replaces: silence.
                self.fill_gap(now, 0);
            }
            96..=127 if payload.len() >= 4 => {
                if let Some(digit) = self.events.on_packet(header.timestamp, payload) {
                    self.push_digit(digit, DigitSource::Rfc4733);
                }
            }
            _ => self.stats.other_packets += 1,
        }
    }

    /// Called by the driver on its tick (e.g. every 20–100 ms): fills missing RTP with
    /// silence up to `now`.
    pub fn on_silence_tick(&mut self, now: Instant) {
        self.fill_gap(now, GAP_SLACK_MS);
    }

    /// Milliseconds of audio analysed so far.
    pub fn audio_ms(&self) -> u64 {
        self.frames * FRAME_MS
    }

    /// One run of speech probability lasted `min_speech`.
    pub fn speech_decided(&self) -> bool {
        self.policy.decided_at_ms().is_some()
    }

    /// When speech was decided (ms of audio).
    pub fn decided_at_ms(&self) -> Option<u64> {
        self.policy.decided_at_ms()
    }

    /// Anything the model would call speech at the low threshold (policy.rs, "faint"):
    /// such a call is never ended as ghost.
    pub fn heard_speech(&self) -> bool {
        self.policy.heard_faint()
    }

    /// The keys pressed so far, in order.
    pub fn digits(&self) -> impl Iterator<Item = Digit> + '_ {
        self.timeline.iter().filter_map(|e| match e {
            TimelineEvent::Digit { digit, .. } => Some(*digit),
            TimelineEvent::Speech { .. } => None,
        })
    }

    /// The timeline, with a speech stretch still open closed at the current time.
    pub fn timeline(&self) -> Vec<TimelineEvent> {
        let mut t = self.timeline.clone();
        if let Some(s) = self.policy.open() {
            t.push(speech_event(s));
        }
        t
    }

    /// The counters.
    pub fn stats(&self) -> DetectorCounters {
        let mut st = self.stats;
        if self.power_frames > 0 {
            st.mean_level_db = power_db(self.power_sum / self.power_frames as f64);
        }
        st.max_speech_probability = self.policy.max_probability();
        st
    }

    /// What screening heard: the caller's audio from the start as G.711 µ-law, 8 kHz, missing
    /// RTP as silence, at most [`CAPTURE_MS`] (audio.rs keeps it per call).
    pub fn screening_audio(&self) -> &[u8] {
        &self.capture
    }

    /// The audio statistics as kept in the call record (levels, speech time, keys).
    pub fn record_audio(&self) -> crate::store::AudioStats {
        let st = self.stats();
        let ms = |v: u64| v.min(u64::from(u32::MAX)) as u32;
        let heard = self.power_frames > 0;
        crate::store::AudioStats {
            speech_ms: ms(st.speech_ms),
            silence_ms: ms(st.silence_ms),
            mean_dbfs: heard.then_some(st.mean_level_db),
            peak_dbfs: heard.then_some(st.peak_level_db),
            dtmf: self.digits().collect(),
        }
    }

    fn on_audio(&mut self, samples: impl Iterator<Item = i16>) {
        self.pending.extend(samples);
        // A burst of packets is analysed frame by frame.
        let mut taken = 0;
        while self.pending.len() - taken >= FRAME_SAMPLES {
            let frame: [i16; FRAME_SAMPLES] = std::array::from_fn(|i| self.pending[taken + i]);
            taken += FRAME_SAMPLES;
            self.push_frame(&frame, false);
        }
        self.pending.drain(..taken);
    }

    fn fill_gap(&mut self, now: Instant, slack_ms: u64) {
        let elapsed = now.saturating_duration_since(self.start).as_millis() as u64;
        if elapsed < self.audio_ms() + slack_ms + FRAME_MS {
            return;
        }
        let missing = (elapsed - self.audio_ms()) / FRAME_MS;
        self.pending.clear();
        for _ in 0..missing.min(MAX_GAP_FRAMES) {
            self.push_frame(&[0; FRAME_SAMPLES], true);
        }
        if missing > MAX_GAP_FRAMES {
            let rest = missing - MAX_GAP_FRAMES;
            // A long gap is silence: the model starts afresh after it (as after a reset)
            // instead of running on every frame of it.
            if let Ok(m) = &mut self.model {
                *m = m.fresh();
            }
            self.chunk_energy = 0.0;
            let silence = (rest as usize * FRAME_SAMPLES)
                .min(CAPTURE_BYTES - self.capture.len().min(CAPTURE_BYTES));
            self.capture.resize(self.capture.len() + silence, 0xFF);
            // The next chunk starts on a chunk boundary again, as in the fresh model.
            self.model_samples += rest * FRAME_SAMPLES as u64;
            self.model_samples = self.model_samples.next_multiple_of(CHUNK);
            if let Some(s) = self.policy.gap(self.model_samples / 8) {
                self.timeline.push(speech_event(s));
            }
            self.frames += rest;
            self.stats.silence_ms += rest * FRAME_MS;
            self.stats.missing_ms += rest * FRAME_MS;
            self.stats.audio_ms += rest * FRAME_MS;
        }
    }

    fn push_frame(&mut self, frame: &[i16; FRAME_SAMPLES], missing: bool) {
        if self.capture.len() < CAPTURE_BYTES {
            self.capture
                .extend(frame.iter().map(|&s| crate::media::g711::linear_to_ulaw(s)));
        }
        if let Some(d) = self.inband.push(frame) {
            self.push_digit(d, DigitSource::Inband);
        }
        self.frames += 1;
        self.stats.audio_ms += FRAME_MS;
        if missing {
            self.stats.missing_ms += FRAME_MS;
        } else {
            let power = frame_power(frame);
            self.power_sum += power;
            self.power_frames += 1;
            self.stats.peak_level_db = self.stats.peak_level_db.max(power_db(power));
        }
        let mut prob = None;
        if let Ok(model) = &mut self.model {
            // 160 samples complete at most one 256-sample chunk.
            model.push(frame, |p| prob = Some(p));
        }
        // The level of the chunk that completed (if one did), split where it ends.
        let into = (self.model_samples % CHUNK) as usize;
        let split = (CHUNK as usize - into).min(FRAME_SAMPLES);
        let energy =
            |s: &[i16]| -> f64 { s.iter().map(|&v| (f64::from(v) / 32768.0).powi(2)).sum() };
        let mut chunk_level = None;
        if into + FRAME_SAMPLES >= CHUNK as usize {
            let e = self.chunk_energy + energy(&frame[..split]);
            chunk_level = Some(power_db(e / CHUNK as f64));
            self.chunk_energy = energy(&frame[split..]);
        } else {
            self.chunk_energy += energy(&frame[..]);
        }
        self.model_samples += FRAME_SAMPLES as u64;
        let mut speech = self.policy.open().is_some();
        if let (Some(p), Some(level)) = (prob, chunk_level) {
            let chunk_end = self.model_samples - self.model_samples % CHUNK;
            let step = self.policy.push(chunk_end / 8, p, level);
            if let Some(s) = step.ended {
                self.timeline.push(speech_event(s));
            }
            speech = step.in_run;
        }
        if speech {
            self.stats.speech_ms += FRAME_MS;
        } else {
            self.stats.silence_ms += FRAME_MS;
        }
    }

    fn push_digit(&mut self, digit: Digit, source: DigitSource) {
        let at_ms = self.audio_ms();
        // Phones that send RFC 4733 events may leave the tones in the audio as well.
        if let Some((d, s, t)) = self.last_digit {
            if d == digit && s != source && at_ms.saturating_sub(t) < SAME_KEY_MS {
                return;
            }
        }
        self.last_digit = Some((digit, source, at_ms));
        self.timeline.push(TimelineEvent::Digit {
            at_ms,
            digit,
            source,
        });
    }
}

fn speech_event(s: Stretch) -> TimelineEvent {
    TimelineEvent::Speech {
        start_ms: s.start_ms,
        end_ms: s.end_ms,
    }
}

/// Mean square of a frame, full scale = 1.
fn frame_power(frame: &[i16]) -> f64 {
    let sum: f64 = frame
        .iter()
        .map(|&s| (f64::from(s) / 32768.0).powi(2))
        .sum();
    sum / frame.len().max(1) as f64
}

fn power_db(power: f64) -> f32 {
    (10.0 * power.max(1e-12).log10()) as f32
}
