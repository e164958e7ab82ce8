//! HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 7616, RFC 8760).
//!
//! Parses `Authorization: Digest ...` credentials, computes HA1/HA2/response for MD5 and
//! SHA-256 (with `qop=auth`, or without qop for RFC 2069 compatibility, RFC 7616 §3.4.1)
//! and builds `WWW-Authenticate` challenges, one per offered algorithm (RFC 8760 §3).

use md5::{Digest as _, Md5};
use sha2::Sha256;
use std::fmt;

/// A digest hash algorithm (RFC 7616 §3.3, RFC 8760 §2). `-sess` variants are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `MD5`: legacy, still what many softphones send (RFC 7616 §3.3 keeps it for
    /// backward compatibility).
    Md5,
    /// `SHA-256` (RFC 8760 §2.2): stronger; offered after MD5 by default so that every
    /// desk registers (see `config/siaga.toml`), verified whenever a client answers it.
    Sha256,
}

impl Algorithm {
    /// The token as written in `algorithm=` (RFC 7616 §3.3).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// Reads an `algorithm=` token, case-insensitively. `None` for anything we do not
    /// support (including the `-sess` variants).
    pub fn from_token(token: &str) -> Option<Algorithm> {
        if token.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else if token.eq_ignore_ascii_case("SHA-256") {
            Some(Algorithm::Sha256)
        } else {
            None
        }
    }

    /// `H(data)` as lower-case hex (RFC 7616 §3.4).
    pub(crate) fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Why an `Authorization` value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum DigestError {
    /// Not the `Digest` scheme (RFC 4475 §3.3.7 `regaut01`): handled as no credentials.
    #[error("authorization scheme is not Digest")]
    UnknownScheme,
    /// A Digest value that breaks the RFC 7616 §3.4 grammar or misses a required field.
    #[error("malformed Digest credentials: {reason}")]
    Malformed {
        /// What is wrong, in a few words.
        reason: &'static str,
    },
}

fn malformed(reason: &'static str) -> DigestError {
    DigestError::Malformed { reason }
}

/// The quality of protection the client used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Qop {
    /// No `qop`: RFC 2069 compatibility, `response = H(HA1:nonce:HA2)`.
    None,
    /// `qop=auth` with the client nonce and the nonce count as sent (8 hex digits).
    Auth {
        /// `nc` exactly as written (it enters the hash as text).
        nc: String,
        /// `nc` as a number, for replay checks (RFC 7616 §3.4).
        count: u32,
        /// `cnonce`.
        cnonce: String,
    },
}

/// Digest credentials from one `Authorization` value (RFC 7616 §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) realm: String,
    pub(crate) nonce: String,
    pub(crate) uri: String,
    pub(crate) response: String,
    /// `None` when `algorithm=` names something we do not support; absent means MD5.
    pub(crate) algorithm: Option<Algorithm>,
    pub(crate) qop: Qop,
    pub(crate) opaque: Option<String>,
}

impl Credentials {
    /// Parses `Digest k=v, k="v", ...`: quote-aware, LWS-tolerant, unknown parameters
    /// ignored (RFC 7616 §3.4 `auth-param`).
    pub(crate) fn parse(value: &str) -> Result<Credentials, DigestError> {
        let value = value.trim();
        let split = value.find(|c: char| c.is_ascii_whitespace());
        let (scheme, rest) = match split {
            Some(i) => (&value[..i], &value[i..]),
            None => (value, ""),
        };
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::UnknownScheme);
        }
        let params = parse_params(rest)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let need = |name: &'static str| get(name).ok_or(malformed(name));
        let algorithm = match get("algorithm") {
            None => Some(Algorithm::Md5),
            Some(token) => Algorithm::from_token(&token),
        };
        let qop = match get("qop") {
            None => Qop::None,
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                let nc = need("nc")?;
                let valid_nc = nc.len() == 8 && nc.bytes().all(|b| b.is_ascii_hexdigit());
                let count = u32::from_str_radix(&nc, 16)
                    .ok()
                    .filter(|_| valid_nc)
                    .ok_or(malformed("nc must be 8 hex digits"))?;
                Qop::Auth {
                    nc,
                    count,
                    cnonce: need("cnonce")?,
                }
            }
            Some(_) => return Err(malformed("only qop=auth is supported")),
        };
        Ok(Credentials {
            username: need("username")?,
            realm: need("realm")?,
            nonce: need("nonce")?,
            uri: need("uri")?,
            response: need("response")?,
            algorithm,
            qop,
            opaque: get("opaque"),
        })
    }

    /// True when `response` matches the one computed from `password` (constant time).
    pub(crate) fn verify(&self, method: &str, password: &str) -> bool {
        let Some(algorithm) = self.algorithm else {
            return false;
        };
        let expected = response(
            algorithm,
            &ha1(algorithm, &self.username, &self.realm, password),
            &self.nonce,
            &self.qop,
            &ha2(algorithm, method, &self.uri),
        );
        constant_time_eq(expected.as_bytes(), self.response.as_bytes())
    }
}

