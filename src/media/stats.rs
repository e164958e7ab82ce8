//! Per-call media statistics for the call record and the API (RFC 3550 §6.4.1 quantities).
use std::net::SocketAddr;

use serde::Serialize;

/// Both legs of one call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallMediaStats {
    /// True while the legs are relayed to each other.
    pub bridged: bool,
    /// Leg A, the trunk side.
    pub caller: LegStats,
    /// Leg B, the call taker.
    pub seat: LegStats,
}

/// One leg: what we received from its peer and what we sent to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegStats {
    /// Our RTP address for this leg.
    pub local_rtp: SocketAddr,
    /// Where RTP for this leg goes now (latched, else from SDP).
    pub remote_rtp: Option<SocketAddr>,
    /// True once the peer's real source address is latched.
    pub latched: bool,
    /// Times the latch moved to another source.
    pub relatches: u32,
    /// Packets dropped because they came from a source that may not latch.
    pub rejected_packets: u64,
    /// Datagrams that were neither valid RTP nor valid RTCP.
    pub malformed_packets: u64,
    /// From the peer.
    pub rx: RxStats,
    /// To the peer.
    pub tx: TxStats,
}

/// Receive direction (from the leg's peer to us).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RxStats {
    /// RTP packets.
    pub packets: u64,
    /// RTP payload bytes.
    pub bytes: u64,
    /// Packets expected from sequence numbers.
    pub expected: u64,
    /// Cumulative lost (negative with duplicates).
    pub lost: i64,
    /// Interarrival jitter in ms.
    pub jitter_ms: f64,
    /// Current SSRC.
    pub ssrc: Option<u32>,
    /// SSRC changes seen.
    pub ssrc_changes: u32,
    /// Milliseconds since the last RTP packet, `None` before the first.
    pub last_rx_age_ms: Option<u64>,
    /// RTCP packets.
    pub rtcp_packets: u64,
}

/// Send direction (from us to the leg's peer).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TxStats {
    /// RTP packets relayed from the other leg.
    pub packets: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// RTCP packets relayed.
    pub rtcp_packets: u64,
    /// Prompt packets played.
    pub playback_packets: u64,
}
