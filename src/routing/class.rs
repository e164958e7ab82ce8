//! Call classes: the priority a screened call waits with.

use serde::Serialize;

/// The class a call waits in, highest priority first.
///
/// The derived `Ord` is the serving order: `SilentNeedsHelp < Speaking < ... < RepeatPrank`,
/// so the *smallest* class is served first. Screening fills the class in; until it exists
/// every call is [`CallClass::Unscreened`] (fail open: an unscreened call ranks above the
/// classes that screening lowers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallClass {
    /// Silent, but pressed the "I need help" key: served first and flagged to the call taker.
    SilentNeedsHelp,
    /// Speech was heard.
    Speaking,
    /// Not screened (screening off, failed, or not built yet).
    Unscreened,
    /// Screened and judged unlikely to be an emergency (e.g. a ghost queued while seats idle).
    Low,
    /// A caller with a history of prank calls: flagged and lowered, never dropped.
    RepeatPrank,
}

impl CallClass {
    /// Every class, in serving order.
    pub const ALL: [CallClass; 5] = [
        CallClass::SilentNeedsHelp,
        CallClass::Speaking,
        CallClass::Unscreened,
        CallClass::Low,
        CallClass::RepeatPrank,
    ];

    /// 0 for the highest priority, 4 for the lowest.
    pub fn rank(self) -> usize {
        self as usize
    }

    /// The class `steps` above this one, never above [`CallClass::SilentNeedsHelp`] (ageing).
    pub fn raised(self, steps: u64) -> CallClass {
        let steps = usize::try_from(steps).unwrap_or(usize::MAX);
        CallClass::ALL[self.rank().saturating_sub(steps)]
    }

    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            CallClass::SilentNeedsHelp => "silent_needs_help",
            CallClass::Speaking => "speaking",
            CallClass::Unscreened => "unscreened",
            CallClass::Low => "low",
            CallClass::RepeatPrank => "repeat_prank",
        }
    }
}

impl std::fmt::Display for CallClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_serving_order() {
        let mut sorted = CallClass::ALL;
        sorted.reverse();
        sorted.sort();
        assert_eq!(sorted, CallClass::ALL);
        assert!(CallClass::SilentNeedsHelp < CallClass::RepeatPrank);
    }

    #[test]
    fn raising_stops_at_the_top() {
        assert_eq!(CallClass::RepeatPrank.raised(0), CallClass::RepeatPrank);
        assert_eq!(CallClass::RepeatPrank.raised(1), CallClass::Low);
        assert_eq!(CallClass::Low.raised(2), CallClass::Speaking);
        assert_eq!(CallClass::Low.raised(u64::MAX), CallClass::SilentNeedsHelp);
    }

    #[test]
    fn names_match_serde() {
        for class in CallClass::ALL {
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(json, format!("\"{class}\""));
        }
    }
}
