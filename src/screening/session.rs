//! The screening state machine of one call (design step 3).
//!
//! ```text
//!  new(now) ──► Listening { until: now + listen }
//!                 │ speech decided ─────────────────────────────► Done(Speaking)
//!                 │ any key (help key ► SilentNeedsHelp) ───────► Done(..)
//!                 │ model missing ──────────────────────────────► Done(Unscreened(Detector))
//!                 ▼ until: not decided   [action: PlayPress5Prompt]
//!              AwaitingKey { until: now + press5 }
//!                 │ speech decided / key ───────────────────────► Done(Speaking | SilentNeedsHelp)
//!                 │ until: faint speech heard ──────────────────► Done(FaintSpeech)
//!                 ▼ until: nothing
//!              Done(Ghost)
//!  hang_up() in any open state ► Done(HungUp);  fault() ► Done(Unscreened(fault))
//! ```
//!
//! The end of a window never turns what was heard into *speaking* (issue 8: noise that blips
//! must not reach a seat as speech); but a call in which the model heard anything it would
//! call speech at its low threshold is never ended as ghost either: it ends as
//! `FaintSpeech`, queued at the lowest class. Safety rule: a decided run of speech or any key
//! is a human; a fault gives `Unscreened`, which is queued.
use std::collections::VecDeque;
use std::time::Instant;

use serde::Serialize;

use super::detector::CallDetector;
use crate::config::ScreeningConfig;

/// Why screening gave up on a call (it is queued unscreened: fail open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScreeningFault {
    /// The caller's audio could not be decoded (unknown codec, broken packets).
    #[error("caller audio could not be decoded")]
    Decode,
    /// The detector panicked or was missing for this call.
    #[error("screening detector failed")]
    Detector,
    /// A prompt could not be played.
    #[error("prompt could not be played")]
    Prompt,
    /// Screening is turned off.
    #[error("screening is disabled")]
    Disabled,
}

/// How screening ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "fault")]
pub enum Outcome {
    /// Speech (or a key other than the help key): queue as speaking.
    Speaking,
    /// The help key: queue first, flag to the call taker.
    SilentNeedsHelp,
    /// No decided speech, but something the model would call speech at its low threshold:
    /// queued at the lowest class, never ended.
    FaintSpeech,
    /// Nothing but silence or noise through both windows.
    Ghost,
    /// The caller hung up before screening ended.
    HungUp,
    /// Screening failed: queue unscreened.
    Unscreened(ScreeningFault),
}

impl Outcome {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Speaking => "speaking",
            Outcome::SilentNeedsHelp => "silent_needs_help",
            Outcome::FaintSpeech => "faint_speech",
            Outcome::Ghost => "ghost",
            Outcome::HungUp => "hung_up",
            Outcome::Unscreened(_) => "unscreened",
        }
    }
}

impl Outcome {
    /// The class kept in the call record.
    pub fn record_class(self) -> crate::store::ScreeningClass {
        use crate::store::ScreeningClass as C;
        match self {
            Outcome::Speaking => C::Speaking,
            Outcome::SilentNeedsHelp => C::SilentNeedsHelp,
            Outcome::FaintSpeech => C::FaintSpeech,
            Outcome::Ghost => C::Ghost,
            Outcome::HungUp | Outcome::Unscreened(_) => C::Unscreened,
        }
    }
}

/// What the driver must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Play the "press 5 if you need help but cannot speak" prompt now.
    PlayPress5Prompt,
    /// Screening is over.
    Finish(Outcome),
}

/// The state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Listening after the greeting.
    Listening {
        /// End of the listen window.
        until: Instant,
    },
    /// The press-5 prompt is playing or was played.
    AwaitingKey {
        /// End of the press-5 window.
        until: Instant,
    },
    /// Finished.
    Done(Outcome),
}

/// Screening of one call.
#[derive(Debug, Clone)]
pub struct Session {
    settings: ScreeningConfig,
    state: State,
    actions: VecDeque<Action>,
    finished_at: Option<Instant>,
}

