use std::time::{Duration, Instant};

use super::*;

/// A PCMU packet: V=2, no padding/extension/CSRC.
pub(crate) fn packet(seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

#[test]
fn parses_a_pcmu_packet() {
    let mut p = packet(1000, 160_000, 0x5350_4545, &[0xff; 160]);
    p[1] |= 0x80; // marker
    let h = RtpHeaderInfo::parse(&p).unwrap();
    assert!(h.marker);
    assert_eq!(
        (h.payload_type, h.sequence, h.timestamp),
        (0, 1000, 160_000)
    );
    assert_eq!(h.ssrc, 0x5350_4545);
    assert_eq!((h.payload_offset, h.payload_len), (12, 160));
    assert_eq!(h.payload(&p).len(), 160);
}

#[test]
fn csrc_extension_and_padding_are_skipped() {
    // CC=1, X=1, P=1: 12 + 4 (CSRC) + 4 (ext header) + 4 (ext) + 3 payload + 1 pad count.
    let mut p = vec![0xb1, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 9];
    p.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0xaa, 0xbb, 0xcc, 1]);
    let h = RtpHeaderInfo::parse(&p).unwrap();
    assert_eq!(
        (h.payload_type, h.payload_offset, h.payload_len),
        (8, 24, 3)
    );
    assert_eq!(h.payload(&p), [0xaa, 0xbb, 0xcc]);
}

#[test]
fn malformed_packets_are_errors() {
    let good = packet(1, 2, 3, &[0; 4]);
    let mut v1 = good.clone();
    v1[0] = 0x40;
    let mut csrc_past_end = good.clone();
    csrc_past_end[0] = 0x8f; // 15 CSRCs announced
    let mut ext_past_end = good.clone();
    ext_past_end[0] = 0x90;
    ext_past_end.truncate(14);
    let mut pad_zero = good.clone();
    pad_zero[0] = 0xa0;
    *pad_zero.last_mut().unwrap() = 0;
    let mut pad_big = good.clone();
    pad_big[0] = 0xa0;
    *pad_big.last_mut().unwrap() = 200;
    assert_eq!(
        RtpHeaderInfo::parse(&good[..11]),
        Err(RtpError::TooShort(11))
    );
    assert_eq!(RtpHeaderInfo::parse(&v1), Err(RtpError::Version(1)));
    assert_eq!(
        RtpHeaderInfo::parse(&csrc_past_end),
        Err(RtpError::Truncated)
    );
    assert_eq!(
        RtpHeaderInfo::parse(&ext_past_end),
        Err(RtpError::Truncated)
    );
    assert!(RtpHeaderInfo::parse(&pad_zero).is_err());
    assert_eq!(RtpHeaderInfo::parse(&pad_big), Err(RtpError::Padding(200)));
    for len in 0..good.len() {
        let _ = RtpHeaderInfo::parse(&good[..len]);
    }
}

#[test]
fn rtcp_is_recognised_and_checked() {
    // RR with no report blocks: V=2, PT=201, length 1 (8 bytes).
    let rr = [0x80, 201, 0, 1, 0xde, 0xad, 0xbe, 0xef];
    assert!(is_rtcp(&rr));
    assert_eq!(check_rtcp(&rr), Ok(0xdead_beef));
    let mut compound = rr.to_vec();
    compound.extend_from_slice(&[0x81, 202, 0, 1, 0, 0, 0, 1]);
    assert!(check_rtcp(&compound).is_ok());
    assert_eq!(check_rtcp(&compound[..12]), Err(RtpError::RtcpLength));
    assert!(!is_rtcp(&packet(1, 2, 3, &[])));
    let mut pt_200_rtp = packet(1, 2, 3, &[]);
    pt_200_rtp[1] = 0x80 | 72; // marker + PT 72 = 200: RTCP by RFC 5761 §4
    assert!(is_rtcp(&pt_200_rtp));
    assert!(!is_rtcp(&[0x80]));
    assert_eq!(
        check_rtcp(&[0x40, 200, 0, 1, 0, 0, 0, 0]),
        Err(RtpError::Version(1))
    );
}