/// Splits `k=v, k="v"` pairs; quoted values are unescaped (RFC 7230 quoted-pair).
fn parse_params(text: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars
            .next_if(|(_, c)| c.is_whitespace() || *c == ',')
            .is_some()
        {}
        let Some(&(start, _)) = chars.peek() else {
            return Ok(out);
        };
        let mut end = start;
        while let Some((i, c)) = chars.next_if(|(_, c)| crate::sip::header::is_token_char(*c)) {
            end = i + c.len_utf8();
        }
        let name = &text[start..end];
        if name.is_empty() {
            return Err(malformed("parameter name is not a token"));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(malformed("parameter without '='"));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '"').is_some() {
            loop {
                match chars.next() {
                    None => return Err(malformed("unterminated quoted string")),
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c)) => value.push(c),
                        None => return Err(malformed("unterminated quoted string")),
                    },
                    Some((_, c)) => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| *c != ',' && !c.is_whitespace()) {
                value.push(c);
            }
            if value.is_empty() {
                return Err(malformed("empty parameter value"));
            }
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == ',').is_none() && chars.peek().is_some() {
            return Err(malformed("missing ',' between parameters"));
        }
        out.push((name.to_string(), value));
    }
}

/// `HA1 = H(username ":" realm ":" passwd)` (RFC 7616 §3.4.2, non-session algorithms).
pub(crate) fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash(&format!("{username}:{realm}:{password}"))
}

/// `HA2 = H(method ":" request-uri)` for `qop=auth` or no qop (RFC 7616 §3.4.3).
pub(crate) fn ha2(algorithm: Algorithm, method: &str, uri: &str) -> String {
    algorithm.hash(&format!("{method}:{uri}"))
}

/// The request-digest (RFC 7616 §3.4.1; RFC 2069 form when there is no qop).
pub(crate) fn response(
    algorithm: Algorithm,
    ha1: &str,
    nonce: &str,
    qop: &Qop,
    ha2: &str,
) -> String {
    match qop {
        Qop::None => algorithm.hash(&format!("{ha1}:{nonce}:{ha2}")),
        Qop::Auth { nc, cnonce, .. } => {
            algorithm.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
        }
    }
}

