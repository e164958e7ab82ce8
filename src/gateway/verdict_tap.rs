//! [`VerdictTap`]: the media relay's caller-audio tap in front of the [`ScreeningTap`], which
//! tells the driver the moment a call's screening can decide (speech heard long enough, a
//! key pressed, or the detector failed) instead of the driver polling every detector 10
//! times a second. A screened caller who speaks is queued within one driver turn of the
//! deciding packet, not up to 100 ms later (the "seat rings within 1.5 s" budget, DESIGN.md).
//!
//! The listen and press-5 windows still end on the B2BUA's own timer (silence has no packet).

use crate::media::rtp::RtpHeaderInfo;
use crate::media::tap::CallerAudioTap;
use crate::screening::{ScreeningTap, TapError};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// "This call's screening can decide now": the call id.
pub type Ready = String;

/// Feeds the screening detectors and sends [`Ready`] for a call whose detector has decided.
#[derive(Debug)]
pub struct VerdictTap {
    inner: Arc<ScreeningTap>,
    ready: mpsc::UnboundedSender<Ready>,
}

impl VerdictTap {
    /// A tap over `inner`, and where the ready calls arrive (the driver's end).
    pub fn new(inner: Arc<ScreeningTap>) -> (VerdictTap, mpsc::UnboundedReceiver<Ready>) {
        let (ready, rx) = mpsc::unbounded_channel();
        (VerdictTap { inner, ready }, rx)
    }
}

impl CallerAudioTap for VerdictTap {
    fn on_caller_rtp(&self, call_id: &str, now: Instant, header: &RtpHeaderInfo, payload: &[u8]) {
        self.inner.on_caller_rtp(call_id, now, header, payload);
        // A call not screened (any more) has no detector: nothing to tell. The B2BUA takes
        // the detector when it decides, so at most the packets of one driver turn repeat
        // the news; a repeat for a decided call is ignored there.
        let decided = self.inner.with(call_id, now, |det| {
            det.speech_decided() || det.digits().next().is_some()
        });
        let tell = match decided {
            Ok(decided) => decided,
            Err(TapError::Faulted) => true,
            Err(_) => false,
        };
        if tell && self.ready.send(call_id.to_string()).is_err() {
            tracing::debug!(call = %call_id, "screening verdict not delivered: the driver has stopped");
        }
    }
}
