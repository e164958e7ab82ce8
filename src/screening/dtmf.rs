//! DTMF: RFC 4733 telephone-events and in-band tones (Goertzel, ITU-T Q.23/Q.24 style checks).
//!
//! RFC 4733 §2.3: the payload is `event (8) | E (1) | R (1) | volume (6) | duration (16)`.
//! All packets of one event carry the event's start timestamp; the first has the marker bit
//! (§2.5.1.3), the end packet (E bit) is sent three times (§2.5.1.4). An event is keyed by its
//! timestamp, so lost, reordered or repeated packets report each key once: at its first
//! packet seen (marker or not), never again for that timestamp.
use super::detector::FRAME_SAMPLES;

/// A key, `0`-`9`, `*`, `#`, `A`-`D`.
pub type Digit = char;

/// RFC 4733 §3.2 event codes 0–15.
fn event_digit(event: u8) -> Option<Digit> {
    const DIGITS: &[u8; 16] = b"0123456789*#ABCD";
    DIGITS.get(usize::from(event)).map(|&b| char::from(b))
}

/// One telephone-event payload, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0–15 are DTMF).
    pub event: u8,
    /// The E bit.
    pub end: bool,
    /// Volume in −dBm0.
    pub volume: u8,
    /// Duration in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses a 4-byte payload (extra bytes, redundant blocks, are ignored).
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let b = payload.get(..4)?;
        Some(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }
}

/// Tracks RFC 4733 events by RTP timestamp.
#[derive(Debug, Clone, Default)]
pub struct Rfc4733 {
    /// Timestamps of recent events already reported (a short ring; enough for reordering).
    seen: [Option<u32>; 8],
    next: usize,
}

impl Rfc4733 {
    /// A tracker with nothing seen.
    pub fn new() -> Rfc4733 {
        Rfc4733::default()
    }

    /// One telephone-event packet: its RTP timestamp and payload. Returns the digit when
    /// this packet is the first seen of a new event (a repeated or late packet of an event
    /// already reported returns `None`).
    pub fn on_packet(&mut self, timestamp: u32, payload: &[u8]) -> Option<Digit> {
        let ev = TelephoneEvent::parse(payload)?;
        let digit = event_digit(ev.event)?;
        if self.seen.contains(&Some(timestamp)) {
            return None;
        }
        self.seen[self.next] = Some(timestamp);
        self.next = (self.next + 1) % self.seen.len();
        Some(digit)
    }
}

