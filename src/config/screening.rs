//! `[screening]`: the listen / press-5 windows and what happens to a ghost call.
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// What a ghost call (no speech, no key in both windows) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GhostAction {
    /// Thank the caller and hang up (recorded as ghost).
    EndPolitely,
    /// Queue at the lowest class (when seats are idle it still reaches a human).
    QueueLowest,
}

/// `[screening]`: caller audio analysis before the call is queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningConfig {
    /// Screen calls at all; when off every call is queued unscreened.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Milliseconds of listening after the greeting before the press-5 prompt.
    #[serde(default = "default_listen_ms")]
    pub listen_window_ms: u64,
    /// Milliseconds to wait for speech or a key after the press-5 prompt starts.
    #[serde(default = "default_press5_ms")]
    pub press5_window_ms: u64,
    /// Milliseconds one run of speech probability must last to decide "speaking" (issue 8:
    /// 200 ms, not a blip).
    #[serde(default = "default_min_speech_ms")]
    pub min_speech_ms: u64,
    /// The key a silent caller presses for help ("0"-"9", "*", "#").
    #[serde(default = "default_help_key")]
    pub help_key: String,
    /// `end_politely` or `queue_lowest`.
    #[serde(default = "default_ghost_action")]
    pub ghost_action: GhostAction,
    /// G.711 µ-law file (8 kHz, raw) played when the call is answered.
    #[serde(default = "default_greeting")]
    pub greeting_prompt: PathBuf,
    /// G.711 µ-law file played when only silence or noise was heard.
    #[serde(default = "default_press5")]
    pub press5_prompt: PathBuf,
    /// Days of dispositions read from the caller's history.
    #[serde(default = "default_history_days")]
    pub history_days: u32,
    /// Folder of the screening audio kept per call (what screening heard, G.711 µ-law).
    #[serde(default = "default_audio_dir")]
    pub audio_dir: PathBuf,
    /// Days the screening audio of a call is kept (0 = not kept).
    #[serde(default = "default_audio_retention_days")]
    pub audio_retention_days: u32,
}

fn default_audio_dir() -> PathBuf {
    PathBuf::from("data/screening-audio")
}
fn default_audio_retention_days() -> u32 {
    30
}

fn default_enabled() -> bool {
    true
}
fn default_listen_ms() -> u64 {
    4000
}
fn default_press5_ms() -> u64 {
    8000
}
fn default_min_speech_ms() -> u64 {
    200
}
fn default_help_key() -> String {
    "5".to_owned()
}
fn default_ghost_action() -> GhostAction {
    GhostAction::EndPolitely
}
fn default_greeting() -> PathBuf {
    PathBuf::from("config/prompts/greeting.ul")
}
fn default_press5() -> PathBuf {
    PathBuf::from("config/prompts/press5.ul")
}
fn default_history_days() -> u32 {
    30
}

impl Default for ScreeningConfig {
    fn default() -> Self {
        ScreeningConfig {
            enabled: default_enabled(),
            listen_window_ms: default_listen_ms(),
            press5_window_ms: default_press5_ms(),
            min_speech_ms: default_min_speech_ms(),
            audio_dir: default_audio_dir(),
            audio_retention_days: default_audio_retention_days(),
            help_key: default_help_key(),
            ghost_action: default_ghost_action(),
            greeting_prompt: default_greeting(),
            press5_prompt: default_press5(),
            history_days: default_history_days(),
        }
    }
}

impl ScreeningConfig {
    /// Where the screening audio of each call is kept, and for how long.
    pub fn audio_store(&self) -> crate::screening::audio::AudioStore {
        crate::screening::audio::AudioStore::new(&self.audio_dir, self.audio_retention_days)
    }

    /// `listen_window_ms` as a duration.
    pub fn listen_window(&self) -> Duration {
        Duration::from_millis(self.listen_window_ms)
    }
    /// `press5_window_ms` as a duration.
    pub fn press5_window(&self) -> Duration {
        Duration::from_millis(self.press5_window_ms)
    }
    /// The help key as a character.
    pub fn help_key(&self) -> char {
        self.help_key.chars().next().unwrap_or('5')
    }

    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        let mut chars = self.help_key.chars();
        let ok = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#');
        if !ok {
            return Err(ValidationError::new(
                "screening.help_key",
                format!("{:?} must be one key: 0-9, * or #", self.help_key),
            ));
        }
        if self.listen_window_ms == 0 || self.listen_window_ms > 60_000 {
            return Err(ValidationError::new(
                "screening.listen_window_ms",
                "must be 1..=60000",
            ));
        }
        if self.press5_window_ms > 60_000 {
            return Err(ValidationError::new(
                "screening.press5_window_ms",
                "must be at most 60000",
            ));
        }
        if self.min_speech_ms < 20 || self.min_speech_ms > 1000 {
            return Err(ValidationError::new(
                "screening.min_speech_ms",
                "must be 20..=1000 (one run of speech probability)",
            ));
        }
        Ok(())
    }
}
