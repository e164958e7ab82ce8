//! Signal helpers for the VAD: a high-pass biquad and a band analysis of one 20 ms frame over
//! the telephone band (300–3400 Hz, 50 Hz bins, Hann window, the Goertzel recurrence per bin).
use std::sync::OnceLock;

use super::vad::FRAME_SAMPLES;

/// First and last 50 Hz bin analysed (300 Hz .. 3400 Hz).
const FIRST_BIN: usize = 6;
const LAST_BIN: usize = 68;
const NBINS: usize = LAST_BIN - FIRST_BIN + 1;

/// A second-order IIR section (direct form I), RBJ cookbook coefficients.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Biquad {
    b: [f32; 3],
    a: [f32; 2],
    x: [f32; 2],
    y: [f32; 2],
}

impl Biquad {
    /// Butterworth high-pass at 250 Hz for 8 kHz audio (removes 50 Hz hum and its first
    /// harmonics before any feature is measured).
    pub(crate) fn highpass_250hz() -> Biquad {
        let w0 = 2.0 * std::f32::consts::PI * 250.0 / 8000.0;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * std::f32::consts::FRAC_1_SQRT_2);
        let a0 = 1.0 + alpha;
        Biquad {
            b: [
                (1.0 + cos) / 2.0 / a0,
                -(1.0 + cos) / a0,
                (1.0 + cos) / 2.0 / a0,
            ],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    /// Filters one sample.
    pub(crate) fn run(&mut self, x: f32) -> f32 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        // Flush denormals so long silences stay cheap.
        let y = if y.abs() < 1e-20 { 0.0 } else { y };
        self.y = [y, self.y[0]];
        y
    }
}

/// What [`Spectrum::analyse`] returns for one frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bands {
    /// Mean power of the band-limited signal (full-scale sine ≈ 0.5).
    pub(crate) power: f32,
    /// Log band powers (dB) minus their mean: the spectral shape.
    pub(crate) shape: [f32; Spectrum::BANDS],
    /// Share of the band power in the two strongest peaks (each ±1 bin).
    pub(crate) peak_share: f32,
}

struct Tables {
    hann: [f32; FRAME_SAMPLES],
    coef: [f32; NBINS],
    window_energy: f32,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut hann = [0.0; FRAME_SAMPLES];
        for (n, w) in hann.iter_mut().enumerate() {
            let phase = 2.0 * std::f32::consts::PI * n as f32 / FRAME_SAMPLES as f32;
            *w = 0.5 - 0.5 * phase.cos();
        }
        let mut coef = [0.0; NBINS];
        for (i, c) in coef.iter_mut().enumerate() {
            let k = (FIRST_BIN + i) as f32;
            *c = 2.0 * (2.0 * std::f32::consts::PI * k / FRAME_SAMPLES as f32).cos();
        }
        let window_energy = hann.iter().map(|w| w * w).sum();
        Tables {
            hann,
            coef,
            window_energy,
        }
    })
}

/// Band analysis of one frame (stateless apart from a scratch buffer).
#[derive(Debug, Clone)]
pub(crate) struct Spectrum {
    windowed: [f32; FRAME_SAMPLES],
}

impl Spectrum {
    /// Bands of the shape vector.
    pub(crate) const BANDS: usize = 8;

    pub(crate) fn new() -> Spectrum {
        Spectrum {
            windowed: [0.0; FRAME_SAMPLES],
        }
    }

    /// Analyses one frame of exactly [`FRAME_SAMPLES`] samples.
    pub(crate) fn analyse(&mut self, frame: &[f32]) -> Bands {
        let t = tables();
        for ((o, x), w) in self.windowed.iter_mut().zip(frame).zip(&t.hann) {
            *o = x * w;
        }
        // All bins' Goertzel recurrences side by side: independent lanes the compiler
        // vectorises (one bin at a time is a serial dependency chain, about 8x slower).
        let (mut s1, mut s2) = ([0.0f32; NBINS], [0.0f32; NBINS]);
        for &v in &self.windowed {
            for ((a, b), &c) in s1.iter_mut().zip(s2.iter_mut()).zip(&t.coef) {
                let s = v + c * *a - *b;
                *b = *a;
                *a = s;
            }
        }
        let mut bins = [0.0f32; NBINS];
        for (((p, &a), &b), &c) in bins.iter_mut().zip(&s1).zip(&s2).zip(&t.coef) {
            *p = (a * a + b * b - c * a * b).max(0.0);
        }
        let total: f32 = bins.iter().sum();
        let power = 2.0 * total / (FRAME_SAMPLES as f32 * t.window_energy);
        let mut shape = [0.0f32; Self::BANDS];
        for (b, s) in shape.iter_mut().enumerate() {
            let lo = b * NBINS / Self::BANDS;
            let hi = (b + 1) * NBINS / Self::BANDS;
            let sum: f32 = bins[lo..hi].iter().sum();
            *s = 10.0 * (sum + 1e-12).log10();
        }
        let mean = shape.iter().sum::<f32>() / Self::BANDS as f32;
        shape.iter_mut().for_each(|s| *s -= mean);
        let peak_share = if total > 0.0 {
            let first = take_peak(&mut bins);
            let second = take_peak(&mut bins);
            (first + second) / total
        } else {
            0.0
        };
        Bands {
            power,
            shape,
            peak_share,
        }
    }
}

/// Removes the strongest bin and its neighbours from `bins`, returning their sum.
fn take_peak(bins: &mut [f32; NBINS]) -> f32 {
    let mut top = 0;
    for (i, &p) in bins.iter().enumerate() {
        if p > bins[top] {
            top = i;
        }
    }
    let lo = top.saturating_sub(1);
    let hi = (top + 2).min(NBINS);
    let sum = bins[lo..hi].iter().sum();
    bins[lo..hi].iter_mut().for_each(|p| *p = 0.0);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highpass_removes_hum_keeps_voice_band() {
        let gain = |freq: f32| {
            let mut hp = Biquad::highpass_250hz();
            let mut energy = 0.0f32;
            for n in 0..8000 {
                let x = (2.0 * std::f32::consts::PI * freq * n as f32 / 8000.0).sin();
                let y = hp.run(x);
                if n >= 4000 {
                    energy += y * y;
                }
            }
            // RMS relative to the input's (1/√2).
            (2.0 * energy / 4000.0).sqrt()
        };
        assert!(gain(50.0) < 0.05);
        assert!(gain(1000.0) > 0.95);
    }

    #[test]
    fn full_scale_sine_measures_half_power_and_is_one_peak() {
        let frame: Vec<f32> = (0..FRAME_SAMPLES)
            .map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 8000.0).sin())
            .collect();
        let bands = Spectrum::new().analyse(&frame);
        assert!((bands.power - 0.5).abs() < 0.05, "{}", bands.power);
        assert!(bands.peak_share > 0.95);
    }
}
