//! Prompt playback: a G.711 µ-law buffer (raw `.ul`, 8 kHz) sent as 20 ms RTP packets
//! (RFC 3551 §4.5.14: 160 samples a packet, timestamp step 160), transcoded to A-law when the
//! leg negotiated PCMA. Pure: pacing is computed from the `now` the caller passes.
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::g711::ulaw_to_alaw;
use super::sdp::Codec;

/// Packet interval (RFC 3551 §4.5: default ptime 20 ms).
pub const FRAME: Duration = Duration::from_millis(20);
/// Samples (and G.711 bytes) per 20 ms packet at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// µ-law silence used to fill the last partial frame.
const ULAW_SILENCE: u8 = 0xFF;
/// When the driver wakes up later than this, missed frames are skipped, not burst out.
const MAX_LATE: Duration = Duration::from_millis(60);

/// The RTP identity a playback continues from (RFC 3550 §5.1: random initial values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpIdentity {
    /// SSRC of the prompt stream.
    pub ssrc: u32,
    /// First sequence number.
    pub sequence: u16,
    /// First timestamp.
    pub timestamp: u32,
}

/// One prompt being played to one leg.
#[derive(Debug)]
pub struct Playback {
    audio: Arc<Vec<u8>>,
    looped: bool,
    codec: Codec,
    payload_type: u8,
    id: RtpIdentity,
    position: usize,
    next_due: Instant,
    sent: u64,
    finished: bool,
}

impl Playback {
    /// Starts playing `audio` (µ-law) at `now`; the first packet is due at once.
    pub fn new(
        audio: Arc<Vec<u8>>,
        looped: bool,
        (codec, payload_type): (Codec, u8),
        id: RtpIdentity,
        now: Instant,
    ) -> Playback {
        let finished = audio.is_empty();
        Playback {
            audio,
            looped,
            codec,
            payload_type,
            id,
            position: 0,
            next_due: now,
            sent: 0,
            finished,
        }
    }

