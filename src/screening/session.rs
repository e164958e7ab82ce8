//! The screening state machine of one call (design step 3).
//!
//! ```text
//!  new(now) ──► Listening { until: now + listen }
//!                 │ speech decided ─────────────────────────────► Done(Speaking)
//!                 │ any key (help key ► SilentNeedsHelp) ───────► Done(..)
//!                 │ until: speech heard at all ─────────────────► Done(Speaking)
//!                 ▼ until: nothing   [action: PlayPress5Prompt]
//!              AwaitingKey { until: now + press5 }
//!                 │ speech / key ───────────────────────────────► Done(Speaking | SilentNeedsHelp)
//!                 ▼ until: nothing
//!              Done(Ghost)
//!  hang_up() in any open state ► Done(HungUp);  fault() ► Done(Unscreened(fault))
//! ```
//!
//! Safety rule: once any speech stretch or any key has been seen the outcome can no longer
//! be `Ghost` — not even through a fault (that gives `Unscreened`, which is queued).
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
            Outcome::Ghost => "ghost",
            Outcome::HungUp => "hung_up",
            Outcome::Unscreened(_) => "unscreened",
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
        if det.heard_speech() {
            return self.finish(now, Outcome::Speaking);
        }
        match self.state {
            State::Listening { .. } => {
                self.state = State::AwaitingKey {
                    until: now + self.settings.press5_window(),
                };
                self.actions.push_back(Action::PlayPress5Prompt);
            }
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
