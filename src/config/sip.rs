//! `[sip]` and `[trunk]`: SIP transport, RFC 3261 timers, ingress limits, trunk ACL.
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::types::Cidr;
use super::ValidationError;

/// `[sip]`: where and how SIP is spoken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// Address for SIP over UDP and TCP (both transports bind this same address).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Further addresses to bind UDP and TCP on, e.g. `[::1]:5060` for IPv6.
    #[serde(default = "Vec::new")]
    pub also_listen: Vec<SocketAddr>,
    /// SIP domain the gateway is authoritative for (seat AORs are `sip:<seat>@<domain>`).
    #[serde(default = "default_domain")]
    pub domain: String,
    /// RFC 3261 T1, the RTT estimate, in milliseconds.
    #[serde(default = "default_t1_ms")]
    pub t1_ms: u64,
    /// RFC 3261 T2, the cap on non-INVITE request and INVITE response retransmits, in milliseconds.
    #[serde(default = "default_t2_ms")]
    pub t2_ms: u64,
    /// RFC 3261 T4, the longest a message stays in the network, in milliseconds.
    #[serde(default = "default_t4_ms")]
    pub t4_ms: u64,
    /// Largest SIP message accepted on any transport, in bytes; larger ones are dropped (UDP)
    /// or answered 513 and the connection closed (TCP).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// A TCP connection quiet this long (seconds) after its last complete message is closed.
    #[serde(default = "default_tcp_idle_timeout_s")]
    pub tcp_idle_timeout_s: u64,
    /// A TCP connection that sends no complete message within this many seconds of opening
    /// (or leaves a message unfinished this long) is closed.
    #[serde(default = "default_tcp_first_message_timeout_s")]
    pub tcp_first_message_timeout_s: u64,
    /// SIP TCP connections at most; the gateway lowers this to what its open-files limit
    /// leaves after the reserve for RTP (logged at start).
    #[serde(default = "default_tcp_max_connections")]
    pub tcp_max_connections: usize,
    /// SIP TCP connections from one source IP at most (seats behind one NAT share it).
    #[serde(default = "default_tcp_max_per_source")]
    pub tcp_max_per_source: usize,
    /// Raise the soft open-files limit to the hard limit at start.
    #[serde(default = "default_raise_nofile")]
    pub raise_nofile: bool,
    /// Value of the `User-Agent` / `Server` header. The default names no product or
    /// version (RFC 3261 §20.35, §20.41 warn that these help an attacker find known holes).
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Requests per second allowed from each untrusted source IP (trunk addresses are exempt).
    #[serde(default = "default_rate_limit_per_s")]
    pub rate_limit_per_s: u32,
    /// Burst size of the per-source token bucket.
    #[serde(default = "default_rate_limit_burst")]
    pub rate_limit_burst: u32,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5060))
}
fn default_domain() -> String {
    "siaga.local".to_owned()
}
fn default_t1_ms() -> u64 {
    500
}
fn default_t2_ms() -> u64 {
    4000
}
fn default_t4_ms() -> u64 {
    5000
}
fn default_max_message_bytes() -> usize {
    65535
}
fn default_tcp_idle_timeout_s() -> u64 {
    600
}
fn default_tcp_first_message_timeout_s() -> u64 {
    30
}
fn default_tcp_max_connections() -> usize {
    1024
}
fn default_tcp_max_per_source() -> usize {
    64
}
fn default_raise_nofile() -> bool {
    true
}
fn default_user_agent() -> String {
    "PSAP".to_owned()
}
fn default_rate_limit_per_s() -> u32 {
    20
}
fn default_rate_limit_burst() -> u32 {
    40
}

/// Below this a normal INVITE with SDP does not fit, so a smaller cap is surely a typo.
const MIN_MESSAGE_BYTES: usize = 1024;

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            listen: default_listen(),
            also_listen: Vec::new(),
            domain: default_domain(),
            t1_ms: default_t1_ms(),
            t2_ms: default_t2_ms(),
            t4_ms: default_t4_ms(),
            max_message_bytes: default_max_message_bytes(),
            tcp_idle_timeout_s: default_tcp_idle_timeout_s(),
            tcp_first_message_timeout_s: default_tcp_first_message_timeout_s(),
            tcp_max_connections: default_tcp_max_connections(),
            tcp_max_per_source: default_tcp_max_per_source(),
            raise_nofile: default_raise_nofile(),
            user_agent: default_user_agent(),
            rate_limit_per_s: default_rate_limit_per_s(),
            rate_limit_burst: default_rate_limit_burst(),
        }
    }
}

