//! Bytes → [`Message`]: start line, header lines (folding, compact names, comma lists) and
//! a body framed by Content-Length (RFC 3261 §7, §18.3, §20.14).
//!
//! Parsing is pure: a complete message in, a typed message or a typed error out. Whether
//! bytes are complete is the framer's business ([`super::framing`]). When a request's
//! start line or body is bad but its header lines could be read, the error keeps those
//! headers so the gateway can still answer 400/505 (RFC 3261 §8.2 needs Via, From, To,
//! Call-ID and CSeq to address a response).

use super::header::{is_token, split_list};
use super::message::{Header, Headers, Message, Method, Request, Response};

/// How the message was delimited: a whole UDP datagram, or one frame cut from a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// UDP: the datagram is the message; without Content-Length the body runs to its end
    /// (RFC 3261 §18.3), and bytes after the declared body are ignored (RFC 4475 §3.1.1.8).
    Datagram,
    /// TCP: Content-Length is mandatory (§18.3) and the frame holds exactly head + body.
    Stream,
}

/// What is wrong with the bytes, phrased so it can be sent as a reason phrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Nothing but whitespace.
    #[error("empty message")]
    Empty,
    /// No empty line after the headers.
    #[error("no empty line after the headers")]
    HeadNotTerminated,
    /// The head is not UTF-8 (RFC 3261 §7.3.1: header values are UTF-8).
    #[error("message head is not UTF-8")]
    HeadNotUtf8,
    /// The Request-Line or Status-Line does not follow the grammar.
    #[error("bad start line: {0}")]
    BadStartLine(&'static str),
    /// A SIP version other than 2.0 (RFC 3261 §8.2.2 → 505).
    #[error("unsupported SIP version {0}")]
    BadVersion(String),
    /// A header line without a colon or with a non-token name.
    #[error("bad header line: {0}")]
    BadHeaderLine(&'static str),
    /// A comma list with an empty element or an unterminated quoted string.
    #[error("bad {0} header: empty list element or unterminated quote")]
    BadList(String),
    /// Content-Length that is not a non-negative integer.
    #[error("bad Content-Length header")]
    BadContentLength,
    /// More than one Content-Length (RFC 4475 §3.3.9: framing would be ambiguous).
    #[error("multiple Content-Length headers")]
    MultipleContentLength,
    /// Content-Length larger than the bytes received (RFC 4475 §3.1.2.2).
    #[error("Content-Length {declared} larger than the {available}-byte body")]
    BodyTooShort {
        /// The declared length.
        declared: usize,
        /// The bytes after the head.
        available: usize,
    },
    /// Stream transports need Content-Length (RFC 3261 §18.3).
    #[error("Content-Length is required on stream transports")]
    MissingContentLength,
}

/// A parse failure, with the request headers when they could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// For a request whose header lines were readable: those headers, to address a reply.
    pub request_headers: Option<Box<Headers>>,
}

impl From<ParseErrorKind> for ParseError {
    fn from(kind: ParseErrorKind) -> ParseError {
        ParseError {
            kind,
            request_headers: None,
        }
    }
}

