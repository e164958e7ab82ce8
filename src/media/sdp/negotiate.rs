//! RFC 3264 offer/answer for one G.711 audio stream plus RFC 4733 telephone-event.
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::{Direction, MediaDescription, SdpError, SessionDescription};

/// The G.711 codecs siaga relays and plays (RFC 3551 §4.5.14, static payload types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Codec {
    /// µ-law, payload type 0.
    Pcmu,
    /// A-law, payload type 8.
    Pcma,
}

impl Codec {
    /// The static payload type (RFC 3551 Table 4).
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }
    /// The encoding name used in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
    /// Both codecs run an 8 kHz RTP clock.
    pub const CLOCK_RATE: u32 = 8000;

    /// The G.711 codec of an offered payload type: by `rtpmap` when present (a dynamic number
    /// may carry PCMU), otherwise by the static number (RFC 3551 §6).
    fn of(media: &MediaDescription, pt: u8) -> Option<Codec> {
        match media.rtpmap(pt) {
            Some(map) if map.clock_rate != Codec::CLOCK_RATE => None,
            Some(map) if map.encoding.eq_ignore_ascii_case("PCMU") => Some(Codec::Pcmu),
            Some(map) if map.encoding.eq_ignore_ascii_case("PCMA") => Some(Codec::Pcma),
            Some(_) => None,
            None => [Codec::Pcmu, Codec::Pcma]
                .into_iter()
                .find(|c| c.payload_type() == pt),
        }
    }
}

/// What offer/answer settled for the audio stream, from our side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The audio codec.
    pub codec: Codec,
    /// Its payload type number as the peer uses it.
    pub payload_type: u8,
    /// The peer's telephone-event payload type, when both sides have it (RFC 4733 §7.1.1).
    pub dtmf_payload_type: Option<u8>,
    /// Where the peer wants RTP; `None` on hold (`c=0.0.0.0`) or when the stream is rejected.
    pub remote_rtp: Option<SocketAddr>,
    /// Our direction: whether we may send to and expect media from the peer.
    pub direction: Direction,
}

/// Our `o=` line state: the session version goes up with every new SDP we send (RFC 3264 §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpOrigin {
    session_id: u64,
    version: u64,
    used: bool,
}

impl SdpOrigin {
    /// A new origin; `session_id` should be unique (e.g. random or an NTP timestamp).
    pub fn new(session_id: u64) -> SdpOrigin {
        SdpOrigin {
            session_id,
            version: session_id,
            used: false,
        }
    }
    /// The session id.
    pub fn session_id(&self) -> u64 {
        self.session_id
    }
    /// The version of the last SDP produced.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// The version for the next SDP: the first keeps the initial one, each later adds one.
    fn next_version(&mut self) -> u64 {
        if self.used {
            self.version = self.version.wrapping_add(1);
        }
        self.used = true;
        self.version
    }
}

/// Answers an offer (RFC 3264 §6): the first of PCMU/PCMA in the offerer's order, the
/// offerer's telephone-event number (RFC 4733 §7.1.1), the reversed direction, every other
/// `m=` line rejected with port 0 (§6: one answer line per offer line, in order).
///
/// An offer with `c=0.0.0.0` is the RFC 2543 hold (RFC 3264 §8.4): the offerer wants nothing
/// sent to it, so we answer as if its `recv` half were absent and keep no remote address.
pub fn answer(
    offer: &SessionDescription,
    local_rtp: SocketAddr,
    origin: &mut SdpOrigin,
) -> Result<(Vec<u8>, Negotiated), SdpError> {
    let (audio_index, audio) = offer.audio().ok_or(SdpError::NoAudio)?;
    let (codec, payload_type) = audio
        .payload_types()
        .find_map(|pt| Codec::of(audio, pt).map(|c| (c, pt)))
        .ok_or(SdpError::NoCommonCodec)?;
    let dtmf = telephone_event(audio);
    let remote_ip = offer.connection_of(audio).ok_or(SdpError::NoConnection)?;
    let mut offered = offer.direction_of(audio);
    if remote_ip.is_unspecified() {
        offered = without_recv(offered);
    }
    let ours = if audio.port == 0 {
        Direction::Inactive
    } else {
        offered.reversed()
    };
    let remote_rtp = (audio.port != 0 && !remote_ip.is_unspecified())
        .then(|| SocketAddr::new(remote_ip, audio.port));
    let mut body = session_header(local_rtp.ip(), origin);
    for (index, media) in offer.media.iter().enumerate() {
        if index == audio_index && audio.port != 0 {
            let pts = (payload_type, dtmf);
            write_audio(&mut body, local_rtp.port(), codec, pts, ours);
        } else {
            write_rejected(&mut body, media);
        }
    }
    let negotiated = Negotiated {
        codec,
        payload_type,
        dtmf_payload_type: dtmf,
        remote_rtp,
        direction: ours,
    };
    Ok((body.into_bytes(), negotiated))
}

