//! The speech model (crate `siaga-speech-model`: Silero VAD v5, 8 kHz, plain Rust, weights
//! compiled in) re-exported for screening; the check against the original model is here.
pub use siaga_speech_model::{SpeechModel, WeightsError, CHUNK_MS, CHUNK_SAMPLES};

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