/// RFC 3261 §7.3.3 compact forms (and the registered ones from later RFCs).
const COMPACT: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("e", "Content-Encoding"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("f", "From"),
    ("s", "Subject"),
    ("k", "Supported"),
    ("t", "To"),
    ("v", "Via"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("b", "Referred-By"),
    ("u", "Allow-Events"),
    ("x", "Session-Expires"),
];

/// Headers whose canonical spelling we restore (case-insensitive match on input).
const CANONICAL: &[&str] = &[
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Error-Info",
    "Event",
    "Expires",
    "From",
    "Geolocation",
    "In-Reply-To",
    "Max-Forwards",
    "Min-Expires",
    "Min-SE",
    "MIME-Version",
    "Organization",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Path",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "Reason",
    "Record-Route",
    "Refer-To",
    "Referred-By",
    "Reply-To",
    "Require",
    "Retry-After",
    "Route",
    "RSeq",
    "RAck",
    "Server",
    "Service-Route",
    "Session-Expires",
    "Subject",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
];

/// Headers that carry comma-separated lists and are split one value per entry (§7.3.1).
const LIST_HEADERS: &[&str] = &[
    "Via",
    "Contact",
    "Route",
    "Record-Route",
    "Path",
    "Service-Route",
    "Allow",
    "Supported",
    "Require",
    "Proxy-Require",
    "Unsupported",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Allow-Events",
    "Content-Encoding",
    "Content-Language",
    "P-Asserted-Identity",
];

/// Parses one complete message.
pub fn parse(bytes: &[u8], framing: Framing) -> Result<Message, ParseError> {
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .ok_or(ParseErrorKind::Empty)?;
    let bytes = &bytes[start..];
    let (lines, body_at) = match split_head(bytes, false) {
        Err(ParseErrorKind::HeadNotTerminated) if framing == Framing::Datagram => {
            // A datagram is complete: read what is there so the request can be answered.
            let (lines, _) = split_head(bytes, true)?;
            let headers = lines.split_first().map(|(_, rest)| read_headers(rest).0);
            let is_request = lines.first().is_some_and(|l| !l.starts_with("SIP/"));
            return Err(ParseError {
                kind: ParseErrorKind::HeadNotTerminated,
                request_headers: headers.filter(|_| is_request).map(Box::new),
            });
        }
        other => other?,
    };
    let (start_line, header_lines) = lines.split_first().ok_or(ParseErrorKind::Empty)?;
    let is_request = !start_line.starts_with("SIP/");
    let (headers, fault) = read_headers(header_lines);
    let with_headers = |kind: ParseErrorKind, headers: Option<Headers>| ParseError {
        kind,
        request_headers: if is_request {
            headers.map(Box::new)
        } else {
            None
        },
    };
    if let Some(kind) = fault {
        return Err(with_headers(kind, Some(headers)));
    }
    let body = frame_body(&headers, &bytes[body_at..], framing)
        .map_err(|kind| with_headers(kind, Some(headers.clone())))?;
    let mut headers = headers;
    headers.remove("Content-Length");
    if is_request {
        let (method, uri) =
            parse_request_line(start_line).map_err(|k| with_headers(k, Some(headers.clone())))?;
        Ok(Message::Request(Request {
            method,
            uri,
            headers,
            body,
        }))
    } else {
        let (status, reason) = parse_status_line(start_line)?;
        Ok(Message::Response(Response {
            status,
            reason,
            headers,
            body,
        }))
    }
}

/// Splits the head into unfolded lines (CRLF, or bare LF leniently) and finds where the
/// body starts. A line starting with SP/HT continues the previous one (§7.3.1 folding).
/// With `to_end`, the end of the bytes ends the head (salvage of an unterminated datagram).
fn split_head(bytes: &[u8], to_end: bool) -> Result<(Vec<String>, usize), ParseErrorKind> {
    let mut lines: Vec<String> = Vec::new();
    let mut at = 0;
    loop {
        let rel = match bytes[at..].iter().position(|&b| b == b'\n') {
            Some(rel) => rel,
            None if to_end && at < bytes.len() => bytes.len() - at,
            None if to_end => return Ok((lines, at)),
            None => return Err(ParseErrorKind::HeadNotTerminated),
        };
        let mut line = &bytes[at..at + rel];
        at = (at + rel + 1).min(bytes.len());
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        if line.is_empty() {
            return Ok((lines, at));
        }
        let text = std::str::from_utf8(line).map_err(|_| ParseErrorKind::HeadNotUtf8)?;
        let continues_header = text.starts_with([' ', '\t']) && lines.len() > 1;
        match lines.last_mut() {
            Some(previous) if continues_header => {
                previous.truncate(previous.trim_end().len());
                previous.push(' ');
                previous.push_str(text.trim_start());
            }
            _ => lines.push(text.to_string()),
        }
    }
}

fn canonical_name(raw: &str) -> String {
    if raw.len() == 1 {
        if let Some((_, long)) = COMPACT.iter().find(|(c, _)| c.eq_ignore_ascii_case(raw)) {
            return (*long).to_string();
        }
    }
    CANONICAL
        .iter()
        .find(|name| name.eq_ignore_ascii_case(raw))
        .map_or_else(|| raw.to_string(), |name| (*name).to_string())
}

/// Reads header lines. A bad line does not stop the reading: the first fault is returned
/// beside the headers that could be read, so a request can still be answered with 400.
fn read_headers(lines: &[String]) -> (Headers, Option<ParseErrorKind>) {
    let mut headers = Vec::with_capacity(lines.len() + 4);
    let mut fault = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            fault.get_or_insert(ParseErrorKind::BadHeaderLine("no colon"));
            continue;
        };
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            fault.get_or_insert(ParseErrorKind::BadHeaderLine("header name is not a token"));
            continue;
        }
        let name = canonical_name(name);
        let value = value.trim_matches([' ', '\t']);
        let items = if LIST_HEADERS.contains(&name.as_str()) && !value.is_empty() {
            split_list(value)
        } else {
            Some(vec![value])
        };
        match items {
            Some(items) => headers.extend(items.into_iter().map(|item| Header {
                name: name.clone(),
                value: item.to_string(),
            })),
            None => {
                fault.get_or_insert_with(|| ParseErrorKind::BadList(name.clone()));
                headers.push(Header {
                    name,
                    value: value.to_string(),
                });
            }
        }
    }
    (Headers(headers), fault)
}