impl SipConfig {
    /// T1 as a [`Duration`].
    pub fn t1(&self) -> Duration {
        Duration::from_millis(self.t1_ms)
    }
    /// T2 as a [`Duration`].
    pub fn t2(&self) -> Duration {
        Duration::from_millis(self.t2_ms)
    }
    /// T4 as a [`Duration`].
    pub fn t4(&self) -> Duration {
        Duration::from_millis(self.t4_ms)
    }
    /// TCP idle timeout as a [`Duration`].
    pub fn tcp_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.tcp_idle_timeout_s)
    }
    /// First-message timeout as a [`Duration`].
    pub fn tcp_first_message_timeout(&self) -> Duration {
        Duration::from_secs(self.tcp_first_message_timeout_s)
    }
    /// `listen` followed by `also_listen`: every address SIP binds.
    pub fn listen_addrs(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        std::iter::once(self.listen).chain(self.also_listen.iter().copied())
    }

    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        let err =
            |key: &str, reason: String| Err(ValidationError::new(format!("sip.{key}"), reason));
        for (i, addr) in self.also_listen.iter().enumerate() {
            if *addr == self.listen || self.also_listen[..i].contains(addr) {
                return err(
                    &format!("also_listen[{i}]"),
                    format!("{addr} is listed twice"),
                );
            }
        }
        if self.domain.trim().is_empty() {
            return err("domain", "must not be empty".into());
        }
        if self.t1_ms == 0 {
            return err("t1_ms", "must be > 0".into());
        }
        // RFC 3261 §17.1.2.2: retransmit intervals double from T1 up to T2.
        if self.t1_ms >= self.t2_ms {
            return err("t2_ms", format!("must be > t1_ms ({})", self.t1_ms))
                .map_err(|e| e.related("sip.t1_ms"));
        }
        if self.t4_ms == 0 {
            return err("t4_ms", "must be > 0".into());
        }
        if self.max_message_bytes < MIN_MESSAGE_BYTES {
            return err(
                "max_message_bytes",
                format!("must be >= {MIN_MESSAGE_BYTES}"),
            );
        }
        if self.user_agent.trim().is_empty()
            || self.user_agent.bytes().any(|b| b.is_ascii_control())
        {
            return err(
                "user_agent",
                "must be a non-empty product text without control characters".into(),
            );
        }
        if self.tcp_idle_timeout_s == 0 {
            return err("tcp_idle_timeout_s", "must be > 0".into());
        }
        if self.tcp_first_message_timeout_s == 0 {
            return err("tcp_first_message_timeout_s", "must be > 0".into());
        }
        if self.tcp_max_per_source == 0 {
            return err("tcp_max_per_source", "must be >= 1".into());
        }
        if self.rate_limit_per_s == 0 {
            return err("rate_limit_per_s", "must be > 0".into());
        }
        if self.rate_limit_burst < self.rate_limit_per_s {
            return err(
                "rate_limit_burst",
                format!("must be >= rate_limit_per_s ({})", self.rate_limit_per_s),
            )
            .map_err(|e| e.related("sip.rate_limit_per_s"));
        }
        Ok(())
    }
}

/// `[trunk]`: which source addresses are the telephone trunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Networks whose INVITEs are accepted as trunk calls and exempt from rate limiting;
    /// other sources get 403 for INVITE.
    #[serde(default = "default_allow")]
    pub allow: Vec<Cidr>,
}

fn default_allow() -> Vec<Cidr> {
    let v4 = Cidr::new(IpAddr::from([127, 0, 0, 0]), 8);
    let v6 = Cidr::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), 128);
    // Both literals are valid networks; `flatten` keeps this free of unwrap.
    [v4, v6].into_iter().flatten().collect()
}

impl Default for TrunkConfig {
    fn default() -> Self {
        TrunkConfig {
            allow: default_allow(),
        }
    }
}

impl TrunkConfig {
    /// Whether `ip` is a trusted trunk address.
    pub fn is_trunk(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|net| net.contains(ip))
    }
}
