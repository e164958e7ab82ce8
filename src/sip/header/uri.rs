//! SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), read-only views over the text.

use super::{HeaderError, Params};

/// A parsed URI. For schemes other than sip/sips/tel only `scheme` and `opaque` are set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// Lower-cased scheme: `sip`, `sips`, `tel`, or anything else.
    pub scheme: String,
    /// The user part as written (escapes kept), for sip/sips; the number for tel.
    pub user: Option<String>,
    /// Host as written; IPv6 literals keep their brackets.
    pub host: String,
    /// Explicit port.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp`, `;lr`, tel `;phone-context=`).
    pub params: Params,
    /// `?headers` part when present (raw).
    pub headers: Option<String>,
    /// Everything after `scheme:` as written.
    pub opaque: String,
}

impl Uri {
    /// Parses `text` (no surrounding `<>`). `header` names the field for errors.
    pub fn parse(text: &str, header: &'static str) -> Result<Uri, HeaderError> {
        let (scheme, rest) = text
            .split_once(':')
            .ok_or(HeaderError::new(header, "URI has no scheme"))?;
        let valid_scheme = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !valid_scheme {
            return Err(HeaderError::new(header, "bad URI scheme"));
        }
        if rest.is_empty() || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(HeaderError::new(
                header,
                "whitespace or control character in URI",
            ));
        }
        let scheme = scheme.to_ascii_lowercase();
        let mut uri = Uri {
            scheme,
            user: None,
            host: String::new(),
            port: None,
            params: Params::default(),
            headers: None,
            opaque: rest.to_string(),
        };
        match uri.scheme.as_str() {
            "sip" | "sips" => uri.parse_sip(rest, header)?,
            "tel" => {
                let (number, params) = rest.split_at(rest.find(';').unwrap_or(rest.len()));
                if number.is_empty() {
                    return Err(HeaderError::new(header, "empty tel number"));
                }
                uri.user = Some(number.to_string());
                uri.params = Params::parse(params, header)?;
            }
            _ => {}
        }
        Ok(uri)
    }

    fn parse_sip(&mut self, rest: &str, header: &'static str) -> Result<(), HeaderError> {
        // The user part may itself hold ';', '?' and ',' (RFC 4475 §3.1.1.2, §3.1.1.9), so
        // split at the first '@' before looking for parameters or `?headers`.
        let host_part = match rest.find('@') {
            Some(at) => {
                let userinfo = &rest[..at];
                let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                if user.is_empty() {
                    return Err(HeaderError::new(header, "empty user part"));
                }
                if userinfo.contains(['<', '>', '"']) {
                    return Err(HeaderError::new(header, "bad character in user part"));
                }
                self.user = Some(user.to_string());
                &rest[at + 1..]
            }
            None => rest,
        };
        let host_part = match host_part.split_once('?') {
            Some((before, headers)) => {
                self.headers = Some(headers.to_string());
                before
            }
            None => host_part,
        };
        let (hostport, params) = host_part.split_at(host_part.find(';').unwrap_or(host_part.len()));
        self.params = Params::parse(params, header)?;
        let (host, port) = split_host_port(hostport, header)?;
        self.host = host.to_string();
        self.port = port;
        Ok(())
    }

    /// True for sip: and sips: URIs.
    pub fn is_sip(&self) -> bool {
        self.scheme == "sip" || self.scheme == "sips"
    }

    /// `user@host` with the host lower-cased, the registrar's address-of-record key.
    pub fn aor(&self) -> String {
        match &self.user {
            Some(user) => format!("{}@{}", user, self.host.to_ascii_lowercase()),
            None => self.host.to_ascii_lowercase(),
        }
    }
}

/// Splits `host[:port]`, accepting `[v6]:port`. Checks the host grammar loosely
/// (hostname, IPv4 or bracketed IPv6) and the port range.
pub(crate) fn split_host_port<'a>(
    text: &'a str,
    header: &'static str,
) -> Result<(&'a str, Option<u16>), HeaderError> {
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let end = v6
            .find(']')
            .ok_or(HeaderError::new(header, "unterminated IPv6 reference"))?;
        let addr = &v6[..end];
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(HeaderError::new(header, "bad IPv6 address"));
        }
        let after = &v6[end + 1..];
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or(HeaderError::new(header, "text after IPv6 reference"))?,
            ),
        };
        (&text[..end + 2], port)
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    if !host_ok {
        return Err(HeaderError::new(header, "bad host"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| HeaderError::new(header, "bad port"))?,
        ),
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_parts() {
        let u = Uri::parse("sip:+62231112@[2001:db8::1]:5070;transport=tcp;lr", "To").unwrap();
        assert_eq!(u.user.as_deref(), Some("+62231112"));
        assert_eq!(u.host, "[2001:db8::1]");
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.params.value("transport"), Some("tcp"));
        assert!(u.params.has("lr"));
    }

    #[test]
    fn user_part_may_hold_semicolon() {
        let u = Uri::parse("sip:user;par=u%40example.net@example.com", "R-URI").unwrap();
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.host, "example.com");
        let odd = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
        assert_eq!(Uri::parse(odd, "R-URI").unwrap().host, "example.com");
        let escaped =
            Uri::parse("sip:user@example.com?Route=%3Csip:example.com%3E", "R-URI").unwrap();
        assert_eq!(
            escaped.headers.as_deref(),
            Some("Route=%3Csip:example.com%3E")
        );
    }

    #[test]
    fn tel_uri_and_unknown_scheme() {
        let t = Uri::parse("tel:+62-231-112;phone-context=+62", "From").unwrap();
        assert_eq!(t.user.as_deref(), Some("+62-231-112"));
        let x = Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent", "R-URI").unwrap();
        assert_eq!(x.scheme, "nobodyknowsthisscheme");
        assert!(!x.is_sip());
    }

    #[test]
    fn bad_uris_are_errors() {
        assert!(Uri::parse("sip:user@exa mple.com", "To").is_err());
        assert!(Uri::parse("sip:user@host:99999", "To").is_err());
        assert!(Uri::parse("nocolon", "To").is_err());
        assert!(Uri::parse("sip:[2001:db8::1", "To").is_err());
    }
}
