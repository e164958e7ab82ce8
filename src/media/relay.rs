//! Per-call relay state between leg A (caller, trunk) and leg B (seat): latching, forwarding
//! decisions, caller-audio analysis, prompt playback and statistics. Pure: the socket task
//! (`engine`) feeds datagrams with `now` and sends what this returns.
//!
//! ```text
//!  caller ──RTP──► [A sockets] ─┬─ tap (every valid caller RTP packet)
//!                               └─ bridged? ──► [B sockets] ──► seat
//!  caller ◄── playback (not bridged) / B's RTP (bridged) ◄── seat
//! ```
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::latch::Latch;
use super::playback::{Playback, RtpIdentity};
use super::rtp::{check_rtcp, is_rtcp, ReceiveStats, RtpHeaderInfo, G711_CLOCK_RATE};
use super::sdp::{Codec, Negotiated};
use super::stats::{CallMediaStats, LegStats, RxStats, TxStats};
use super::tap::CallerAudioTap;
use crate::config::Cidr;

/// The two legs of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Leg {
    /// Leg A: the trunk side, the person calling 112.
    Caller,
    /// Leg B: the call taker's softphone.
    Seat,
}

impl Leg {
    /// The opposite leg.
    pub fn other(self) -> Leg {
        match self {
            Leg::Caller => Leg::Seat,
            Leg::Seat => Leg::Caller,
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// Which of a leg's two sockets (RFC 3550 §11: RTP on an even port, RTCP on the next).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The RTP socket.
    Rtp,
    /// The RTCP socket.
    Rtcp,
}

/// Send the datagram just received, unchanged, from `leg`'s `channel` socket to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// The leg whose socket sends.
    pub leg: Leg,
    /// Which socket of that leg.
    pub channel: Channel,
    /// Destination (from SDP or latching, never anything else).
    pub to: SocketAddr,
}

/// A generated packet (prompt playback) to send from `leg`'s RTP socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The leg whose RTP socket sends.
    pub leg: Leg,
    /// Destination.
    pub to: SocketAddr,
    /// The RTP packet.
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
struct LegState {
    local_rtp: SocketAddr,
    negotiated: Option<Negotiated>,
    latch: Latch,
    rx: ReceiveStats,
    rtcp_rx: u64,
    tx: TxStats,
    rejected: u64,
    malformed: u64,
    playback: Option<Playback>,
    /// RTP identity of our prompt stream on this leg; continues across prompts.
    prompt_id: RtpIdentity,
}

impl LegState {
    fn rtp_target(&self) -> Option<SocketAddr> {
        let sends = self
            .negotiated
            .as_ref()
            .is_some_and(|n| n.direction.sends());
        self.latch.rtp_target().filter(|_| sends)
    }
}

/// The relay state of one call.
pub struct Relay {
    call_id: Arc<str>,
    tap: Arc<dyn CallerAudioTap>,
    legs: [LegState; 2],
    bridged: bool,
    created: Instant,
    /// Networks the trunk signals from: the caller leg sends to its SDP address before the
    /// first RTP only when that address is inside one of them.
    trunk_networks: Arc<[Cidr]>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("call_id", &self.call_id)
            .field("legs", &self.legs)
            .field("bridged", &self.bridged)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// A call with local RTP addresses `local` (caller, seat) and prompt identities `ids`.
    pub fn new(
        call_id: &str,
        tap: Arc<dyn CallerAudioTap>,
        local: [SocketAddr; 2],
        ids: [RtpIdentity; 2],
        now: Instant,
    ) -> Relay {
        let leg = |i: usize| LegState {
            local_rtp: local[i],
            negotiated: None,
            latch: Latch::default(),
            rx: ReceiveStats::default(),
            rtcp_rx: 0,
            tx: TxStats::default(),
            rejected: 0,
            malformed: 0,
            playback: None,
            prompt_id: ids[i],
        };
        Relay {
            call_id: call_id.into(),
            tap,
            legs: [leg(0), leg(1)],
            bridged: false,
            created: now,
            trunk_networks: Arc::from(Vec::new()),
        }
    }

    /// The networks signalling from the trunk is accepted from (`trunk.allow`). Without
    /// them the caller leg sends nothing before the caller's first RTP.
    pub fn set_trunk_networks(&mut self, networks: Arc<[Cidr]>) {
        self.trunk_networks = networks;
    }

    /// Applies the result of an offer/answer on `leg` (again on every re-INVITE).
    pub fn set_remote(&mut self, leg: Leg, negotiated: &Negotiated) {
        let state = &mut self.legs[leg.index()];
        state
            .latch
            .set_sdp(negotiated.remote_rtp, state.local_rtp.ip());
        // Issue 10: no RTP to an address an INVITE names before that address sends RTP,
        // unless it is on the trunk's own signalling networks.
        let wait = leg == Leg::Caller
            && !negotiated
                .remote_rtp
                .is_some_and(|a| self.trunk_networks.iter().any(|n| n.contains(a.ip())));
        state.latch.set_wait_for_rtp(wait);
        state.negotiated = Some(negotiated.clone());
    }

    /// Relays A↔B from now on; prompts on both legs stop.
    pub fn bridge(&mut self) {
        self.bridged = true;
        for leg in [Leg::Caller, Leg::Seat] {
            self.stop_playback(leg);
        }
    }

    /// Stops relaying (the seat leg failed): caller packets are only analysed again.
    pub fn unbridge(&mut self) {
        self.bridged = false;
    }

    /// True while bridged.
    pub fn is_bridged(&self) -> bool {
        self.bridged
    }

