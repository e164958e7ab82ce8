//! The Via header (RFC 3261 §20.42, §18.2.2; RFC 3581 rport).

use super::uri::split_host_port;
use super::{HeaderError, Params};

/// One Via value: `SIP/2.0/UDP host[:port];params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Upper-cased transport token (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, or any token).
    pub transport: String,
    /// The sent-by host as written (IPv6 with brackets).
    pub host: String,
    /// The sent-by port when written.
    pub port: Option<u16>,
    /// Via parameters.
    pub params: Params,
}

/// The RFC 3261 branch prefix that marks a §17 transaction id (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

impl Via {
    /// Parses one Via value (the list is split before).
    pub fn parse(value: &str) -> Result<Via, HeaderError> {
        const H: &str = "Via";
        let value = value.trim();
        let (protocol, rest) =
            split_protocol(value).ok_or(HeaderError::new(H, "bad sent-protocol"))?;
        let rest = rest.trim_start();
        let (sent_by, params) = rest.split_at(rest.find(';').unwrap_or(rest.len()));
        let (host, port) = split_host_port(sent_by.trim(), H)?;
        let params = Params::parse(params, H)?;
        Ok(Via {
            transport: protocol.to_ascii_uppercase(),
            host: host.to_string(),
            port,
            params,
        })
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// True when the branch is an RFC 3261 id: the magic cookie followed by something
    /// (RFC 4475 §3.2.1: a bare cookie is not a valid RFC 3261 branch).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }
}

/// Splits `SIP / 2.0 / UDP rest` into the transport token and the rest (LWS allowed
/// around the slashes, RFC 3261 §25.1 SLASH).
fn split_protocol(value: &str) -> Option<(&str, &str)> {
    let mut rest = value;
    for expected in ["SIP", "2.0"] {
        let (token, after) = rest.split_once('/')?;
        if !token.trim().eq_ignore_ascii_case(expected) {
            return None;
        }
        rest = after.trim_start();
    }
    let end = rest.find(|c: char| c.is_whitespace())?;
    let transport = &rest[..end];
    if !super::is_token(transport) {
        return None;
    }
    Some((transport, &rest[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_rport_and_ipv6() {
        let v = Via::parse("SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bKabc;rport").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, "[2001:db8::9]");
        assert_eq!(v.port, Some(5062));
        assert_eq!(v.branch(), Some("z9hG4bKabc"));
        assert_eq!(v.params.get("rport"), Some(None));
        assert!(v.has_rfc3261_branch());
    }

    #[test]
    fn via_tolerates_lws_in_protocol() {
        let v = Via::parse("SIP  /   2.0 / TCP spindle.example.com ;branch=z9hG4bK9ikj8").unwrap();
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.host, "spindle.example.com");
    }

    #[test]
    fn bare_cookie_is_not_rfc3261() {
        let v = Via::parse("SIP/2.0/UDP host;branch=z9hG4bK").unwrap();
        assert!(!v.has_rfc3261_branch());
        assert!(Via::parse("SIP/3.0/UDP host").is_err());
        assert!(Via::parse("SIP/2.0/UDP host;;branch=x").is_err());
    }
}
