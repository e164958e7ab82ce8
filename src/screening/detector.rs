//! Per-call analysis of the caller's RTP: G.711 decoding into 20 ms frames, the VAD, in-band
//! and RFC 4733 DTMF, comfort noise (RFC 3389, payload type 13), and missing RTP counted as
//! silence. Time is the audio clock (frames analysed since `start`), caught up to `now` with
//! silence when packets stop.
use std::time::{Duration, Instant};

use serde::Serialize;

use super::dtmf::{Digit, InbandDtmf, Rfc4733};
use super::vad::{Vad, FRAME_MS, FRAME_SAMPLES};
use crate::media::g711::{alaw_to_linear, ulaw_to_linear};
use crate::media::rtp::RtpHeaderInfo;

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
    /// A stretch of speech (smoothed VAD state).
    Speech {
        /// Start, ms.
        start_ms: u64,
        /// End, ms (the last frame with speech, hangover included).
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

/// Counters over the whole analysis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AudioStats {
    /// Milliseconds of audio (received or filled) analysed.
    pub audio_ms: u64,
    /// Milliseconds in the smoothed speech state.
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
}

/// The analysis of one call.
#[derive(Debug, Clone)]
pub struct CallDetector {
    start: Instant,
    min_speech_frames: usize,
    vad: Vad,
    inband: InbandDtmf,
    events: Rfc4733,
    /// Decoded samples waiting to fill a frame.
    pending: Vec<i16>,
    frames: u64,
    timeline: Vec<TimelineEvent>,
    open_speech: Option<u64>,
    decided_at_ms: Option<u64>,
    last_digit: Option<(Digit, DigitSource, u64)>,
    stats: AudioStats,
}

impl CallDetector {
    /// Starts the analysis at `start` (when the caller's audio begins to count).
    /// `min_speech` is the evidence within three seconds that decides speech.
    pub fn new(start: Instant, min_speech: Duration) -> CallDetector {
        let frames = (min_speech.as_millis() as u64 / FRAME_MS).max(1);
        CallDetector {
            start,
            min_speech_frames: usize::try_from(frames).unwrap_or(usize::MAX),
            vad: Vad::new(),
            inband: InbandDtmf::new(),
            events: Rfc4733::new(),
            pending: Vec::with_capacity(2 * FRAME_SAMPLES),
            frames: 0,
            timeline: Vec::new(),
            open_speech: None,
            decided_at_ms: None,
            last_digit: None,
            stats: AudioStats {
                peak_level_db: -120.0,
                ..AudioStats::default()
            },
        }
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

    /// Enough speech evidence was heard within three seconds.
    pub fn speech_decided(&self) -> bool {
        self.decided_at_ms.is_some()
    }

    /// When speech was decided (ms of audio).
    pub fn decided_at_ms(&self) -> Option<u64> {
        self.decided_at_ms
    }

    /// Any speech at all (a smoothed speech stretch, however short).
    pub fn heard_speech(&self) -> bool {
        self.open_speech.is_some()
            || self
                .timeline
                .iter()
                .any(|e| matches!(e, TimelineEvent::Speech { .. }))
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
        if let Some(start_ms) = self.open_speech {
            t.push(TimelineEvent::Speech {
                start_ms,
                end_ms: self.audio_ms(),
            });
        }
        t
    }

    /// The counters.
    pub fn stats(&self) -> AudioStats {
        self.stats
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
            self.frames += rest;
            self.stats.silence_ms += rest * FRAME_MS;
            self.stats.missing_ms += rest * FRAME_MS;
            self.stats.audio_ms += rest * FRAME_MS;
        }
    }

    fn push_frame(&mut self, frame: &[i16; FRAME_SAMPLES], missing: bool) {
        let at_ms = self.audio_ms();
        let v = self.vad.push(frame);
        if let Some(d) = self.inband.push(frame) {
            self.push_digit(d, DigitSource::Inband);
        }
        self.frames += 1;
        self.stats.audio_ms += FRAME_MS;
        if missing {
            self.stats.missing_ms += FRAME_MS;
        }
        self.stats.peak_level_db = self.stats.peak_level_db.max(v.features.level_db);
        if v.speech {
            self.stats.speech_ms += FRAME_MS;
            self.open_speech.get_or_insert(at_ms);
        } else {
            self.stats.silence_ms += FRAME_MS;
            if let Some(start_ms) = self.open_speech.take() {
                self.timeline.push(TimelineEvent::Speech {
                    start_ms,
                    end_ms: at_ms,
                });
            }
        }
        if self.decided_at_ms.is_none() && self.vad.recent_speech_frames() >= self.min_speech_frames
        {
            self.decided_at_ms = Some(self.audio_ms());
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
