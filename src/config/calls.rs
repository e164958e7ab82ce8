//! `[routing]` and `[media]`: how calls are queued, rung and relayed.
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// `[routing]`: emergency numbers, the queue and the seats' ring cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Request-URI user parts (or `urn:service:sos` style URNs) that start a call; others get 404.
    #[serde(default = "default_emergency_numbers")]
    pub emergency_numbers: Vec<String>,
    /// Seconds a seat may ring before the next seat is tried.
    #[serde(default = "default_ring_timeout_s")]
    pub ring_timeout_s: u64,
    /// Seconds of wrap-up after each call before the seat is offered calls again.
    #[serde(default = "default_wrap_up_s")]
    pub wrap_up_s: u64,
    /// Seconds a call waits before it goes to `overflow` (when set).
    #[serde(default = "default_max_wait_s")]
    pub max_wait_s: u64,
    /// Seconds of waiting that raise a call by one class (ageing: no call waits forever).
    #[serde(default = "default_ageing_s")]
    pub ageing_s: u64,
    /// Unanswered rings in a row that pause a seat.
    #[serde(default = "default_no_answer_pause")]
    pub no_answer_pause: u32,
    /// SIP URI of another PSAP taking calls that waited `max_wait_s`; empty for none.
    #[serde(default)]
    pub overflow: String,
    /// G.711 µ-law file (8 kHz, raw) played to callers while they wait.
    #[serde(default = "default_queue_prompt")]
    pub queue_prompt: PathBuf,
}

fn default_emergency_numbers() -> Vec<String> {
    ["112", "urn:service:sos", "110", "113", "118", "119"]
        .map(String::from)
        .to_vec()
}
fn default_ring_timeout_s() -> u64 {
    15
}
fn default_wrap_up_s() -> u64 {
    10
}
fn default_max_wait_s() -> u64 {
    120
}
fn default_ageing_s() -> u64 {
    30
}
fn default_no_answer_pause() -> u32 {
    2
}
fn default_queue_prompt() -> PathBuf {
    PathBuf::from("config/prompts/queue.ul")
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            emergency_numbers: default_emergency_numbers(),
            ring_timeout_s: default_ring_timeout_s(),
            wrap_up_s: default_wrap_up_s(),
            max_wait_s: default_max_wait_s(),
            ageing_s: default_ageing_s(),
            no_answer_pause: default_no_answer_pause(),
            overflow: String::new(),
            queue_prompt: default_queue_prompt(),
        }
    }
}

impl RoutingConfig {
    /// `ring_timeout_s` as a duration.
    pub fn ring_timeout(&self) -> Duration {
        Duration::from_secs(self.ring_timeout_s)
    }
    /// `wrap_up_s` as a duration.
    pub fn wrap_up(&self) -> Duration {
        Duration::from_secs(self.wrap_up_s)
    }
    /// `max_wait_s` as a duration.
    pub fn max_wait(&self) -> Duration {
        Duration::from_secs(self.max_wait_s)
    }
    /// `ageing_s` as a duration.
    pub fn ageing(&self) -> Duration {
        Duration::from_secs(self.ageing_s)
    }

    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        if self.emergency_numbers.is_empty() {
            return Err(ValidationError::new(
                "routing.emergency_numbers",
                "at least one number is required",
            ));
        }
        if self.ring_timeout_s == 0 {
            return Err(ValidationError::new(
                "routing.ring_timeout_s",
                "must be at least 1",
            ));
        }
        if self.ageing_s == 0 {
            return Err(ValidationError::new(
                "routing.ageing_s",
                "must be at least 1",
            ));
        }
        if !self.overflow.is_empty() && !self.overflow.starts_with("sip:") {
            return Err(ValidationError::new(
                "routing.overflow",
                format!("{:?} must be a sip: URI or empty", self.overflow),
            ));
        }
        Ok(())
    }
}

/// `[media]`: the RTP relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// Address the RTP sockets bind to and advertise in SDP.
    #[serde(default = "default_media_ip")]
    pub ip: IpAddr,
    /// First RTP port of the pool (even; RTCP uses the next odd port).
    #[serde(default = "default_port_min")]
    pub rtp_port_min: u16,
    /// Last port of the pool.
    #[serde(default = "default_port_max")]
    pub rtp_port_max: u16,
    /// Seconds without RTP on both legs after which a call is ended as dead.
    #[serde(default = "default_inactivity_s")]
    pub inactivity_timeout_s: u64,
}

fn default_media_ip() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}
fn default_port_min() -> u16 {
    30000
}
fn default_port_max() -> u16 {
    39999
}
fn default_inactivity_s() -> u64 {
    60
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            ip: default_media_ip(),
            rtp_port_min: default_port_min(),
            rtp_port_max: default_port_max(),
            inactivity_timeout_s: default_inactivity_s(),
        }
    }
}

impl MediaConfig {
    /// `inactivity_timeout_s` as a duration.
    pub fn inactivity_timeout(&self) -> Duration {
        Duration::from_secs(self.inactivity_timeout_s)
    }

    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        if self.rtp_port_min % 2 != 0 || self.rtp_port_min < 1024 {
            return Err(ValidationError::new(
                "media.rtp_port_min",
                "must be even and at least 1024",
            ));
        }
        // Two legs per call, each an RTP + RTCP pair: at least one call's worth of ports.
        if self.rtp_port_max < self.rtp_port_min.saturating_add(3) {
            return Err(ValidationError::new(
                "media.rtp_port_max",
                "must leave room for at least 4 ports above rtp_port_min",
            ));
        }
        Ok(())
    }
}
