//! Caller audio from files, as timed RTP packets: raw µ-law (`.ul`), WAV (PCM16 or µ-law,
//! 8 kHz, or 16 kHz PCM16 decimated by two) and pcap (Ethernet / IPv4 / UDP / RTP, e.g. the
//! SIPp fixtures, with RFC 4733 events). Never panics on any input.
use crate::media::g711::linear_to_ulaw;
use crate::media::rtp::RtpHeaderInfo;

/// One packet with its arrival time (ms from the first) and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedPacket {
    /// Arrival, ms after the first packet.
    pub at_ms: u64,
    /// RTP header fields.
    pub header: RtpHeaderInfo,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// Why a file could not be read as caller audio.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The extension is not .ul, .wav or .pcap.
    #[error("unknown file type {0:?} (expected .ul, .wav or .pcap)")]
    UnknownType(String),
    /// A WAV file we cannot use.
    #[error("WAV: {0}")]
    Wav(&'static str),
    /// A pcap file we cannot use.
    #[error("pcap: {0}")]
    Pcap(&'static str),
    /// A row of a labelled set's `labels.tsv` that cannot be read.
    #[error("{path} line {line}: {reason}")]
    Labels {
        /// The labels file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads `path` by its extension.
pub fn read_file(path: &std::path::Path) -> Result<Vec<TimedPacket>, InputError> {
    let bytes = std::fs::read(path).map_err(|source| InputError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "ul" | "ulaw" | "pcmu" => Ok(from_ulaw(&bytes)),
        "wav" => from_wav(&bytes),
        "pcap" => from_pcap(&bytes),
        other => Err(InputError::UnknownType(other.to_owned())),
    }
}

/// Raw µ-law as 20 ms PCMU packets, 20 ms apart.
pub fn from_ulaw(bytes: &[u8]) -> Vec<TimedPacket> {
    bytes
        .chunks(160)
        .enumerate()
        .map(|(i, chunk)| TimedPacket {
            at_ms: i as u64 * 20,
            header: RtpHeaderInfo {
                marker: i == 0,
                payload_type: 0,
                sequence: i as u16,
                timestamp: (i as u32).wrapping_mul(160),
                ssrc: 0x5349_4147,
                payload_offset: 12,
                payload_len: chunk.len(),
            },
            payload: chunk.to_vec(),
        })
        .collect()
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A RIFF/WAVE file: mono (or the first channel), PCM16 at 8 or 16 kHz, or µ-law at 8 kHz.
pub fn from_wav(b: &[u8]) -> Result<Vec<TimedPacket>, InputError> {
    if b.get(..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
        return Err(InputError::Wav("not a RIFF/WAVE file"));
    }
    let mut at = 12;
    let mut fmt = None;
    while let (Some(id), Some(len)) = (b.get(at..at + 4), u32_at(b, at + 4)) {
        let body_start = at + 8;
        let len = len as usize;
        let body = b
            .get(body_start..body_start.saturating_add(len).min(b.len()))
            .unwrap_or(&[]);
        if id == b"fmt " {
            let tag = u16_at(body, 0).ok_or(InputError::Wav("short fmt chunk"))?;
            let channels = u16_at(body, 2).ok_or(InputError::Wav("short fmt chunk"))?;
            let rate = u32_at(body, 4).ok_or(InputError::Wav("short fmt chunk"))?;
            let bits = u16_at(body, 14).ok_or(InputError::Wav("short fmt chunk"))?;
            fmt = Some((tag, channels.max(1), rate, bits));
        } else if id == b"data" {
            let (tag, channels, rate, bits) = fmt.ok_or(InputError::Wav("data before fmt"))?;
            let ulaw = wav_to_ulaw(body, tag, usize::from(channels), rate, bits)?;
            return Ok(from_ulaw(&ulaw));
        }
        at = body_start.saturating_add(len + (len & 1));
    }
    Err(InputError::Wav("no data chunk"))
}

fn wav_to_ulaw(
    data: &[u8],
    tag: u16,
    channels: usize,
    rate: u32,
    bits: u16,
) -> Result<Vec<u8>, InputError> {
    const PCM: u16 = 1;
    const MULAW: u16 = 7;
    match (tag, bits, rate) {
        (MULAW, 8, 8000) => Ok(data.iter().step_by(channels).copied().collect()),
        (PCM, 16, 8000 | 16000) => {
            let samples: Vec<i16> = data
                .chunks_exact(2 * channels)
                .map(|f| i16::from_le_bytes([f[0], f[1]]))
                .collect();
            let linear: Vec<i16> = if rate == 16000 {
                // Average pairs (a crude low-pass) and keep one of two.
                samples
                    .chunks(2)
                    .map(|p| ((i32::from(p[0]) + i32::from(*p.last().unwrap_or(&p[0]))) / 2) as i16)
                    .collect()
            } else {
                samples
            };
            Ok(linear.into_iter().map(linear_to_ulaw).collect())
        }
        (MULAW | PCM, _, _) => Err(InputError::Wav(
            "need PCM16 at 8000/16000 Hz or µ-law at 8000 Hz",
        )),
        _ => Err(InputError::Wav(
            "unsupported encoding (need PCM16 or µ-law)",
        )),
    }
}

/// A classic pcap file of Ethernet frames: every IPv4/UDP datagram that parses as RTP.
pub fn from_pcap(b: &[u8]) -> Result<Vec<TimedPacket>, InputError> {
    let magic = b.get(..4).ok_or(InputError::Pcap("file too short"))?;
    let (le, nanos) = match magic {
        [0xD4, 0xC3, 0xB2, 0xA1] => (true, false),
        [0xA1, 0xB2, 0xC3, 0xD4] => (false, false),
        [0x4D, 0x3C, 0xB2, 0xA1] => (true, true),
        [0xA1, 0xB2, 0x3C, 0x4D] => (false, true),
        _ => {
            return Err(InputError::Pcap(
                "not a pcap file (pcapng is not supported)",
            ))
        }
    };
    let rd = |at: usize| -> Option<u32> {
        let x: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(x)
        } else {
            u32::from_be_bytes(x)
        })
    };
    let link = rd(20).ok_or(InputError::Pcap("short file header"))?;
    if link != 1 {
        return Err(InputError::Pcap("link type is not Ethernet"));
    }
    let mut out = Vec::new();
    let mut at = 24;
    let mut first_us: Option<u64> = None;
    while let (Some(sec), Some(frac), Some(caplen)) = (rd(at), rd(at + 4), rd(at + 8)) {
        let start = at + 16;
        let end = start.saturating_add(caplen as usize);
        let frame = b
            .get(start..end)
            .ok_or(InputError::Pcap("truncated record"))?;
        at = end;
        let us = u64::from(sec) * 1_000_000 + u64::from(if nanos { frac / 1000 } else { frac });
        let Some(udp) = udp_payload(frame) else {
            continue;
        };
        let Ok(header) = RtpHeaderInfo::parse(udp) else {
            continue;
        };
        let t0 = *first_us.get_or_insert(us);
        out.push(TimedPacket {
            at_ms: us.saturating_sub(t0) / 1000,
            payload: header.payload(udp).to_vec(),
            header,
        });
    }
    if out.is_empty() {
        return Err(InputError::Pcap("no RTP packets in IPv4/UDP"));
    }
    Ok(out)
}

/// Ethernet (optionally one 802.1Q tag) → IPv4 → UDP payload.
fn udp_payload(frame: &[u8]) -> Option<&[u8]> {
    let mut ethertype = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
    let mut ip_at = 14;
    if ethertype == 0x8100 {
        ethertype = u16::from_be_bytes(frame.get(16..18)?.try_into().ok()?);
        ip_at = 18;
    }
    if ethertype != 0x0800 {
        return None;
    }
    let ip = frame.get(ip_at..)?;
    let ihl = usize::from(ip.first()? & 0x0F) * 4;
    if ip.first()? >> 4 != 4 || ihl < 20 || *ip.get(9)? != 17 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
    let ip = ip.get(..total.min(ip.len()))?;
    ip.get(ihl + 8..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(from_wav(b"RIFF").is_err());
        assert!(from_wav(b"RIFF\0\0\0\0WAVEfmt \xff\xff\xff\xff").is_err());
        assert!(from_pcap(&[0xD4, 0xC3, 0xB2, 0xA1]).is_err());
        let mut p = vec![0xD4, 0xC3, 0xB2, 0xA1];
        p.extend_from_slice(&[0; 16]);
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F]);
        assert!(from_pcap(&p).is_err());
        for n in 0..64 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
            let _ = from_wav(&junk);
            let _ = from_pcap(&junk);
        }
    }

    #[test]
    fn wav_pcm16_8k_round_trips_to_ulaw() {
        let mut w = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
        w.extend_from_slice(&[1, 0, 1, 0]);
        w.extend_from_slice(&8000u32.to_le_bytes());
        w.extend_from_slice(&16000u32.to_le_bytes());
        w.extend_from_slice(&[2, 0, 16, 0]);
        w.extend_from_slice(b"data");
        w.extend_from_slice(&640u32.to_le_bytes());
        w.extend_from_slice(&[0; 640]);
        let pkts = from_wav(&w).expect("wav");
        assert_eq!(pkts.len(), 2);
        assert!(pkts.iter().all(|p| p.payload == vec![0xFF; 160]));
    }
}