    /// Plays µ-law `audio` to `leg` in the leg's codec; ignored while bridged.
    pub fn play(&mut self, leg: Leg, audio: Arc<Vec<u8>>, looped: bool, now: Instant) {
        if self.bridged {
            return;
        }
        self.stop_playback(leg);
        let state = &mut self.legs[leg.index()];
        let codec = state
            .negotiated
            .as_ref()
            .map_or((Codec::Pcmu, 0), |n| (n.codec, n.payload_type));
        let playback = Playback::new(audio, looped, codec, state.prompt_id, now);
        state.playback = Some(playback);
    }

    /// Stops the prompt on `leg`, if any.
    pub fn stop_playback(&mut self, leg: Leg) {
        let state = &mut self.legs[leg.index()];
        if let Some(playback) = state.playback.take() {
            state.prompt_id = playback.identity();
        }
    }

    /// True while a prompt plays on `leg`.
    pub fn is_playing(&self, leg: Leg) -> bool {
        self.legs[leg.index()].playback.is_some()
    }

    /// Handles one datagram that arrived on `leg`'s `channel` socket from `from`.
    pub fn on_packet(
        &mut self,
        now: Instant,
        leg: Leg,
        channel: Channel,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Vec<Forward> {
        if channel == Channel::Rtcp || is_rtcp(bytes) {
            return self.on_rtcp(leg, from, bytes);
        }
        let state = &mut self.legs[leg.index()];
        let Ok(header) = RtpHeaderInfo::parse(bytes) else {
            state.malformed += 1;
            return Vec::new();
        };
        if !state.latch.accept_rtp(now, from) {
            state.rejected += 1;
            return Vec::new();
        }
        state.rx.on_packet(now, &header, G711_CLOCK_RATE);
        if leg == Leg::Caller {
            let payload = header.payload(bytes);
            self.tap.on_caller_rtp(&self.call_id, now, &header, payload);
        }
        if !self.bridged {
            return Vec::new();
        }
        let other = &mut self.legs[leg.other().index()];
        let Some(to) = other.rtp_target() else {
            return Vec::new();
        };
        other.tx.packets += 1;
        other.tx.bytes += header.payload_len as u64;
        vec![Forward {
            leg: leg.other(),
            channel: Channel::Rtp,
            to,
        }]
    }

    /// RTCP (RFC 3550 §6) is relayed as is to the other leg's RTCP address when bridged.
    fn on_rtcp(&mut self, leg: Leg, from: SocketAddr, bytes: &[u8]) -> Vec<Forward> {
        let state = &mut self.legs[leg.index()];
        if check_rtcp(bytes).is_err() {
            state.malformed += 1;
            return Vec::new();
        }
        if !state.latch.accept_rtcp(from) {
            state.rejected += 1;
            return Vec::new();
        }
        state.rtcp_rx += 1;
        let other = &mut self.legs[leg.other().index()];
        let target = other.latch.rtcp_target().filter(|_| self.bridged);
        let Some(to) = target else {
            return Vec::new();
        };
        other.tx.rtcp_packets += 1;
        vec![Forward {
            leg: leg.other(),
            channel: Channel::Rtcp,
            to,
        }]
    }

    /// When the next prompt packet is due, if a prompt plays.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let due = self
            .legs
            .iter()
            .filter_map(|l| l.playback.as_ref()?.poll_timeout());
        due.min()
    }

    /// The prompt packets due at `now`; ended prompts are removed.
    pub fn poll_playback(&mut self, now: Instant) -> Vec<Transmit> {
        let mut out = Vec::new();
        for leg in [Leg::Caller, Leg::Seat] {
            let state = &mut self.legs[leg.index()];
            let target = state.rtp_target();
            let Some(playback) = state.playback.as_mut() else {
                continue;
            };
            while let Some(bytes) = playback.next_packet(now) {
                if let Some(to) = target {
                    state.tx.playback_packets += 1;
                    out.push(Transmit { leg, to, bytes });
                }
            }
            if playback.is_finished() {
                self.stop_playback(leg);
            }
        }
        out
    }

    /// Time since the last RTP packet on either leg (since creation before any).
    pub fn idle_for(&self, now: Instant) -> Duration {
        let last = self.legs.iter().filter_map(|l| l.rx.last_arrival).max();
        now.saturating_duration_since(last.unwrap_or(self.created).max(self.created))
    }

    /// Statistics of both legs.
    pub fn stats(&self, now: Instant) -> CallMediaStats {
        CallMediaStats {
            bridged: self.bridged,
            caller: self.leg_stats(Leg::Caller, now),
            seat: self.leg_stats(Leg::Seat, now),
        }
    }

    fn leg_stats(&self, leg: Leg, now: Instant) -> LegStats {
        let s = &self.legs[leg.index()];
        let age = |t: Instant| now.saturating_duration_since(t).as_millis() as u64;
        LegStats {
            local_rtp: s.local_rtp,
            remote_rtp: s.rtp_target(),
            latched: s.latch.is_latched(),
            relatches: s.latch.relatches(),
            rejected_packets: s.rejected,
            malformed_packets: s.malformed,
            rx: RxStats {
                packets: s.rx.packets,
                bytes: s.rx.bytes,
                expected: s.rx.expected(),
                lost: s.rx.lost(),
                jitter_ms: s.rx.jitter_ms(G711_CLOCK_RATE),
                ssrc: s.rx.ssrc(),
                ssrc_changes: s.rx.ssrc_changes,
                last_rx_age_ms: s.rx.last_arrival.map(age),
                rtcp_packets: s.rtcp_rx,
            },
            tx: s.tx.clone(),
        }
    }
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