/// Our offer to a seat: the codecs in our order (static payload types), telephone-event
/// with `dtmf_payload_type` when given, `sendrecv`.
pub fn offer(
    local_rtp: SocketAddr,
    codecs: &[Codec],
    dtmf_payload_type: Option<u8>,
    origin: &mut SdpOrigin,
) -> Vec<u8> {
    offer_directed(
        local_rtp,
        codecs,
        dtmf_payload_type,
        Direction::SendRecv,
        origin,
    )
}

/// Like [`offer`] with another direction: a B2BUA relaying hold (RFC 3264 §8.4: the holding
/// side offers `sendonly`) offers the other leg what the holding leg offered it.
pub fn offer_directed(
    local_rtp: SocketAddr,
    codecs: &[Codec],
    dtmf_payload_type: Option<u8>,
    direction: Direction,
    origin: &mut SdpOrigin,
) -> Vec<u8> {
    let mut body = session_header(local_rtp.ip(), origin);
    let mut formats: Vec<u8> = codecs.iter().map(|c| c.payload_type()).collect();
    formats.extend(dtmf_payload_type);
    let list: Vec<String> = formats.iter().map(u8::to_string).collect();
    let _ = write!(
        body,
        "m=audio {} RTP/AVP {}\r\n",
        local_rtp.port(),
        list.join(" ")
    );
    for codec in codecs {
        let (pt, name) = (codec.payload_type(), codec.encoding_name());
        let _ = write!(body, "a=rtpmap:{pt} {name}/8000\r\n");
    }
    write_dtmf(&mut body, dtmf_payload_type);
    let _ = write!(body, "a=ptime:20\r\na={}\r\n", direction.as_str());
    body.into_bytes()
}

/// Reads the seat's answer to [`offer`] (RFC 3264 §7): the first answered codec that we
/// offered, telephone-event when answered with the number we offered.
pub fn parse_answer(
    answer: &SessionDescription,
    offered: &[Codec],
    dtmf: Option<u8>,
) -> Result<Negotiated, SdpError> {
    let (_, audio) = answer.audio().ok_or(SdpError::NoAudio)?;
    let (codec, payload_type) = audio
        .payload_types()
        .find_map(|pt| {
            let codec = Codec::of(audio, pt).filter(|c| offered.contains(c));
            codec.map(|c| (c, pt))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let remote_ip = answer.connection_of(audio).ok_or(SdpError::NoConnection)?;
    let mut theirs = answer.direction_of(audio);
    if remote_ip.is_unspecified() {
        theirs = without_recv(theirs);
    }
    let rejected = audio.port == 0;
    Ok(Negotiated {
        codec,
        payload_type,
        dtmf_payload_type: telephone_event(audio).filter(|pt| Some(*pt) == dtmf),
        remote_rtp: (!rejected && !remote_ip.is_unspecified())
            .then(|| SocketAddr::new(remote_ip, audio.port)),
        direction: if rejected {
            Direction::Inactive
        } else {
            theirs.reversed()
        },
    })
}

/// The offered `telephone-event/8000` payload type (RFC 4733 §7.1.1).
fn telephone_event(audio: &MediaDescription) -> Option<u8> {
    audio.payload_types().find(|&pt| {
        audio.rtpmap(pt).is_some_and(|m| {
            m.encoding.eq_ignore_ascii_case("telephone-event") && m.clock_rate == Codec::CLOCK_RATE
        })
    })
}

fn without_recv(direction: Direction) -> Direction {
    match direction {
        Direction::SendRecv => Direction::SendOnly,
        Direction::RecvOnly => Direction::Inactive,
        other => other,
    }
}

fn session_header(ip: IpAddr, origin: &mut SdpOrigin) -> String {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let version = origin.next_version();
    let id = origin.session_id;
    format!(
        "v=0\r\no=siaga {id} {version} IN {family} {ip}\r\ns=siaga\r\n\
         c=IN {family} {ip}\r\nt=0 0\r\n"
    )
}

fn write_audio(
    body: &mut String,
    port: u16,
    codec: Codec,
    (pt, dtmf): (u8, Option<u8>),
    direction: Direction,
) {
    let _ = write!(body, "m=audio {port} RTP/AVP {pt}");
    if let Some(dtmf) = dtmf {
        let _ = write!(body, " {dtmf}");
    }
    let _ = write!(body, "\r\na=rtpmap:{pt} {}/8000\r\n", codec.encoding_name());
    write_dtmf(body, dtmf);
    let _ = write!(body, "a=ptime:20\r\na={}\r\n", direction.as_str());
}

fn write_dtmf(body: &mut String, dtmf: Option<u8>) {
    if let Some(pt) = dtmf {
        let _ = write!(
            body,
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
        );
    }
}

/// A refused stream keeps its media, proto and formats with port 0 (RFC 3264 §6).
fn write_rejected(body: &mut String, media: &MediaDescription) {
    let formats = media.formats.join(" ");
    let _ = write!(body, "m={} 0 {} {formats}\r\n", media.media, media.proto);
}
