//! Symmetric RTP latching (RFC 4961: a peer sends from the address it receives on), with a
//! policy that keeps an attacker from taking over a stream.
//!
//! The policy, and why:
//! - Until a leg has an SDP address we send nothing and accept nothing from it.
//! - A packet may latch only from the SDP IP (any port: NATs and SBCs rewrite ports). That
//!   covers seats on the LAN and a trunk SBC, and nobody else on the network can latch.
//! - Exception, the NAT case: when the SDP IP is private (RFC 1918, RFC 6598, ULA, link-local)
//!   but our own media IP is not, the SDP address cannot be reached anyway, so the first
//!   source of any IP may latch.
//! - Once latched, another source (a new port or, in the NAT case, a new IP) may take over only
//!   after the latched one has been silent for [`RELATCH_SILENCE`]: an injected stream cannot
//!   hijack a live one; a real NAT rebinding (which stops the old source) recovers within it.
//!   Every take-over is counted.
//! - A new SDP address (re-INVITE) drops the latch. Hold with `c=0.0.0.0` keeps it but sends
//!   nothing.
//! - Before the first RTP a leg may be told to wait ([`Latch::set_wait_for_rtp`]): then
//!   nothing is sent to the SDP address until RTP from it arrives. The relay does this for the
//!   trunk leg when the SDP names an address outside the networks signalling is accepted
//!   from (issue 10: an INVITE must not make the gateway spray RTP at an address it names).
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Silence of the latched source after which another may latch.
pub const RELATCH_SILENCE: Duration = Duration::from_millis(1000);

/// Latch state of one leg.
#[derive(Debug, Clone, Default)]
pub struct Latch {
    /// Address of the last SDP; `None` before SDP or on hold.
    sdp: Option<SocketAddr>,
    any_ip: bool,
    current: Option<SocketAddr>,
    last_seen: Option<Instant>,
    rtcp: Option<SocketAddr>,
    relatches: u32,
    /// Send nothing until a source latched.
    wait_for_rtp: bool,
}

impl Latch {
    /// Takes the peer's address from a new SDP (`None`: on hold or stream rejected).
    pub fn set_sdp(&mut self, sdp: Option<SocketAddr>, local_ip: IpAddr) {
        if let Some(addr) = sdp {
            if self.sdp != Some(addr) {
                self.current = None;
                self.last_seen = None;
                self.rtcp = None;
            }
            self.any_ip = is_private(addr.ip()) && !is_private(local_ip) && !local_ip.is_loopback();
        }
        self.sdp = sdp;
    }

    /// When `wait`, nothing is sent before the first RTP from the SDP address latches.
    pub fn set_wait_for_rtp(&mut self, wait: bool) {
        self.wait_for_rtp = wait;
    }

    /// Whether an RTP packet from `from` belongs to this leg; latches or re-latches on the way.
    pub fn accept_rtp(&mut self, now: Instant, from: SocketAddr) -> bool {
        if self.current == Some(from) {
            self.last_seen = Some(now);
            return true;
        }
        let Some(sdp) = self.sdp else {
            return false;
        };
        if !self.any_ip && from.ip() != sdp.ip() {
            return false;
        }
        let free = match self.last_seen {
            None => true,
            Some(seen) => now.saturating_duration_since(seen) >= RELATCH_SILENCE,
        };
        if !free {
            return false;
        }
        if self.current.is_some() {
            self.relatches += 1;
            self.rtcp = None;
        }
        self.current = Some(from);
        self.last_seen = Some(now);
        true
    }

    /// Whether an RTCP packet from `from` belongs to this leg: same IP as the RTP source (or
    /// the SDP IP before RTP latched); its port is latched for RTCP.
    pub fn accept_rtcp(&mut self, from: SocketAddr) -> bool {
        let expected = self.current.or(self.sdp.filter(|_| !self.any_ip));
        if expected.map(|a| a.ip()) != Some(from.ip()) {
            return false;
        }
        self.rtcp = Some(from);
        true
    }

    /// Where RTP for this leg goes: the latched source, else the SDP address; nothing on hold.
    pub fn rtp_target(&self) -> Option<SocketAddr> {
        self.sdp?;
        match self.current {
            Some(latched) => Some(latched),
            None if self.wait_for_rtp => None,
            None => self.sdp,
        }
    }

    /// Where RTCP goes: the latched RTCP source, else the SDP address with port + 1 (RFC 3550 §11).
    pub fn rtcp_target(&self) -> Option<SocketAddr> {
        let sdp = self.sdp?;
        if self.wait_for_rtp && self.current.is_none() {
            return None;
        }
        let next = SocketAddr::new(sdp.ip(), sdp.port().checked_add(1)?);
        Some(self.rtcp.unwrap_or(next))
    }