/// Compares without an early exit, so timing does not leak how many bytes matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One `WWW-Authenticate` value (RFC 7616 §3.3): we always offer `qop="auth"`.
pub(crate) fn challenge(
    realm: &str,
    nonce: &str,
    opaque: &str,
    algorithm: Algorithm,
    stale: bool,
) -> String {
    let mut out = format!(
        "Digest realm=\"{realm}\", nonce=\"{nonce}\", opaque=\"{opaque}\", algorithm={algorithm}, qop=\"auth\""
    );
    if stale {
        out.push_str(", stale=true");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1: the same request with SHA-256 and with MD5.
    const RFC7616: &str = r#"Digest username="Mufasa", realm="http-auth@example.org",
        uri="/dir/index.html", algorithm=ALG, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
        response="RESP", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

    fn rfc7616(alg: &str, resp: &str) -> Credentials {
        Credentials::parse(&RFC7616.replace("ALG", alg).replace("RESP", resp)).unwrap()
    }

    #[test]
    fn rfc7616_vectors() {
        let md5 = "8ca523f5e9506fed4657c9700eebdbec";
        let sha = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";
        let c = rfc7616("MD5", md5);
        assert_eq!(c.algorithm, Some(Algorithm::Md5));
        assert!(c.verify("GET", "Circle of Life"));
        assert!(!c.verify("GET", "circle of life"));
        let c = rfc7616("SHA-256", sha);
        assert_eq!(c.algorithm, Some(Algorithm::Sha256));
        assert_eq!(
            c.opaque.as_deref(),
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        );
        assert!(c.verify("GET", "Circle of Life"));
        assert!(!c.verify("POST", "Circle of Life"));
    }

    /// Computed independently with Python:
    /// ```text
    /// h = lambda s: hashlib.md5(s.encode()).hexdigest()
    /// h(f"{h('seat01:siaga:s3cret-01')}:abcdef0123456789:{h('REGISTER:sip:siaga.local')}")
    ///   == "b79e01d68f11c431494e5f8abb98be61"
    /// s = lambda x: hashlib.sha256(x.encode()).hexdigest()
    /// s(f"{s('seat01:siaga:s3cret-01')}:abcdef0123456789:00000002:0a4f113b:auth:"
    ///   f"{s('REGISTER:sip:siaga.local')}")
    ///   == "bd93fd1595320e69a02bd1631c84ffbe331d7f28ec0ed3aacd1708552b07f8fa"
    /// ```
    #[test]
    fn sip_register_vectors() {
        let c = Credentials::parse(
            "Digest username=\"seat01\",realm=\"siaga\",nonce=\"abcdef0123456789\",\
             uri=\"sip:siaga.local\",response=\"b79e01d68f11c431494e5f8abb98be61\"",
        )
        .unwrap();
        assert_eq!((c.algorithm, &c.qop), (Some(Algorithm::Md5), &Qop::None));
        assert!(c.verify("REGISTER", "s3cret-01"));
        let c = Credentials::parse(
            "digest  username = \"seat01\" , realm=\"siaga\", nonce=\"abcdef0123456789\", \
             uri=\"sip:siaga.local\", algorithm=sha-256, qop=auth, nc=00000002, \
             cnonce=\"0a4f113b\", future-param=\"x, y\", \
             response=\"bd93fd1595320e69a02bd1631c84ffbe331d7f28ec0ed3aacd1708552b07f8fa\"",
        )
        .unwrap();
        assert!(matches!(c.qop, Qop::Auth { count: 2, .. }));
        assert!(c.verify("REGISTER", "s3cret-01"));
    }

    #[test]
    fn unknown_scheme_and_malformed_values() {
        // RFC 4475 §3.3.7 regaut01.
        assert_eq!(
            Credentials::parse("NoOneKnowsThisScheme opaque-data=here"),
            Err(DigestError::UnknownScheme)
        );
        assert_eq!(Credentials::parse(""), Err(DigestError::UnknownScheme));
        for bad in [
            "Digest",
            "Digest username=\"a",
            "Digest username=\"a\" realm=\"b\"",
            "Digest =x",
            "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"r\", qop=auth",
            "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"r\", \
             qop=auth, cnonce=\"c\", nc=1",
            "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"r\", qop=auth-int",
        ] {
            assert!(
                matches!(Credentials::parse(bad), Err(DigestError::Malformed { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn unsupported_algorithm_never_verifies() {
        let c = rfc7616("MD5-sess", "8ca523f5e9506fed4657c9700eebdbec");
        assert_eq!(c.algorithm, None);
        assert!(!c.verify("GET", "Circle of Life"));
    }

    #[test]
    fn challenge_text() {
        assert_eq!(
            challenge("siaga", "n1", "o1", Algorithm::Sha256, true),
            "Digest realm=\"siaga\", nonce=\"n1\", opaque=\"o1\", algorithm=SHA-256, \
             qop=\"auth\", stale=true"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