    /// When the next packet is due; `None` once the prompt has ended.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.finished).then_some(self.next_due)
    }

    /// True once a non-looped prompt has been sent completely.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Packets produced so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Where the next packet continues (sequence and timestamp), e.g. for the next prompt.
    pub fn identity(&self) -> RtpIdentity {
        self.id
    }

    /// The packet due at `now`, if any. Call until it returns `None`.
    pub fn next_packet(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.finished || now < self.next_due {
            return None;
        }
        let late = now.duration_since(self.next_due);
        if late > MAX_LATE {
            self.skip((late.as_millis() / FRAME.as_millis()) as u64);
            if self.finished {
                return None;
            }
        }
        let packet = self.build();
        self.advance();
        self.sent += 1;
        Some(packet)
    }

    fn build(&self) -> Vec<u8> {
        let mut packet = Vec::with_capacity(12 + FRAME_SAMPLES);
        let marker = if self.sent == 0 { 0x80 } else { 0 };
        packet.extend_from_slice(&[0x80, marker | (self.payload_type & 0x7F)]);
        packet.extend_from_slice(&self.id.sequence.to_be_bytes());
        packet.extend_from_slice(&self.id.timestamp.to_be_bytes());
        packet.extend_from_slice(&self.id.ssrc.to_be_bytes());
        let end = (self.position + FRAME_SAMPLES).min(self.audio.len());
        let frame = self.audio.get(self.position..end).unwrap_or_default();
        let pad = FRAME_SAMPLES - frame.len();
        let samples = frame
            .iter()
            .copied()
            .chain(std::iter::repeat_n(ULAW_SILENCE, pad));
        match self.codec {
            Codec::Pcmu => packet.extend(samples),
            Codec::Pcma => packet.extend(samples.map(ulaw_to_alaw)),
        }
        packet
    }

    /// One frame on: sequence +1, timestamp +160, next due +20 ms.
    fn advance(&mut self) {
        self.id.sequence = self.id.sequence.wrapping_add(1);
        self.step_frame();
    }

    /// Drops `frames` frames without sending them: the timestamp keeps real time (the
    /// receiver sees a gap, RFC 3550 §5.1), the sequence number does not jump.
    fn skip(&mut self, frames: u64) {
        for _ in 0..frames {
            self.step_frame();
            if self.finished {
                return;
            }
        }
    }

    fn step_frame(&mut self) {
        self.id.timestamp = self.id.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        self.next_due += FRAME;
        self.position += FRAME_SAMPLES;
        if self.position >= self.audio.len() {
            if self.looped {
                self.position = 0;
            } else {
                self.finished = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp::RtpHeaderInfo;

    const ID: RtpIdentity = RtpIdentity {
        ssrc: 0x1234_5678,
        sequence: 65_534,
        timestamp: 4_294_967_000,
    };

    fn audio(frames: usize) -> Arc<Vec<u8>> {
        Arc::new(
            (0..frames * FRAME_SAMPLES)
                .map(|i| (i / FRAME_SAMPLES) as u8)
                .collect(),
        )
    }

    #[test]
    fn paces_every_20_ms_with_rising_seq_and_timestamp() {
        let t0 = Instant::now();
        let mut p = Playback::new(audio(3), false, (Codec::Pcmu, 0), ID, t0);
        let first = p.next_packet(t0).unwrap();
        assert_eq!(p.next_packet(t0 + Duration::from_millis(19)), None);
        let second = p.next_packet(t0 + FRAME).unwrap();
        assert_eq!(p.poll_timeout(), Some(t0 + 2 * FRAME));
        let third = p
            .next_packet(t0 + 2 * FRAME + Duration::from_millis(1))
            .unwrap();
        assert_eq!(p.next_packet(t0 + 10 * FRAME), None);
        assert!(p.is_finished());
        let h: Vec<RtpHeaderInfo> = [&first, &second, &third]
            .iter()
            .map(|b| RtpHeaderInfo::parse(b).unwrap())
            .collect();
        assert!(h[0].marker && !h[1].marker);
        assert_eq!(
            [h[0].sequence, h[1].sequence, h[2].sequence],
            [65_534, 65_535, 0]
        );
        assert_eq!(h[1].timestamp, ID.timestamp.wrapping_add(160));
        assert_eq!(h[2].timestamp, ID.timestamp.wrapping_add(320));
        assert_eq!(h[2].ssrc, ID.ssrc);
        assert_eq!(third[12..], [2u8; 160]);
    }

    #[test]
    fn loops_and_pads_the_last_frame() {
        let t0 = Instant::now();
        let mut p = Playback::new(Arc::new(vec![7; 200]), true, (Codec::Pcmu, 0), ID, t0);
        let a = p.next_packet(t0).unwrap();
        let b = p.next_packet(t0 + FRAME).unwrap();
        let c = p.next_packet(t0 + 2 * FRAME).unwrap();
        assert_eq!(a[12..], [7; 160]);
        assert_eq!(b[12..52], [7; 40]);
        assert_eq!(b[52..], [ULAW_SILENCE; 120]);
        assert_eq!(c[12..], [7; 160]);
        assert!(!p.is_finished());
    }

    #[test]
    fn pcma_leg_gets_alaw_with_its_payload_type() {
        let t0 = Instant::now();
        let mut p = Playback::new(Arc::new(vec![0xFF; 160]), false, (Codec::Pcma, 8), ID, t0);
        let pkt = p.next_packet(t0).unwrap();
        assert_eq!(pkt[1] & 0x7F, 8);
        assert_eq!(pkt[12..], [0xD5; 160]);
    }

    #[test]
    fn a_late_wakeup_skips_frames_instead_of_bursting() {
        let t0 = Instant::now();
        let mut p = Playback::new(audio(100), false, (Codec::Pcmu, 0), ID, t0);
        p.next_packet(t0).unwrap();
        let late = p.next_packet(t0 + Duration::from_millis(200)).unwrap();
        assert_eq!(p.next_packet(t0 + Duration::from_millis(200)), None);
        let h = RtpHeaderInfo::parse(&late).unwrap();
        assert_eq!(h.sequence, ID.sequence.wrapping_add(1));
        assert_eq!(h.timestamp, ID.timestamp.wrapping_add(160 * 10));
        assert_eq!(p.sent(), 2);
    }

    #[test]
    fn empty_audio_plays_nothing() {
        let t0 = Instant::now();
        let mut p = Playback::new(Arc::new(Vec::new()), true, (Codec::Pcmu, 0), ID, t0);
        assert_eq!(p.next_packet(t0), None);
        assert_eq!(p.poll_timeout(), None);
    }
}
