//! The weights of Silero VAD v5's 8 kHz branch (MIT, `../LICENSE-silero-vad`),
//! extracted once from `silero_vad.onnx` (PyPI `silero-vad` 5.1.2) by
//! `scripts/silero/extract.py` and compiled in: nothing is read or downloaded at run time.
//!
//! The blob is `SIL8`, u32 version, then little-endian f32 tensors in the script's order. At
//! load the convolution kernels are re-laid out as `[out][tap][in]` so that every tap of every
//! output is one contiguous dot product over the input channels.
use std::sync::OnceLock;

static BLOB: &[u8] = include_bytes!("../silero_v5_8k.bin");

/// Window of the model's STFT (samples) and its hop.
pub(crate) const WIN: usize = 128;
pub(crate) const HOP: usize = 64;
/// Frequency bins of the STFT (`WIN / 2 + 1`).
pub(crate) const BINS: usize = 65;
/// Width of the LSTM.
pub(crate) const HIDDEN: usize = 128;

/// Why the compiled-in weights could not be used (a build fault; screening then fails open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    /// The blob does not start with `SIL8` version 1.
    #[error("speech model weights: bad header")]
    Header,
    /// The blob is not as long as the tensors it must hold.
    #[error("speech model weights: {0} bytes where {1} were expected")]
    Length(usize, usize),
}

/// A 1-D convolution, kernel 3, padding 1.
#[derive(Debug)]
pub(crate) struct Conv {
    pub(crate) inputs: usize,
    pub(crate) outputs: usize,
    /// `[out][tap][in]`.
    pub(crate) w: Vec<f32>,
    pub(crate) b: Vec<f32>,
}

/// All the tensors of the 8 kHz branch.
#[derive(Debug)]
pub(crate) struct Weights {
    /// `[2 * BINS][WIN]`: real rows then imaginary rows (the windowed DFT basis).
    pub(crate) basis: Vec<f32>,
    pub(crate) enc: [Conv; 4],
    /// `[4 * HIDDEN][HIDDEN]` each, PyTorch gate order i, f, g, o.
    pub(crate) w_ih: Vec<f32>,
    pub(crate) w_hh: Vec<f32>,
    /// `b_ih + b_hh`.
    pub(crate) bias: Vec<f32>,
    pub(crate) out_w: Vec<f32>,
    pub(crate) out_b: f32,
}

/// Little-endian f32 values, read in order (the length was checked before).
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Vec<f32> {
        let (head, rest) = self.bytes.split_at(4 * n);
        self.bytes = rest;
        head.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

/// Sizes of the tensors, in the blob's order.
const CONVS: [(usize, usize); 4] = [(BINS, 128), (128, 64), (64, 64), (64, 128)];

fn expected_floats() -> usize {
    let convs: usize = CONVS.iter().map(|&(i, o)| o * i * 3 + o).sum();
    2 * BINS * WIN + convs + 2 * 4 * HIDDEN * HIDDEN + 2 * 4 * HIDDEN + HIDDEN + 1
}

fn conv(r: &mut Reader<'_>, inputs: usize, outputs: usize) -> Conv {
    let raw = r.take(outputs * inputs * 3);
    let mut w = vec![0.0; raw.len()];
    for o in 0..outputs {
        for c in 0..inputs {
            for k in 0..3 {
                w[(o * 3 + k) * inputs + c] = raw[(o * inputs + c) * 3 + k];
            }
        }
    }
    Conv {
        inputs,
        outputs,
        w,
        b: r.take(outputs),
    }
}

/// Parses a weights blob.
pub(crate) fn parse(blob: &[u8]) -> Result<Weights, WeightsError> {
    if blob.len() < 8 || &blob[..4] != b"SIL8" || blob[4..8] != 1u32.to_le_bytes() {
        return Err(WeightsError::Header);
    }
    let want = 8 + 4 * expected_floats();
    if blob.len() != want {
        return Err(WeightsError::Length(blob.len(), want));
    }
    let mut r = Reader { bytes: &blob[8..] };
    let basis = r.take(2 * BINS * WIN);
    let enc = CONVS.map(|(i, o)| conv(&mut r, i, o));
    let w_ih = r.take(4 * HIDDEN * HIDDEN);
    let w_hh = r.take(4 * HIDDEN * HIDDEN);
    let b_ih = r.take(4 * HIDDEN);
    let b_hh = r.take(4 * HIDDEN);
    let bias = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
    let out_w = r.take(HIDDEN);
    let out_b = r.take(1)[0];
    Ok(Weights {
        basis,
        enc,
        w_ih,
        w_hh,
        bias,
        out_w,
        out_b,
    })
}

/// The compiled-in weights, parsed once per process.
pub(crate) fn get() -> Result<&'static Weights, WeightsError> {
    static CELL: OnceLock<Result<Weights, WeightsError>> = OnceLock::new();
    CELL.get_or_init(|| parse(BLOB)).as_ref().map_err(|e| *e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_blob_parses_and_damage_is_an_error() {
        let w = get().expect("weights");
        assert_eq!(w.basis.len(), 2 * BINS * WIN);
        assert_eq!(w.enc[3].outputs, HIDDEN);
        assert!(matches!(parse(b"SIL8"), Err(WeightsError::Header)));
        let short = &BLOB[..BLOB.len() - 4];
        assert!(matches!(parse(short), Err(WeightsError::Length(..))));
    }
}
