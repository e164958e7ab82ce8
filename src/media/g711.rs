//! G.711 companding (ITU-T Rec. G.711, 1988): µ-law (PCMU, RTP payload type 0) and A-law
//! (PCMA, payload type 8), each 8 bits a sample at 8 kHz (RFC 3551 §4.5.14).
//!
//! The segment/mantissa arithmetic follows the G.711 encoding tables (Table 1a/1b for A-law,
//! Table 2a/2b for µ-law): linear samples are 16-bit two's complement here; A-law works on the
//! 13 most significant bits and µ-law on 14 plus the bias of 0x84 (33 in 14-bit units).

/// µ-law bias added before the segment search (G.711 Table 2, "132").
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude µ-law can represent before the bias is added.
const ULAW_CLIP: i32 = 32_635;
/// Upper ends of the eight A-law segments, on the 13-bit magnitude.
const ALAW_SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// Decodes one µ-law byte to a 16-bit linear sample.
pub fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    // magnitude ≤ 32124, so it always fits.
    let sample = if u & 0x80 != 0 { -magnitude } else { magnitude };
    sample as i16
}

/// Encodes a 16-bit linear sample as µ-law (clipped at ±32635).
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut pcm = i32::from(sample);
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0
    };
    pcm = pcm.min(ULAW_CLIP) + ULAW_BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && pcm & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (pcm >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Decodes one A-law byte to a 16-bit linear sample.
pub fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let segment = (a & 0x70) >> 4;
    let mut magnitude = i32::from(a & 0x0F) << 4;
    magnitude += match segment {
        0 => 8,
        _ => 0x108,
    };
    if segment > 1 {
        magnitude <<= segment - 1;
    }
    // magnitude ≤ 32256, so it always fits.
    let sample = if a & 0x80 != 0 { magnitude } else { -magnitude };
    sample as i16
}

/// Encodes a 16-bit linear sample as A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = i32::from(sample) >> 3;
    let mask: u8 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let Some(segment) = ALAW_SEG_END.iter().position(|&end| pcm <= end) else {
        return 0x7F ^ mask;
    };
    let shift = if segment < 2 { 1 } else { segment };
    let value = ((segment as i32) << 4) | ((pcm >> shift) & 0x0F);
    (value as u8) ^ mask
}

/// Transcodes one µ-law byte to A-law through the linear value (G.711 §3/§4 decode then encode).
pub fn ulaw_to_alaw(u: u8) -> u8 {
    ULAW_TO_ALAW[usize::from(u)]
}

/// Transcodes a whole µ-law buffer to A-law.
pub fn ulaw_buf_to_alaw(ulaw: &[u8]) -> Vec<u8> {
    ulaw.iter().map(|&u| ulaw_to_alaw(u)).collect()
}

/// µ-law → A-law lookup, built once from the two codecs above.
static ULAW_TO_ALAW: std::sync::LazyLock<[u8; 256]> = std::sync::LazyLock::new(|| {
    let mut table = [0u8; 256];
    for (u, slot) in table.iter_mut().enumerate() {
        *slot = linear_to_alaw(ulaw_to_linear(u as u8));
    }
    table
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        assert_eq!(ulaw_to_linear(0xFF), 0); // +0
        assert_eq!(ulaw_to_linear(0x7F), 0); // −0
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        assert_eq!(ulaw_to_linear(0xFE), 8);
        assert_eq!(ulaw_to_linear(0xEF), 132); // segment 1, mantissa 0
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_ulaw(-1), 0x7F);
    }

    #[test]
    fn alaw_known_values() {
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32_256);
        assert_eq!(alaw_to_linear(0x2A), -32_256);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "A-law {code:#04x}"
            );
            if code != 0x7F {
                // µ-law has two zeros; −0 (0x7F) re-encodes as +0 (0xFF).
                assert_eq!(
                    linear_to_ulaw(ulaw_to_linear(code)),
                    code,
                    "µ-law {code:#04x}"
                );
            }
        }
    }

    #[test]
    fn ulaw_to_alaw_keeps_level_and_sign() {
        assert_eq!(ulaw_to_alaw(0xFF), 0xD5);
        assert_eq!(ulaw_to_alaw(0x80), 0xAA);
        assert_eq!(ulaw_to_alaw(0x00), 0x2A);
        for u in 0..=255u8 {
            let (lu, la) = (
                i32::from(ulaw_to_linear(u)),
                i32::from(alaw_to_linear(ulaw_to_alaw(u))),
            );
            // A-law steps are at most 1024 apart at the top segment; half a step of error.
            assert!((lu - la).abs() <= 512, "{u:#04x}: {lu} vs {la}");
            assert!(lu == 0 || lu.signum() == la.signum(), "{u:#04x}");
        }
    }
}
