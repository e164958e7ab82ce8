//! SDP (RFC 4566) parsing and the RFC 3264 offer/answer for one G.711 audio stream.
//!
//! The parser is pure and total: any byte string gives a [`SessionDescription`] or an
//! [`SdpError`] that names the line; it accepts CRLF and bare LF line ends (RFC 4566 §5 asks
//! for CRLF but tells parsers to accept LF). Only what the relay needs is kept: origin,
//! connection data, media lines, `rtpmap`, `fmtp`, direction and `ptime`.
use std::net::IpAddr;

mod negotiate;

pub use negotiate::{answer, offer, offer_directed, parse_answer, Codec, Negotiated, SdpOrigin};

/// Longest line text quoted in an error.
const QUOTE_MAX: usize = 80;

/// Why an SDP body was refused. The B2BUA maps every variant to 488 Not Acceptable Here
/// (RFC 3261 §13.3.1.3) except where noted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The body is not UTF-8 (RFC 4566 §5: the charset is ISO 10646 / UTF-8 by default).
    #[error("SDP body is not UTF-8")]
    NotUtf8,
    /// One line does not follow the RFC 4566 §5 grammar.
    #[error("SDP line {line} ({text:?}): {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// The line, cut at 80 characters.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A required line (`v=`, `o=`) is missing.
    #[error("SDP has no {0}= line")]
    Missing(char),
    /// No usable `m=audio` stream with RTP/AVP.
    #[error("SDP offers no RTP/AVP audio stream")]
    NoAudio,
    /// Neither PCMU nor PCMA (RFC 3551 payload types 0 and 8) is offered.
    #[error("SDP offers neither PCMU nor PCMA")]
    NoCommonCodec,
    /// An audio stream has no connection address at session or media level (RFC 4566 §5.7).
    #[error("SDP audio stream has no c= line")]
    NoConnection,
}

/// Media direction attributes (RFC 3264 §5.1, §6.1); `sendrecv` when none is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// `a=sendrecv`.
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The answer to an offered direction (RFC 3264 §6.1): sendonly ↔ recvonly.
    pub fn reversed(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }
    /// True when this side may send media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }
    /// True when this side wants to receive media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
    fn from_attr(attr: &str) -> Option<Direction> {
        Some(match attr {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }
}

/// The `o=` line (RFC 4566 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// `<username>`.
    pub username: String,
    /// `<sess-id>`, kept as text (numeric, but may exceed 64 bits).
    pub session_id: String,
    /// `<sess-version>`.
    pub session_version: String,
    /// `<unicast-address>` (an IP or a host name).
    pub address: String,
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]` (RFC 4566 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written.
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
}

/// One `m=` section (RFC 4566 §5.14) with the attributes we read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, …
    pub media: String,
    /// Transport port; 0 means the stream is rejected or disabled (RFC 3264 §5.1).
    pub port: u16,
    /// `RTP/AVP`, `RTP/SAVP`, …
    pub proto: String,
    /// Format list as written (payload type numbers for RTP).
    pub formats: Vec<String>,
    /// Media-level `c=` address.
    pub connection: Option<IpAddr>,
    /// `a=rtpmap` lines.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp:<pt> <params>` lines.
    pub fmtps: Vec<(u8, String)>,
    /// Media-level direction attribute.
    pub direction: Option<Direction>,
    /// `a=ptime` in milliseconds.
    pub ptime: Option<u32>,
}

impl MediaDescription {
    /// RTP payload types of the format list, in the offerer's order (unparsable ones skipped).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse().ok())
    }
    /// The `rtpmap` of a payload type.
    pub fn rtpmap(&self, payload_type: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == payload_type)
    }
    /// The `fmtp` parameters of a payload type.
    pub fn fmtp(&self, payload_type: u8) -> Option<&str> {
        let found = self.fmtps.iter().find(|(pt, _)| *pt == payload_type);
        found.map(|(_, params)| params.as_str())
    }
    fn is_rtp_audio(&self) -> bool {
        self.media == "audio" && self.proto == "RTP/AVP"
    }
}