/// Row (low group) and column (high group) frequencies, ITU-T Q.23.
const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[Digit; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// Minimum power of each tone (about −30 dBm0 per Q.24's sensitivity; full-scale sine = 0.5).
const MIN_TONE_POWER: f32 = 2e-4;
/// Twist limits, Q.24: normal (high weaker) 8 dB, reverse (high stronger) 4 dB.
const MAX_NORMAL_TWIST: f32 = 6.3; // 8 dB
const MAX_REVERSE_TWIST: f32 = 2.5; // 4 dB
/// Each tone must beat the other tones of its group by this factor (≈ 8 dB).
const GROUP_MARGIN: f32 = 6.3;
/// The two tones must hold this share of the frame's power (no speech or noise around).
const MIN_TONE_SHARE: f32 = 0.6;
/// Consecutive frames (20 ms each) a key must hold to count (Q.24: ≥ 40 ms).
const HOLD_FRAMES: u8 = 2;

/// In-band DTMF detector over 20 ms frames of linear samples.
#[derive(Debug, Clone, Default)]
pub struct InbandDtmf {
    candidate: Option<Digit>,
    held: u8,
    reported: bool,
}

impl InbandDtmf {
    /// A detector with no key down.
    pub fn new() -> InbandDtmf {
        InbandDtmf::default()
    }

    /// One frame; returns a digit once, when it has been held for 40 ms.
    pub fn push(&mut self, samples: &[i16]) -> Option<Digit> {
        let key = detect_frame(samples);
        if key.is_some() && key == self.candidate {
            self.held = self.held.saturating_add(1);
        } else {
            self.candidate = key;
            self.held = u8::from(key.is_some());
            self.reported = false;
        }
        if self.held >= HOLD_FRAMES && !self.reported {
            self.reported = true;
            return self.candidate;
        }
        None
    }
}

/// The key whose two tones dominate this frame, if any.
fn detect_frame(samples: &[i16]) -> Option<Digit> {
    let n = samples.len().min(FRAME_SAMPLES);
    if n < FRAME_SAMPLES / 2 {
        return None;
    }
    // The eight Goertzel recurrences side by side (independent lanes, vectorised).
    let coef = coefficients();
    let (mut s1, mut s2) = ([0.0f32; 8], [0.0f32; 8]);
    let mut energy = 0.0f32;
    for &v in &samples[..n] {
        let v = f32::from(v) / 32768.0;
        energy += v * v;
        for ((a, b), &c) in s1.iter_mut().zip(s2.iter_mut()).zip(coef) {
            let s = v + c * *a - *b;
            *b = *a;
            *a = s;
        }
    }
    // Goertzel power → mean power of a sine at that frequency: 2·|X|²/N².
    let scale = 2.0 / (n * n) as f32;
    let power =
        |i: usize| (s1[i] * s1[i] + s2[i] * s2[i] - coef[i] * s1[i] * s2[i]).max(0.0) * scale;
    let rows = [power(0), power(1), power(2), power(3)];
    let cols = [power(4), power(5), power(6), power(7)];
    let (r, rp) = strongest(&rows)?;
    let (c, cp) = strongest(&cols)?;
    if rp < MIN_TONE_POWER || cp < MIN_TONE_POWER {
        return None;
    }
    if rp > cp * MAX_NORMAL_TWIST || cp > rp * MAX_REVERSE_TWIST {
        return None;
    }
    let dominates = |p: &[f32; 4], i: usize| {
        p.iter()
            .enumerate()
            .all(|(j, &q)| j == i || q * GROUP_MARGIN < p[i])
    };
    if !dominates(&rows, r) || !dominates(&cols, c) {
        return None;
    }
    let mean_power = energy / n as f32;
    if rp + cp < MIN_TONE_SHARE * mean_power {
        return None;
    }
    Some(KEYS[r][c])
}

/// 2·cos(2πf/8000) for the four row then the four column frequencies.
fn coefficients() -> &'static [f32; 8] {
    static COEF: std::sync::OnceLock<[f32; 8]> = std::sync::OnceLock::new();
    COEF.get_or_init(|| {
        let f = [ROWS, COLS].concat();
        std::array::from_fn(|i| 2.0 * (2.0 * std::f32::consts::PI * f[i] / 8000.0).cos())
    })
}

fn strongest(p: &[f32; 4]) -> Option<(usize, f32)> {
    p.iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tones(f1: f32, f2: f32, amp: f32, frames: usize) -> Vec<i16> {
        (0..frames * FRAME_SAMPLES)
            .map(|n| {
                let t = n as f32 / 8000.0;
                let v = amp
                    * ((2.0 * std::f32::consts::PI * f1 * t).sin()
                        + (2.0 * std::f32::consts::PI * f2 * t).sin());
                v as i16
            })
            .collect()
    }

    #[test]
    fn inband_five_is_reported_once() {
        let mut det = InbandDtmf::new();
        let audio = tones(770.0, 1336.0, 6000.0, 6);
        let got: Vec<Digit> = audio
            .chunks(FRAME_SAMPLES)
            .filter_map(|f| det.push(f))
            .collect();
        assert_eq!(got, vec!['5']);
    }

    #[test]
    fn a_single_tone_or_silence_is_no_key() {
        let mut det = InbandDtmf::new();
        for f in tones(770.0, 770.0, 6000.0, 10).chunks(FRAME_SAMPLES) {
            assert_eq!(det.push(f), None);
        }
        for _ in 0..5 {
            assert_eq!(det.push(&[0; FRAME_SAMPLES]), None);
        }
        assert_eq!(det.push(&[]), None);
    }

    #[test]
    fn rfc4733_event_reported_once_despite_repeats_and_reordering() {
        let mut t = Rfc4733::new();
        let pkt = |dur: u16, end: bool| {
            let d = dur.to_be_bytes();
            [5u8, if end { 0x80 | 10 } else { 10 }, d[0], d[1]]
        };
        // First packet lost; a later one starts the event.
        assert_eq!(t.on_packet(164_000, &pkt(320, false)), Some('5'));
        assert_eq!(t.on_packet(164_000, &pkt(160, false)), None);
        for _ in 0..3 {
            assert_eq!(t.on_packet(164_000, &pkt(800, true)), None);
        }
        assert_eq!(t.on_packet(166_400, &pkt(160, false)), Some('5'));
        assert_eq!(t.on_packet(1, &[5, 0]), None);
        assert_eq!(t.on_packet(2, &[200, 0, 0, 0]), None);
    }
}