fn feed(stats: &mut ReceiveStats, t0: Instant, seqs: &[(u16, u64)], ssrc: u32) {
    for &(seq, at_ms) in seqs {
        let ts = u32::from(seq).wrapping_mul(160);
        let p = packet(seq, ts, ssrc, &[0; 160]);
        let h = RtpHeaderInfo::parse(&p).unwrap();
        stats.on_packet(t0 + Duration::from_millis(at_ms), &h, G711_CLOCK_RATE);
    }
}

#[test]
fn loss_counts_skipped_sequence_numbers() {
    let (t0, mut s) = (Instant::now(), ReceiveStats::default());
    // 0..=9 without 3, 4 and 7: 10 expected, 7 received.
    let seqs: Vec<(u16, u64)> = [0, 1, 2, 5, 6, 8, 9]
        .iter()
        .map(|&q| (q, u64::from(q) * 20))
        .collect();
    feed(&mut s, t0, &seqs, 1);
    assert_eq!((s.packets, s.expected(), s.lost()), (7, 10, 3));
    // A late packet reduces the loss (A.1: reordered packets count as received).
    feed(&mut s, t0, &[(4, 200)], 1);
    assert_eq!(s.lost(), 2);
    assert_eq!(s.bytes, 8 * 160);
}

#[test]
fn sequence_wrap_extends_with_cycles() {
    let (t0, mut s) = (Instant::now(), ReceiveStats::default());
    let seqs: Vec<(u16, u64)> = (0..20u16)
        .map(|i| (65_530u16.wrapping_add(i), u64::from(i) * 20))
        .collect();
    feed(&mut s, t0, &seqs, 7);
    assert_eq!((s.expected(), s.lost()), (20, 0));
}

#[test]
fn jitter_is_zero_for_perfect_pacing_and_follows_a8() {
    let (t0, mut s) = (Instant::now(), ReceiveStats::default());
    let seqs: Vec<(u16, u64)> = (0..50u16).map(|i| (i, u64::from(i) * 20)).collect();
    feed(&mut s, t0, &seqs, 1);
    assert!(s.jitter() < 1e-6, "{}", s.jitter());
    // One packet 10 ms late (80 timestamp units): J = 80/16 = 5, then the next packet on
    // time differs by 80 again: J = 5 + (80 − 5)/16.
    feed(&mut s, t0, &[(50, 1010), (51, 1020)], 1);
    let expected = 5.0 + (80.0 - 5.0) / 16.0;
    assert!((s.jitter() - expected).abs() < 1e-3, "{}", s.jitter());
    assert!((s.jitter_ms(G711_CLOCK_RATE) - expected / 8.0).abs() < 1e-3);
}

#[test]
fn ssrc_change_restarts_sequence_keeps_totals() {
    let (t0, mut s) = (Instant::now(), ReceiveStats::default());
    feed(&mut s, t0, &[(10, 0), (11, 20), (13, 40)], 1);
    feed(&mut s, t0, &[(5000, 60), (5001, 80)], 2);
    assert_eq!((s.ssrc(), s.ssrc_changes, s.packets), (Some(2), 1, 5));
    assert_eq!((s.expected(), s.lost()), (6, 1));
}

#[test]
fn big_jump_restarts_after_two_sequential_packets() {
    let (t0, mut s) = (Instant::now(), ReceiveStats::default());
    feed(&mut s, t0, &[(1, 0), (2, 20), (40_000, 40)], 1);
    assert_eq!(s.expected(), 2, "a lone jump is ignored");
    feed(&mut s, t0, &[(40_001, 60), (40_002, 80)], 1);
    assert_eq!((s.expected(), s.lost()), (2, 0));
}
