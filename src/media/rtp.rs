//! RTP (RFC 3550 §5.1) header reading through `rtp-rs`, RTCP recognition (§6.4, §12.1) and
//! per-source receive statistics (§6.4.1, Appendix A.1, A.3, A.8).
use std::time::Instant;

use rtp_rs::{RtpReader, RtpReaderError};

/// The RTP clock of G.711 (RFC 3551 §4.5.14).
pub const G711_CLOCK_RATE: u32 = 8000;
/// RFC 3550 Appendix A.1: a jump of more than this many sequence numbers is not a loss.
const MAX_DROPOUT: u16 = 3000;
/// RFC 3550 Appendix A.1: packets this far behind are late or duplicates.
const MAX_MISORDER: u16 = 100;
/// Sequence number modulus (2^16).
const RTP_SEQ_MOD: u32 = 1 << 16;

/// Why a datagram is not a usable RTP or RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Fewer bytes than the fixed header.
    #[error("packet of {0} bytes is shorter than the header")]
    TooShort(usize),
    /// Version field other than 2 (RFC 3550 §5.1).
    #[error("RTP version {0} is not 2")]
    Version(u8),
    /// CSRC list or header extension runs past the end.
    #[error("RTP header runs past the end of the packet")]
    Truncated,
    /// Padding count 0 or larger than the payload (RFC 3550 §5.1 "P").
    #[error("RTP padding length {0} is invalid")]
    Padding(u8),
    /// RTCP length field disagrees with the datagram (RFC 3550 §6.4.1 "length").
    #[error("RTCP length field does not fit the packet")]
    RtcpLength,
}

impl From<RtpReaderError> for RtpError {
    fn from(err: RtpReaderError) -> Self {
        match err {
            RtpReaderError::BufferTooShort(n) => RtpError::TooShort(n),
            RtpReaderError::UnsupportedVersion(v) => RtpError::Version(v),
            RtpReaderError::HeadersTruncated { .. } => RtpError::Truncated,
            RtpReaderError::PaddingLengthInvalid(p) => RtpError::Padding(p),
        }
    }
}

/// The fixed RTP header fields an analyser needs (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeaderInfo {
    /// Marker bit.
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Offset of the payload in the packet.
    pub payload_offset: usize,
    /// Payload length without padding.
    pub payload_len: usize,
}

impl RtpHeaderInfo {
    /// Reads and validates an RTP packet; never panics.
    pub fn parse(packet: &[u8]) -> Result<RtpHeaderInfo, RtpError> {
        let reader = RtpReader::new(packet)?;
        Ok(RtpHeaderInfo {
            marker: reader.mark(),
            payload_type: reader.payload_type(),
            sequence: reader.sequence_number().into(),
            timestamp: reader.timestamp(),
            ssrc: reader.ssrc(),
            payload_offset: reader.payload_offset(),
            payload_len: reader.payload().len(),
        })
    }

    /// The payload bytes of `packet` (the packet this header was parsed from).
    pub fn payload<'a>(&self, packet: &'a [u8]) -> &'a [u8] {
        let end = self.payload_offset.saturating_add(self.payload_len);
        packet.get(self.payload_offset..end).unwrap_or_default()
    }
}

/// True when the datagram looks like RTCP: version 2 and packet type SR, RR, SDES, BYE or
/// APP (200–204, RFC 3550 §12.1). This also separates multiplexed RTCP (RFC 5761 §4).
pub fn is_rtcp(packet: &[u8]) -> bool {
    matches!(packet, [first, pt, ..] if first >> 6 == 2 && (200..=204).contains(pt))
}

/// Checks a (compound) RTCP datagram: every packet version 2 and its length field inside the
/// datagram (RFC 3550 §6.1 validity checks, relaxed: the relay forwards it as is). Returns the
/// sender SSRC of the first packet.
pub fn check_rtcp(packet: &[u8]) -> Result<u32, RtpError> {
    if packet.len() < 8 {
        return Err(RtpError::TooShort(packet.len()));
    }
    let mut rest = packet;
    while !rest.is_empty() {
        let [first, _, hi, lo, ..] = *rest else {
            return Err(RtpError::RtcpLength);
        };
        if first >> 6 != 2 {
            return Err(RtpError::Version(first >> 6));
        }
        let words = usize::from(u16::from_be_bytes([hi, lo]));
        let len = (words + 1) * 4;
        rest = rest.get(len..).ok_or(RtpError::RtcpLength)?;
    }
    Ok(u32::from_be_bytes([
        packet[4], packet[5], packet[6], packet[7],
    ]))
}

