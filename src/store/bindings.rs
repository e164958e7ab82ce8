//! Seat registrations kept across restarts (issue 9 item 6): a softphone registers for up to
//! an hour (baresip: about 9 minutes before it refreshes), and a gateway restarted in between
//! must still ring it. The gateway saves the registrar's bindings with their wall-clock
//! expiry and restores the live ones at start.

use super::Timestamp;
use serde::{Deserialize, Serialize};

/// One registered contact of a seat, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredBinding {
    /// Seat name (the AOR user part).
    pub seat: String,
    /// The Contact URI as the seat wrote it.
    pub contact: String,
    /// When the binding lapses unless refreshed (wall clock).
    pub expires_at: Timestamp,
    /// The `q` preference.
    pub q: Option<f32>,
    /// Call-ID of the REGISTER that set it (a refresh must come with a higher CSeq).
    pub call_id: String,
    /// CSeq number of that REGISTER.
    pub cseq: u32,
    /// Where that REGISTER came from (`ip:port`): requests to the seat go there.
    pub source: String,
    /// `udp` or `tcp`.
    pub transport: String,
}