impl Session {
    /// Starts listening at `now` (after the greeting, or with it: the driver decides).
    pub fn new(settings: &ScreeningConfig, now: Instant) -> Session {
        let mut s = Session {
            settings: settings.clone(),
            state: State::Listening {
                until: now + settings.listen_window(),
            },
            actions: VecDeque::new(),
            finished_at: None,
        };
        if !settings.enabled {
            s.finish(now, Outcome::Unscreened(ScreeningFault::Disabled));
        }
        s
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The outcome, once done.
    pub fn outcome(&self) -> Option<Outcome> {
        match self.state {
            State::Done(o) => Some(o),
            _ => None,
        }
    }

    /// When the outcome was reached.
    pub fn finished_at(&self) -> Option<Instant> {
        self.finished_at
    }

    /// The next deadline, for the driver's timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Listening { until } | State::AwaitingKey { until } => Some(until),
            State::Done(_) => None,
        }
    }

    /// The next action for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The single transition function: looks at the detector and the clock.
    pub fn update(&mut self, now: Instant, det: &CallDetector) {
        let until = match self.state {
            State::Done(_) => return,
            State::Listening { until } | State::AwaitingKey { until } => until,
        };
        if det.model_fault().is_some() {
            return self.finish(now, Outcome::Unscreened(ScreeningFault::Detector));
        }
        let help = self.settings.help_key();
        let mut digits = det.digits();
        if let Some(first) = digits.next() {
            let pressed_help = first == help || digits.any(|d| d == help);
            // The help key wins even after speech: it is what the caller asked for.
            let outcome = if pressed_help {
                Outcome::SilentNeedsHelp
            } else {
                Outcome::Speaking
            };
            return self.finish(now, outcome);
        }
        if det.speech_decided() {
            return self.finish(now, Outcome::Speaking);
        }
        if now < until {
            return;
        }
        match self.state {
            State::Listening { .. } => {
                self.state = State::AwaitingKey {
                    until: now + self.settings.press5_window(),
                };
                self.actions.push_back(Action::PlayPress5Prompt);
            }
            _ if det.heard_speech() => self.finish(now, Outcome::FaintSpeech),
            _ => self.finish(now, Outcome::Ghost),
        }
    }

    /// The caller hung up.
    pub fn hang_up(&mut self, now: Instant) {
        if !matches!(self.state, State::Done(_)) {
            self.finish(now, Outcome::HungUp);
        }
    }

    /// Something failed: the call is queued unscreened (fail open).
    pub fn fault(&mut self, now: Instant, fault: ScreeningFault) {
        if !matches!(self.state, State::Done(_)) {
            self.finish(now, Outcome::Unscreened(fault));
        }
    }

    fn finish(&mut self, now: Instant, outcome: Outcome) {
        self.state = State::Done(outcome);
        self.finished_at = Some(now);
        self.actions.push_back(Action::Finish(outcome));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::media::rtp::RtpHeaderInfo;

    fn event_packet(det: &mut CallDetector, now: Instant, ts: u32, digit: u8) {
        let h = RtpHeaderInfo {
            marker: true,
            payload_type: 101,
            sequence: 1,
            timestamp: ts,
            ssrc: 1,
            payload_offset: 12,
            payload_len: 4,
        };
        det.on_rtp(now, &h, &[digit, 10, 0, 160]);
    }

    fn drive(session: &mut Session, det: &mut CallDetector, t0: Instant, from_ms: u64, to_ms: u64) {
        for t in (from_ms..=to_ms).step_by(20) {
            let now = t0 + Duration::from_millis(t);
            det.on_silence_tick(now);
            session.update(now, det);
        }
    }

    #[test]
    fn silence_prompts_then_key_five_in_the_press5_window() {
        let cfg = ScreeningConfig::default();
        let t0 = Instant::now();
        let mut s = Session::new(&cfg, t0);
        let mut det = CallDetector::new(t0, Duration::from_millis(160));
        assert_eq!(s.poll_timeout(), Some(t0 + cfg.listen_window()));
        drive(&mut s, &mut det, t0, 0, 4000);
        assert_eq!(s.poll_action(), Some(Action::PlayPress5Prompt));
        assert!(matches!(s.state(), State::AwaitingKey { .. }));
        drive(&mut s, &mut det, t0, 4020, 9000);
        event_packet(&mut det, t0 + Duration::from_millis(9000), 72_000, 5);
        drive(&mut s, &mut det, t0, 9000, 9000);
        assert_eq!(s.outcome(), Some(Outcome::SilentNeedsHelp));
        assert_eq!(
            s.poll_action(),
            Some(Action::Finish(Outcome::SilentNeedsHelp))
        );
    }

    #[test]
    fn another_key_is_speaking_not_ghost() {
        let cfg = ScreeningConfig::default();
        let t0 = Instant::now();
        let mut s = Session::new(&cfg, t0);
        let mut det = CallDetector::new(t0, Duration::from_millis(160));
        event_packet(&mut det, t0, 0, 11); // '#'
        drive(&mut s, &mut det, t0, 0, 20);
        assert_eq!(s.outcome(), Some(Outcome::Speaking));
    }

    #[test]
    fn hang_up_and_faults_end_open_sessions_only() {
        let cfg = ScreeningConfig::default();
        let t0 = Instant::now();
        let mut s = Session::new(&cfg, t0);
        s.fault(t0, ScreeningFault::Decode);
        s.hang_up(t0);
        assert_eq!(
            s.outcome(),
            Some(Outcome::Unscreened(ScreeningFault::Decode))
        );
        let mut s = Session::new(&cfg, t0);
        s.hang_up(t0);
        assert_eq!(s.outcome(), Some(Outcome::HungUp));
        let off = ScreeningConfig {
            enabled: false,
            ..ScreeningConfig::default()
        };
        let s = Session::new(&off, t0);
        assert_eq!(
            s.outcome(),
            Some(Outcome::Unscreened(ScreeningFault::Disabled))
        );
    }

    #[test]
    fn ghost_after_both_windows() {
        let cfg = ScreeningConfig::default();
        let t0 = Instant::now();
        let mut s = Session::new(&cfg, t0);
        let mut det = CallDetector::new(t0, Duration::from_millis(160));
        drive(&mut s, &mut det, t0, 0, 12_000);
        assert_eq!(s.outcome(), Some(Outcome::Ghost));
        assert_eq!(s.poll_timeout(), None);
    }
}