fn frame_body(headers: &Headers, rest: &[u8], framing: Framing) -> Result<Vec<u8>, ParseErrorKind> {
    let declared = match headers.count("Content-Length") {
        0 => None,
        1 => {
            let text = headers.get("Content-Length").unwrap_or_default();
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 9 {
                return Err(ParseErrorKind::BadContentLength);
            }
            Some(
                text.parse::<usize>()
                    .map_err(|_| ParseErrorKind::BadContentLength)?,
            )
        }
        _ => return Err(ParseErrorKind::MultipleContentLength),
    };
    match (declared, framing) {
        (Some(n), _) if n > rest.len() => Err(ParseErrorKind::BodyTooShort {
            declared: n,
            available: rest.len(),
        }),
        (Some(n), _) => Ok(rest[..n].to_vec()),
        (None, Framing::Datagram) => Ok(rest.to_vec()),
        (None, Framing::Stream) => Err(ParseErrorKind::MissingContentLength),
    }
}

/// `Method SP Request-URI SP SIP-Version` with single spaces (§7.1, §25.1).
fn parse_request_line(line: &str) -> Result<(Method, String), ParseErrorKind> {
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.iter().any(|p| p.is_empty()) || line.contains('\t') {
        return Err(ParseErrorKind::BadStartLine(
            "extra whitespace in Request-Line",
        ));
    }
    let [method, uri, version] = parts[..] else {
        return Err(ParseErrorKind::BadStartLine(
            "Request-Line must be 'Method SP Request-URI SP SIP/2.0'",
        ));
    };
    check_version(version)?;
    if !is_token(method) {
        return Err(ParseErrorKind::BadStartLine("method is not a token"));
    }
    Ok((Method::from_token(method), uri.to_string()))
}

fn check_version(version: &str) -> Result<(), ParseErrorKind> {
    if version.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    // `get` rather than indexing: the bytes may be any UTF-8 (found by fuzzing).
    let number = version
        .get(..4)
        .filter(|prefix| prefix.eq_ignore_ascii_case("SIP/"))
        .and_then(|_| version.get(4..));
    let looks_like_version = number.is_some_and(|n| {
        n.split('.').count() == 2
            && n.split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    });
    if looks_like_version {
        Err(ParseErrorKind::BadVersion(version.to_string()))
    } else {
        Err(ParseErrorKind::BadStartLine("bad SIP-Version"))
    }
}

