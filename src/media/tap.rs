//! The analysis hook on the caller's audio: screening (VAD, DTMF) implements
//! [`CallerAudioTap`]; the relay calls it for every valid RTP packet from the caller leg.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::rtp::RtpHeaderInfo;

/// Receives every valid RTP packet from the caller (leg A), after latching, bridged or not.
///
/// It runs inside the call's relay task, under the call's relay lock: it must be quick and
/// must not block (hand heavy work to another task through a channel).
pub trait CallerAudioTap: Send + Sync {
    /// One packet: its header (payload type tells audio from RFC 4733 events) and payload.
    fn on_caller_rtp(&self, call_id: &str, now: Instant, header: &RtpHeaderInfo, payload: &[u8]);
}

/// A tap that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTap;

impl CallerAudioTap for NoTap {
    fn on_caller_rtp(&self, _: &str, _: Instant, _: &RtpHeaderInfo, _: &[u8]) {}
}

/// A tap that counts packets and payload bytes (tests, benchmarks).
#[derive(Debug, Default)]
pub struct CountingTap {
    packets: AtomicU64,
    bytes: AtomicU64,
}

impl CountingTap {
    /// Packets seen.
    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }
    /// Payload bytes seen.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl CallerAudioTap for CountingTap {
    fn on_caller_rtp(&self, _: &str, _: Instant, _: &RtpHeaderInfo, payload: &[u8]) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
    }
}
