//! The speech model of siaga's screening: Silero VAD v5, 8 kHz branch, as a forward pass in
//! plain Rust (chosen by measurement over tract-onnx, see siaga's BENCHMARKS.md "Speech
//! model"). One call holds a [`SpeechModel`] (≈ 2.3 KB of state); the weights (MIT, Silero
//! Team, `LICENSE-silero-vad`) are shared and compiled in: nothing is loaded at run time.
//!
//! Its own crate so that it is compiled optimised in every profile (siaga's Cargo.toml): the
//! labelled-set tests run thousands of chunks, and unoptimised the dot products are 30× slower.
//!
//! The network, per 32 ms chunk of 256 samples plus the previous chunk's last 32 samples
//! (the context Silero's own wrapper keeps): reflect-pad 32 at the right, an STFT (window 128,
//! hop 64, 65 bins, magnitude) → 4 frames; four conv+ReLU layers (65→128 s1, 128→64 s2,
//! 64→64 s2, 64→128 s1, kernel 3, padding 1) → 1 frame of 128; an LSTM cell (128, state
//! carried across chunks); ReLU, a 1×1 conv to one value, sigmoid = the speech probability.
mod weights;

pub use weights::WeightsError;
use weights::{Conv, Weights, BINS, HIDDEN, HOP, WIN};

/// Samples per chunk (32 ms at 8 kHz), as the model was trained.
pub const CHUNK_SAMPLES: usize = 256;
/// Milliseconds per chunk.
pub const CHUNK_MS: u64 = 32;
/// Samples of the previous chunk fed again in front of each chunk.
const CONTEXT: usize = 32;
/// Reflection padding at the right of the STFT input.
const PAD: usize = 32;
const INPUT: usize = CONTEXT + CHUNK_SAMPLES;
const FRAMES: usize = (INPUT + PAD - WIN) / HOP + 1;

/// Streaming speech probability for one call.
#[derive(Debug, Clone)]
pub struct SpeechModel {
    w: &'static Weights,
    /// Context followed by the chunk being filled.
    input: [f32; INPUT],
    filled: usize,
    h: [f32; HIDDEN],
    c: [f32; HIDDEN],
}

impl SpeechModel {
    /// A model in its initial state (zero context and LSTM state, as Silero's `reset_states`).
    pub fn new() -> Result<SpeechModel, WeightsError> {
        Ok(SpeechModel {
            w: weights::get()?,
            input: [0.0; INPUT],
            filled: 0,
            h: [0.0; HIDDEN],
            c: [0.0; HIDDEN],
        })
    }

    /// The same model in its initial state (no context, no memory), e.g. after a long gap.
    pub fn fresh(&self) -> SpeechModel {
        SpeechModel {
            w: self.w,
            input: [0.0; INPUT],
            filled: 0,
            h: [0.0; HIDDEN],
            c: [0.0; HIDDEN],
        }
    }

    /// Feeds samples (any count); returns the probability of each chunk completed by them.
    pub fn push(&mut self, samples: &[i16], mut out: impl FnMut(f32)) {
        for &s in samples {
            self.input[CONTEXT + self.filled] = f32::from(s) / 32768.0;
            self.filled += 1;
            if self.filled == CHUNK_SAMPLES {
                let p = self.forward();
                self.input.copy_within(INPUT - CONTEXT.., 0);
                self.filled = 0;
                out(p);
            }
        }
    }

    /// One chunk through the network, with the samples already in `input` (in -1..1).
    pub fn chunk(&mut self, chunk: &[f32; CHUNK_SAMPLES]) -> f32 {
        self.input[CONTEXT..].copy_from_slice(chunk);
        let p = self.forward();
        self.input.copy_within(INPUT - CONTEXT.., 0);
        self.filled = 0;
        p
    }

    fn forward(&mut self) -> f32 {
        let w = self.w;
        // STFT magnitude, time-major [frame][bin].
        let mut padded = [0.0f32; INPUT + PAD];
        padded[..INPUT].copy_from_slice(&self.input);
        for i in 0..PAD {
            padded[INPUT + i] = self.input[INPUT - 2 - i];
        }
        let mut mag = [[0.0f32; BINS]; FRAMES];
        for (t, row) in mag.iter_mut().enumerate() {
            let frame = &padded[t * HOP..t * HOP + WIN];
            for (b, m) in row.iter_mut().enumerate() {
                let re = dot(&w.basis[b * WIN..(b + 1) * WIN], frame);
                let im = dot(&w.basis[(BINS + b) * WIN..(BINS + b + 1) * WIN], frame);
                *m = (re * re + im * im).sqrt();
            }
        }
        let x0: Vec<&[f32]> = mag.iter().map(|r| &r[..]).collect();
        let e0 = conv_relu(&w.enc[0], &x0, 1, FRAMES);
        let e1 = conv_relu(&w.enc[1], &rows(&e0), 2, 2);
        let e2 = conv_relu(&w.enc[2], &rows(&e1), 2, 1);
        let e3 = conv_relu(&w.enc[3], &rows(&e2), 1, 1);
        self.lstm(&e3[0]);
        let hr: [f32; HIDDEN] = self.h.map(|v| v.max(0.0));
        sigmoid(dot(&w.out_w, &hr) + w.out_b)
    }

    fn lstm(&mut self, x: &[f32]) {
        let w = self.w;
        let mut g = [0.0f32; 4 * HIDDEN];
        for (j, gj) in g.iter_mut().enumerate() {
            let r = j * HIDDEN..(j + 1) * HIDDEN;
            *gj = w.bias[j] + dot(&w.w_ih[r.clone()], x) + dot(&w.w_hh[r], &self.h);
        }
        for k in 0..HIDDEN {
            let i = sigmoid(g[k]);
            let f = sigmoid(g[HIDDEN + k]);
            let gg = g[2 * HIDDEN + k].tanh();
            let o = sigmoid(g[3 * HIDDEN + k]);
            self.c[k] = f * self.c[k] + i * gg;
            self.h[k] = o * self.c[k].tanh();
        }
    }
}

fn rows(v: &[Vec<f32>]) -> Vec<&[f32]> {
    v.iter().map(|r| &r[..]).collect()
}

/// Kernel-3, padding-1 convolution + ReLU over time-major input `x[t][in]`, giving `t_out`
/// frames `[t][out]` at `stride`.
fn conv_relu(conv: &Conv, x: &[&[f32]], stride: usize, t_out: usize) -> Vec<Vec<f32>> {
    (0..t_out)
        .map(|t| {
            (0..conv.outputs)
                .map(|o| {
                    let mut acc = conv.b[o];
                    for k in 0..3 {
                        // Input frame t*stride + k - 1 (padding outside).
                        let Some(src) = (t * stride + k).checked_sub(1).and_then(|i| x.get(i))
                        else {
                            continue;
                        };
                        let wk = &conv.w[(o * 3 + k) * conv.inputs..(o * 3 + k + 1) * conv.inputs];
                        acc += dot(wk, src);
                    }
                    acc.max(0.0)
                })
                .collect()
        })
        .collect()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// A dot product with eight partial sums, so that the compiler vectorises it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}
