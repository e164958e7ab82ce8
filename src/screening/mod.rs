//! Screening of the caller's audio (issue 4): voice activity, DTMF, the listen / press-5
//! state machine, caller history and the explainable risk score. All pure.
pub mod spectrum;
pub mod vad;

#[cfg(test)]
mod tune;
