//! [`ScreeningTap`]: the media relay's [`CallerAudioTap`] feeding per-call detectors.
//!
//! The relay calls [`CallerAudioTap::on_caller_rtp`] for every caller packet; the call's driver
//! calls [`ScreeningTap::start`] when screening begins, [`ScreeningTap::with`] on its timer to
//! run the session against the detector, and [`ScreeningTap::take`] at the end. A detector that
//! panics is dropped and marked faulted, so the driver queues the call unscreened (fail open);
//! a packet for a call not started is ignored.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::detector::CallDetector;
use crate::media::rtp::RtpHeaderInfo;
use crate::media::tap::CallerAudioTap;

/// A detector slot: running, or failed.
#[derive(Debug)]
enum Slot {
    Running(Box<CallDetector>),
    Faulted,
}

/// Per-call detectors keyed by call id.
#[derive(Debug)]
pub struct ScreeningTap {
    calls: DashMap<String, Slot>,
    min_speech: Duration,
}

/// Why [`ScreeningTap::take`] or [`ScreeningTap::with`] has no detector to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TapError {
    /// `start` was never called for this call (or it was taken already).
    #[error("no screening detector for this call")]
    Unknown,
    /// The detector failed; queue the call unscreened.
    #[error("the screening detector failed")]
    Faulted,
}

impl ScreeningTap {
    /// A tap with no calls; `min_speech` is passed to every detector.
    pub fn new(min_speech: Duration) -> ScreeningTap {
        ScreeningTap {
            calls: DashMap::new(),
            min_speech,
        }
    }

    /// Starts analysing `call_id` at `now` (replaces an earlier detector of the same call).
    pub fn start(&self, call_id: &str, now: Instant) {
        let det = CallDetector::new(now, self.min_speech);
        self.calls
            .insert(call_id.to_owned(), Slot::Running(Box::new(det)));
    }

    /// Runs `f` on the call's detector after filling missing RTP up to `now`.
    pub fn with<R>(
        &self,
        call_id: &str,
        now: Instant,
        f: impl FnOnce(&CallDetector) -> R,
    ) -> Result<R, TapError> {
        let mut slot = self.calls.get_mut(call_id).ok_or(TapError::Unknown)?;
        let Slot::Running(det) = &mut *slot else {
            return Err(TapError::Faulted);
        };
        match catch_unwind(AssertUnwindSafe(|| {
            det.on_silence_tick(now);
            f(det)
        })) {
            Ok(r) => Ok(r),
            Err(_) => {
                *slot = Slot::Faulted;
                Err(TapError::Faulted)
            }
        }
    }

    /// Removes and returns the call's detector.
    pub fn take(&self, call_id: &str) -> Result<CallDetector, TapError> {
        match self.calls.remove(call_id) {
            Some((_, Slot::Running(det))) => Ok(*det),
            Some((_, Slot::Faulted)) => Err(TapError::Faulted),
            None => Err(TapError::Unknown),
        }
    }

    /// Calls being screened.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// No call is being screened.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

impl CallerAudioTap for ScreeningTap {
    fn on_caller_rtp(&self, call_id: &str, now: Instant, header: &RtpHeaderInfo, payload: &[u8]) {
        let Some(mut slot) = self.calls.get_mut(call_id) else {
            return;
        };
        if let Slot::Running(det) = &mut *slot {
            let ok = catch_unwind(AssertUnwindSafe(|| det.on_rtp(now, header, payload))).is_ok();
            if !ok {
                *slot = Slot::Faulted;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(seq: u16) -> RtpHeaderInfo {
        RtpHeaderInfo {
            marker: false,
            payload_type: 0,
            sequence: seq,
            timestamp: u32::from(seq) * 160,
            ssrc: 1,
            payload_offset: 12,
            payload_len: 160,
        }
    }

    #[test]
    fn feeds_started_calls_only_and_takes_once() {
        let tap = ScreeningTap::new(Duration::from_millis(160));
        let t0 = Instant::now();
        tap.on_caller_rtp("nobody", t0, &header(0), &[0xFF; 160]);
        assert!(tap.is_empty());
        tap.start("c1", t0);
        for i in 0..10u16 {
            let now = t0 + Duration::from_millis(20 * u64::from(i));
            tap.on_caller_rtp("c1", now, &header(i), &[0xFF; 160]);
        }
        let ms = tap.with("c1", t0 + Duration::from_millis(200), |d| d.audio_ms());
        assert_eq!(ms, Ok(200));
        assert!(tap.take("c1").is_ok());
        assert_eq!(tap.take("c1").err(), Some(TapError::Unknown));
    }
}