/// `SIP-Version SP Status-Code SP Reason-Phrase` (§7.2); the phrase may be empty.
fn parse_status_line(line: &str) -> Result<(u16, String), ParseErrorKind> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    check_version(version)?;
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().ok_or(ParseErrorKind::BadStartLine(
        "Status-Line needs a reason phrase",
    ))?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseErrorKind::BadStartLine("status code must be 3 digits"));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| ParseErrorKind::BadStartLine("status code must be 3 digits"))?;
    if !(100..=699).contains(&status) {
        return Err(ParseErrorKind::BadStartLine("status code out of range"));
    }
    Ok((status, reason.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(bytes: &[u8]) -> Request {
        match parse(bytes, Framing::Datagram).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("expected a request"),
        }
    }

    #[test]
    fn folding_compact_forms_and_lists() {
        let r = request(
            b"INVITE sip:112@gw SIP/2.0\r\nv: SIP/2.0/UDP a;branch=z9hG4bK1,\r\n SIP/2.0/UDP b;branch=z9hG4bK2\r\n\
              f: <sip:x@y>;tag=1\r\nt: <sip:112@gw>\r\ni: c1\r\nCSeq: 1\r\n INVITE\r\nl: 3\r\n\r\nabcdef",
        );
        assert_eq!(r.headers.count("Via"), 2);
        assert_eq!(r.headers.get("CSeq"), Some("1 INVITE"));
        assert_eq!(r.headers.get("Call-ID"), Some("c1"));
        assert_eq!(r.body, b"abc");
        assert_eq!(r.headers.get("Content-Length"), None);
    }

    #[test]
    fn framing_errors() {
        let short = parse(
            b"OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\nContent-Length: 9\r\n\r\nab",
            Framing::Datagram,
        );
        let err = short.unwrap_err();
        assert!(matches!(
            err.kind,
            ParseErrorKind::BodyTooShort {
                declared: 9,
                available: 2
            }
        ));
        assert_eq!(err.request_headers.unwrap().get("Call-ID"), Some("x"));
        let missing = parse(b"OPTIONS sip:a SIP/2.0\r\n\r\n", Framing::Stream).unwrap_err();
        assert_eq!(missing.kind, ParseErrorKind::MissingContentLength);
        let unterminated = parse(b"OPTIONS sip:a SIP/2.0\r\nTo: x", Framing::Datagram).unwrap_err();
        assert_eq!(unterminated.kind, ParseErrorKind::HeadNotTerminated);
        assert_eq!(
            parse(b"\r\n\r\n", Framing::Datagram).unwrap_err().kind,
            ParseErrorKind::Empty
        );
    }

    #[test]
    fn start_line_errors() {
        let version = parse(b"OPTIONS sip:a SIP/7.0\r\n\r\n", Framing::Datagram).unwrap_err();
        assert_eq!(version.kind, ParseErrorKind::BadVersion("SIP/7.0".into()));
        let spaces = parse(b"OPTIONS  sip:a SIP/2.0\r\n\r\n", Framing::Datagram).unwrap_err();
        assert!(matches!(spaces.kind, ParseErrorKind::BadStartLine(_)));
        let utf8 = parse(
            "OPTIONS sip:a SIP\u{96fb}/2.0\r\n\r\n".as_bytes(),
            Framing::Datagram,
        );
        assert!(matches!(
            utf8.unwrap_err().kind,
            ParseErrorKind::BadStartLine(_)
        ));
        let code = parse(b"SIP/2.0 4294967301 Huge\r\n\r\n", Framing::Datagram).unwrap_err();
        assert!(matches!(code.kind, ParseErrorKind::BadStartLine(_)));
        let noreason = parse(b"SIP/2.0 100 \r\n\r\n", Framing::Datagram).unwrap();
        assert!(
            matches!(noreason, Message::Response(ref r) if r.status == 100 && r.reason.is_empty())
        );
    }

    #[test]
    fn round_trip_is_stable() {
        let first = parse(b"INVITE sip:112@gw SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b\r\nl: 2\r\n\r\n\x00\xff", Framing::Datagram).unwrap();
        let second = parse(&first.to_bytes(), Framing::Stream).unwrap();
        assert_eq!(first, second);
    }
}
