//! [`RoutingControl`] for the running gateway: views come from the driver's snapshot (a
//! short sync lock), supervisor commands go to the driver task over a channel, which owns
//! the ACD; the HTTP layer never touches call internals (STYLE.md habit 14).

use super::RoutingControl;
use crate::routing::{AcdError, QueuedView, SeatView};
use crate::sip::server::{Control, Snapshot};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a supervisor command may wait for the driver before the API gives up.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// The API's handle on the running driver.
#[derive(Debug, Clone)]
pub struct DriverHandle {
    snapshot: Arc<Mutex<Snapshot>>,
    control: mpsc::Sender<Control>,
}

impl DriverHandle {
    /// A handle over the driver's snapshot and command channel.
    pub fn new(snapshot: Arc<Mutex<Snapshot>>, control: mpsc::Sender<Control>) -> DriverHandle {
        DriverHandle { snapshot, control }
    }

    fn command(
        &self,
        make: impl FnOnce(std::sync::mpsc::SyncSender<Result<(), AcdError>>) -> Control,
    ) -> Result<(), AcdError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.control
            .try_send(make(reply))
            .map_err(|_| AcdError::Unavailable)?;
        // The driver answers within one loop turn; block this worker only that long.
        tokio::task::block_in_place(|| answer.recv_timeout(COMMAND_TIMEOUT))
            .unwrap_or(Err(AcdError::Unavailable))
    }
}

impl RoutingControl for DriverHandle {
    fn seats(&self) -> Vec<SeatView> {
        self.snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .acd_seats
            .clone()
    }

    fn queue(&self) -> Vec<QueuedView> {
        self.snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .queue
            .clone()
    }

    fn pause(&self, seat: &str, reason: &str) -> Result<(), AcdError> {
        self.command(|reply| Control::Pause {
            seat: seat.to_string(),
            reason: reason.to_string(),
            reply,
        })
    }

    fn resume(&self, seat: &str) -> Result<(), AcdError> {
        self.command(|reply| Control::Resume {
            seat: seat.to_string(),
            reply,
        })
    }

    /// The driver task owns the receiving end: closed when it has ended.
    fn alive(&self) -> bool {
        !self.control.is_closed()
    }
}