    /// True once a source is latched.
    pub fn is_latched(&self) -> bool {
        self.current.is_some()
    }

    /// Take-overs so far.
    pub fn relatches(&self) -> u32 {
        self.relatches
    }
}

/// Private or otherwise non-global unicast ranges a NAT hides.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || v4.is_link_local() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }
    const PUBLIC: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 5));

    #[test]
    fn nothing_before_sdp() {
        let mut l = Latch::default();
        assert!(!l.accept_rtp(Instant::now(), addr("192.0.2.1:4000")));
        assert_eq!(l.rtp_target(), None);
    }

    #[test]
    fn latches_to_the_real_port_of_the_sdp_ip_only() {
        let (t0, mut l) = (Instant::now(), Latch::default());
        l.set_sdp(Some(addr("192.0.2.1:4000")), PUBLIC);
        assert_eq!(l.rtp_target(), Some(addr("192.0.2.1:4000")));
        assert!(!l.accept_rtp(t0, addr("198.51.100.66:4000")), "other IP");
        assert!(l.accept_rtp(t0, addr("192.0.2.1:5555")));
        assert_eq!(l.rtp_target(), Some(addr("192.0.2.1:5555")));
        assert_eq!(l.rtcp_target(), Some(addr("192.0.2.1:4001")));
        assert!(l.accept_rtcp(addr("192.0.2.1:5556")));
        assert_eq!(l.rtcp_target(), Some(addr("192.0.2.1:5556")));
        assert!(!l.accept_rtcp(addr("198.51.100.66:5556")));
    }

    #[test]
    fn a_live_stream_cannot_be_taken_over() {
        let (t0, mut l) = (Instant::now(), Latch::default());
        l.set_sdp(Some(addr("192.0.2.1:4000")), PUBLIC);
        assert!(l.accept_rtp(t0, addr("192.0.2.1:4000")));
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.accept_rtp(t1, addr("192.0.2.1:4000")));
        assert!(!l.accept_rtp(t1, addr("192.0.2.1:6000")));
        assert_eq!(l.relatches(), 0);
        // The old source went quiet (NAT rebinding): the new one takes over, counted.
        let t2 = t1 + RELATCH_SILENCE;
        assert!(l.accept_rtp(t2, addr("192.0.2.1:6000")));
        assert_eq!(
            (l.rtp_target(), l.relatches()),
            (Some(addr("192.0.2.1:6000")), 1)
        );
    }

    #[test]
    fn private_sdp_behind_nat_latches_any_first_source() {
        let (t0, mut l) = (Instant::now(), Latch::default());
        l.set_sdp(Some(addr("192.168.1.20:4000")), PUBLIC);
        assert!(l.accept_rtp(t0, addr("198.51.100.9:31000")));
        assert!(!l.accept_rtp(t0, addr("198.51.100.66:31000")));
        // The same private SDP seen from a private media IP: strict.
        let mut lan = Latch::default();
        lan.set_sdp(
            Some(addr("192.168.1.20:4000")),
            "192.168.1.2".parse().unwrap(),
        );
        assert!(!lan.accept_rtp(t0, addr("198.51.100.9:31000")));
    }

    #[test]
    fn waiting_leg_sends_nothing_until_rtp_from_the_sdp_ip() {
        let (t0, mut l) = (Instant::now(), Latch::default());
        l.set_sdp(Some(addr("192.0.2.1:4000")), PUBLIC);
        l.set_wait_for_rtp(true);
        assert_eq!((l.rtp_target(), l.rtcp_target()), (None, None));
        assert!(!l.accept_rtp(t0, addr("198.51.100.66:4000")), "other IP");
        assert_eq!(l.rtp_target(), None);
        assert!(l.accept_rtp(t0, addr("192.0.2.1:4100")));
        assert_eq!(l.rtp_target(), Some(addr("192.0.2.1:4100")));
        assert_eq!(l.rtcp_target(), Some(addr("192.0.2.1:4001")));
    }

    #[test]
    fn hold_keeps_the_latch_but_sends_nothing_and_new_sdp_resets() {
        let (t0, mut l) = (Instant::now(), Latch::default());
        l.set_sdp(Some(addr("192.0.2.1:4000")), PUBLIC);
        assert!(l.accept_rtp(t0, addr("192.0.2.1:4002")));
        l.set_sdp(None, PUBLIC);
        assert_eq!((l.rtp_target(), l.rtcp_target()), (None, None));
        assert!(l.accept_rtp(t0, addr("192.0.2.1:4002")));
        l.set_sdp(Some(addr("192.0.2.7:8000")), PUBLIC);
        assert!(!l.is_latched());
        assert_eq!(l.rtp_target(), Some(addr("192.0.2.7:8000")));
    }
}