/// A parsed SDP body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionDescription {
    /// The `o=` line.
    pub origin: Origin,
    /// Session-level `c=` address.
    pub connection: Option<IpAddr>,
    /// Session-level direction attribute (applies to media without their own, RFC 3264 §5.1).
    pub direction: Option<Direction>,
    /// `m=` sections in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// Parses an SDP body (RFC 4566 §5).
    pub fn parse(body: &[u8]) -> Result<SessionDescription, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
        let mut sd = SessionDescription::default();
        let (mut seen_v, mut seen_o) = (false, false);
        for (index, raw) in text.split('\n').enumerate() {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.is_empty() {
                continue;
            }
            let bad = |reason| malformed(index + 1, line, reason);
            let Some((kind, value)) = line.split_once('=') else {
                return Err(bad("not <type>=<value>"));
            };
            match kind {
                "v" if value == "0" => seen_v = true,
                "v" => return Err(bad("version must be 0")),
                "o" => {
                    sd.origin = parse_origin(value).ok_or_else(|| bad("bad origin"))?;
                    seen_o = true;
                }
                "c" => {
                    let addr = parse_connection(value).ok_or_else(|| bad("bad connection"))?;
                    match sd.media.last_mut() {
                        Some(m) => m.connection = Some(addr),
                        None => sd.connection = Some(addr),
                    }
                }
                "m" => sd
                    .media
                    .push(parse_media(value).ok_or_else(|| bad("bad media"))?),
                "a" => sd.parse_attribute(value).map_err(bad)?,
                k if k.len() == 1 && k.bytes().all(|b| b.is_ascii_lowercase()) => {}
                _ => return Err(bad("type must be one lowercase letter")),
            }
        }
        match (seen_v, seen_o) {
            (false, _) => Err(SdpError::Missing('v')),
            (_, false) => Err(SdpError::Missing('o')),
            _ => Ok(sd),
        }
    }

    /// The first `m=audio` section with RTP/AVP, with its index among the media.
    pub fn audio(&self) -> Option<(usize, &MediaDescription)> {
        self.media
            .iter()
            .enumerate()
            .find(|(_, m)| m.is_rtp_audio())
    }

    /// The connection address of a media section (media level first, RFC 4566 §5.7).
    pub fn connection_of(&self, media: &MediaDescription) -> Option<IpAddr> {
        media.connection.or(self.connection)
    }

    /// The effective direction of a media section.
    pub fn direction_of(&self, media: &MediaDescription) -> Direction {
        media
            .direction
            .or(self.direction)
            .unwrap_or(Direction::SendRecv)
    }

    fn parse_attribute(&mut self, value: &str) -> Result<(), &'static str> {
        let (name, arg) = value.split_once(':').unwrap_or((value, ""));
        if let Some(dir) = Direction::from_attr(name) {
            match self.media.last_mut() {
                Some(m) => m.direction = Some(dir),
                None => self.direction = Some(dir),
            }
            return Ok(());
        }
        let Some(m) = self.media.last_mut() else {
            return Ok(()); // other session-level attributes are not needed
        };
        match name {
            "rtpmap" => m.rtpmaps.push(parse_rtpmap(arg).ok_or("bad rtpmap")?),
            "fmtp" => {
                let (pt, params) = arg.split_once(' ').ok_or("bad fmtp")?;
                let pt = pt.parse().map_err(|_| "bad fmtp payload type")?;
                m.fmtps.push((pt, params.trim().to_owned()));
            }
            "ptime" => m.ptime = Some(arg.trim().parse().map_err(|_| "bad ptime")?),
            _ => {}
        }
        Ok(())
    }
}

fn malformed(line: usize, text: &str, reason: &'static str) -> SdpError {
    SdpError::Malformed {
        line,
        text: text.chars().take(QUOTE_MAX).collect(),
        reason,
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
fn parse_origin(value: &str) -> Option<Origin> {
    let f: Vec<&str> = value.split_ascii_whitespace().collect();
    let [username, id, version, "IN", "IP4" | "IP6", address] = f.as_slice() else {
        return None;
    };
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(id) && numeric(version)).then(|| Origin {
        username: (*username).to_owned(),
        session_id: (*id).to_owned(),
        session_version: (*version).to_owned(),
        address: (*address).to_owned(),
    })
}

/// `c=IN IP4 <addr>[/ttl]` or `c=IN IP6 <addr>`; the address family must match.
fn parse_connection(value: &str) -> Option<IpAddr> {
    let f: Vec<&str> = value.split_ascii_whitespace().collect();
    let ["IN", family, address] = f.as_slice() else {
        return None;
    };
    let address = address.split('/').next()?;
    let ip: IpAddr = address.parse().ok()?;
    match (*family, ip) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Some(ip),
        _ => None,
    }
}

/// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...`.
fn parse_media(value: &str) -> Option<MediaDescription> {
    let mut f = value.split_ascii_whitespace();
    let media = f.next()?.to_owned();
    let port = f.next()?.split('/').next()?.parse().ok()?;
    let proto = f.next()?.to_owned();
    let formats: Vec<String> = f.map(str::to_owned).collect();
    (!formats.is_empty()).then_some(MediaDescription {
        media,
        port,
        proto,
        formats,
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        direction: None,
        ptime: None,
    })
}

/// `<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`.
fn parse_rtpmap(arg: &str) -> Option<RtpMap> {
    let (pt, rest) = arg.split_once(' ')?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next()?.to_owned();
    let clock_rate = parts.next()?.parse().ok()?;
    Some(RtpMap {
        payload_type: pt.parse().ok()?,
        encoding,
        clock_rate,
    })
}

#[cfg(test)]
mod tests;
