//! Small value types used by the config tree: [`Cidr`] for address allow-lists and [`Secret`]
//! for values that must never be printed.
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 or IPv6 network in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`).
///
/// A bare address (`192.0.2.7`) means a single host (`/32` or `/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix_len: u8,
}

/// Why a CIDR string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CidrError {
    /// The part before `/` is not an IP address.
    #[error("invalid CIDR {input:?}: not an IP address")]
    Address {
        /// The whole input string.
        input: String,
    },
    /// The part after `/` is not a number within 0..=32 (IPv4) or 0..=128 (IPv6).
    #[error("invalid CIDR {input:?}: prefix length must be 0..={max}")]
    PrefixLen {
        /// The whole input string.
        input: String,
        /// The largest prefix length for this address family.
        max: u8,
    },
    /// Bits outside the prefix are set, e.g. `10.0.0.1/8`.
    #[error("invalid CIDR {input:?}: host bits set, did you mean {network}?")]
    HostBits {
        /// The whole input string.
        input: String,
        /// The network the operator probably meant.
        network: Cidr,
    },
}

impl Cidr {
    /// Builds a network from an address and a prefix length.
    ///
    /// Host bits must be zero: `10.0.0.1/8` is refused rather than silently widened,
    /// because in a trunk ACL a typo should fail loudly.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<Self, CidrError> {
        let input = format!("{addr}/{prefix_len}");
        let max = max_len(addr);
        if prefix_len > max {
            return Err(CidrError::PrefixLen { input, max });
        }
        let network = Cidr {
            addr: mask_addr(addr, prefix_len),
            prefix_len,
        };
        if network.addr != addr {
            return Err(CidrError::HostBits { input, network });
        }
        Ok(network)
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` is inside this network.
    ///
    /// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are treated as IPv4, because a
    /// dual-stack socket reports IPv4 peers that way and the ACL must still match them.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask_addr(ip, self.prefix_len) == self.addr
            }
            _ => false,
        }
    }
}

fn max_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Clears every bit after the first `len` bits. `len` must be <= the family's width.
fn mask_addr(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let (addr_part, len_part) = match input.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (input, None),
        };
        let addr: IpAddr = addr_part.trim().parse().map_err(|_| CidrError::Address {
            input: input.to_owned(),
        })?;
        let max = max_len(addr);
        let prefix_len = match len_part {
            None => max,
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| CidrError::PrefixLen {
                    input: input.to_owned(),
                    max,
                })?,
        };
        Cidr::new(addr, prefix_len).map_err(|e| match e {
            CidrError::HostBits { network, .. } => CidrError::HostBits {
                input: input.to_owned(),
                network,
            },
            other => other,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A secret string (password, API token).
///
/// `Debug` and `Serialize` print `***` so a secret cannot leak through logs or
/// `check-config`; read the value with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The text printed in place of every secret.
    pub const MASK: &'static str = "***";

    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself; use only where it is needed (digest computation, token check).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", Self::MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Self::MASK)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn cidr_v4_contains() {
        let net: Cidr = "192.0.2.0/24".parse().expect("valid");
        assert!(net.contains(ip("192.0.2.0")));
        assert!(net.contains(ip("192.0.2.255")));
        assert!(!net.contains(ip("192.0.3.1")));
        assert!(!net.contains(ip("2001:db8::1")));
        // Dual-stack sockets report IPv4 peers as mapped IPv6.
        assert!(net.contains(ip("::ffff:192.0.2.9")));
    }

    #[test]
    fn cidr_v6_contains() {
        let net: Cidr = "2001:db8::/32".parse().expect("valid");
        assert!(net.contains(ip("2001:db8:ffff::1")));
        assert!(!net.contains(ip("2001:db9::1")));
        assert!(!net.contains(ip("192.0.2.1")));
        let lo: Cidr = "::1/128".parse().expect("valid");
        assert!(lo.contains(ip("::1")));
        assert!(!lo.contains(ip("::2")));
    }

    #[test]
    fn cidr_edges() {
        let all: Cidr = "0.0.0.0/0".parse().expect("valid");
        assert!(all.contains(ip("203.0.113.5")));
        let all6: Cidr = "::/0".parse().expect("valid");
        assert!(all6.contains(ip("2001:db8::5")));
        let host: Cidr = "198.51.100.7".parse().expect("bare address");
        assert_eq!(host.to_string(), "198.51.100.7/32");
        assert!(host.contains(ip("198.51.100.7")));
        assert!(!host.contains(ip("198.51.100.8")));
    }

    #[test]
    fn cidr_rejects_garbage() {
        for bad in [
            "",
            "abc",
            "10.0.0.0/33",
            "10.0.0.0/x",
            "::/129",
            "10.0.0.0/-1",
            "/8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} should fail");
        }
        let err = "10.0.0.1/8".parse::<Cidr>().expect_err("host bits");
        assert!(err.to_string().contains("10.0.0.0/8"), "{err}");
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }
}
