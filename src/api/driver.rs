//! [`RoutingControl`] for the running gateway: every view and command goes to the driver
//! task through the gateway [`Handle`] (typed commands with a oneshot reply); the HTTP layer
//! never touches call internals (STYLE.md habit 14).

use super::{Reply, RoutingControl};
use crate::gateway::{CommandError, Handle};
use crate::routing::{AcdError, QueuedView, SeatView};

/// A gateway that is stopped or does not answer in time is "routing unavailable" (503).
fn acd_error(err: CommandError) -> AcdError {
    match err {
        CommandError::Acd(err) => err,
        _ => AcdError::Unavailable,
    }
}

impl RoutingControl for Handle {
    fn seats(&self) -> Reply<'_, Result<Vec<SeatView>, AcdError>> {
        Box::pin(async move { Handle::seats(self).await.map_err(acd_error) })
    }

    fn queue(&self) -> Reply<'_, Result<Vec<QueuedView>, AcdError>> {
        Box::pin(async move { Handle::queue(self).await.map_err(acd_error) })
    }

    fn pause<'a>(
        &'a self,
        seat: &'a str,
        reason: &'a str,
    ) -> Reply<'a, Result<SeatView, AcdError>> {
        Box::pin(async move { Handle::pause(self, seat, reason).await.map_err(acd_error) })
    }

    fn resume<'a>(&'a self, seat: &'a str) -> Reply<'a, Result<SeatView, AcdError>> {
        Box::pin(async move { Handle::resume(self, seat).await.map_err(acd_error) })
    }

    /// The driver task owns the receiving end: closed when it has ended.
    fn alive(&self) -> bool {
        self.is_alive()
    }
}
