//! Automatic call distribution: call-taker seats, the waiting queue, and the ACD that
//! matches them (DESIGN.md call flow steps 4–5).
//!
//! Pure (sans-IO, no clock): every input carries `now`; timers are data
//! ([`Acd::poll_timeout`] / [`Acd::handle_timeout`]). The B2BUA owner drives it.
//!
//! - [`class`]: [`CallClass`], the priority a call waits with.
//! - [`seats`]: one seat's state machine ([`Seat::apply`]).
//! - [`queue`]: waiting calls with ageing.
//! - [`acd`]: [`Acd`], seats × queue.
//! - [`view`]: serializable snapshots for the API.
pub mod acd;
pub mod class;
mod input;
pub mod queue;
pub mod seats;
mod timers;
pub mod view;

#[cfg(test)]
mod tests;

pub use acd::{Acd, AcdError, AcdEvent, AcdSettings, Assignment, SeatSpec, ONLY_SEAT_RETRY};
pub use class::CallClass;
pub use queue::{CallQueue, QueueError, QueuedCall};
pub use seats::{RingOutcome, Seat, SeatState, SeatStateKind, TransitionError};
pub use view::{QueuedView, SeatView};