/// Receive statistics of one stream (RFC 3550 §6.4.1 and Appendix A.1/A.3/A.8). A new SSRC
/// restarts the sequence and jitter state; counts and loss are kept across sources.
#[derive(Debug, Clone, Default)]
pub struct ReceiveStats {
    /// Packets received (all sources).
    pub packets: u64,
    /// Payload bytes received (all sources).
    pub bytes: u64,
    /// Number of SSRC changes after the first source.
    pub ssrc_changes: u32,
    /// Arrival time of the last packet.
    pub last_arrival: Option<Instant>,
    source: Option<Source>,
    /// Expected and received of earlier sources, for cumulative loss.
    prior_expected: u64,
    prior_received: u64,
}

/// A.1 `source` state for the current SSRC.
#[derive(Debug, Clone)]
struct Source {
    ssrc: u32,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    bad_seq: u32,
    received: u64,
    /// Relative transit time of the previous packet, in timestamp units (A.8).
    transit: Option<f64>,
    /// Interarrival jitter estimate, in timestamp units (§6.4.1 "J").
    jitter: f64,
    /// Reference for arrival times in timestamp units.
    epoch: Instant,
}

impl Source {
    fn new(ssrc: u32, seq: u16, now: Instant) -> Source {
        Source {
            ssrc,
            base_seq: u32::from(seq),
            max_seq: seq,
            cycles: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            received: 0,
            transit: None,
            jitter: 0.0,
            epoch: now,
        }
    }

    fn extended_max(&self) -> u64 {
        u64::from(self.cycles) + u64::from(self.max_seq)
    }

    fn expected(&self) -> u64 {
        (self.extended_max() + 1).saturating_sub(u64::from(self.base_seq))
    }

    /// A.1 `update_seq` without probation; false for a packet that does not count.
    fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = seq.wrapping_sub(self.max_seq);
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
        } else if udelta <= u16::MAX - MAX_MISORDER {
            // A very large jump: restart only when the next packet confirms it.
            if u32::from(seq) == self.bad_seq {
                let ssrc = self.ssrc;
                *self = Source {
                    epoch: self.epoch,
                    ..Source::new(ssrc, seq, self.epoch)
                };
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                return false;
            }
        }
        // else: duplicate or reordered packet; counted, max unchanged.
        self.received += 1;
        true
    }

    /// A.8 jitter: J += (|D(i-1,i)| − J) / 16, all in timestamp units.
    fn update_jitter(&mut self, now: Instant, timestamp: u32, clock_rate: u32) {
        let arrival =
            now.saturating_duration_since(self.epoch).as_secs_f64() * f64::from(clock_rate);
        let transit = arrival - f64::from(timestamp);
        if let Some(previous) = self.transit {
            // Timestamps wrap at 2^32; fold the difference into ±2^31.
            let mut d = (transit - previous).abs() % 4_294_967_296.0;
            if d > 2_147_483_648.0 {
                d = 4_294_967_296.0 - d;
            }
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
    }
}

impl ReceiveStats {
    /// Accounts one valid RTP packet that arrived at `now`.
    pub fn on_packet(&mut self, now: Instant, header: &RtpHeaderInfo, clock_rate: u32) {
        self.packets += 1;
        self.bytes += header.payload_len as u64;
        self.last_arrival = Some(now);
        let source = match &mut self.source {
            Some(s) if s.ssrc == header.ssrc => s,
            slot => {
                if let Some(old) = slot.take() {
                    self.prior_expected += old.expected();
                    self.prior_received += old.received;
                    self.ssrc_changes += 1;
                }
                let new = Source::new(header.ssrc, header.sequence, now);
                slot.insert(new)
            }
        };
        if source.update_seq(header.sequence) {
            source.update_jitter(now, header.timestamp, clock_rate);
        }
    }

    /// The current SSRC.
    pub fn ssrc(&self) -> Option<u32> {
        self.source.as_ref().map(|s| s.ssrc)
    }

    /// Packets expected from the sequence numbers (§6.4.1 "extended highest" − base + 1).
    pub fn expected(&self) -> u64 {
        self.prior_expected + self.source.as_ref().map_or(0, Source::expected)
    }

    /// Cumulative packets lost (§6.4.1): expected − received; negative with duplicates.
    pub fn lost(&self) -> i64 {
        let received = self.prior_received + self.source.as_ref().map_or(0, |s| s.received);
        self.expected() as i64 - received as i64
    }

    /// Interarrival jitter of the current source in timestamp units.
    pub fn jitter(&self) -> f64 {
        self.source.as_ref().map_or(0.0, |s| s.jitter)
    }

    /// Interarrival jitter in milliseconds for a `clock_rate` Hz RTP clock.
    pub fn jitter_ms(&self, clock_rate: u32) -> f64 {
        self.jitter() * 1000.0 / f64::from(clock_rate.max(1))
    }
}

#[cfg(test)]
#[path = "rtp_tests.rs"]
pub(crate) mod tests;
