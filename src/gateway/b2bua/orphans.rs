//! Seat legs that outlive their call: cancelled INVITEs waiting for a final response.

use super::call::SeatLeg;
use super::{Calls, Ctx};
use crate::sip::message::{Message, Method, Response};
use crate::sip::transaction::TxKey;
use tracing::info;

/// At most this many orphaned legs are tracked; each ends with its INVITE transaction.
const MAX_ORPHANS: usize = 10_000;

impl Calls {
    pub(super) fn orphans_insert(&mut self, leg: SeatLeg) {
        if self.orphans.len() < MAX_ORPHANS {
            self.orphans.insert(leg.key.clone(), leg);
        }
    }

    /// A response for an orphaned seat leg. Returns false when `key` is not one.
    pub(super) fn orphan_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &TxKey,
        response: &Response,
    ) -> bool {
        let Some(leg) = self.orphans.get_mut(key) else {
            return false;
        };
        match response.status {
            100 => {}
            101..=199 => leg.on_provisional(ctx),
            200..=299 => {
                let local = self.settings.local;
                let Some(mut leg) = self.orphans.remove(key) else {
                    return true;
                };
                leg.dialog.update_from_response(response);
                let seq = leg.dialog.local_cseq;
                let ack = leg.dialog.request(Method::Ack, local, Some(seq));
                ctx.txns
                    .send_stateless(leg.dialog.peer, Message::Request(ack));
                let bye = leg.dialog.request(Method::Bye, local, None);
                ctx.send_request(leg.dialog.peer, bye);
                info!(seat = %leg.target.name(), "seat answered a call that had ended: ACK and BYE");
            }
            _ => {
                self.orphans.remove(key);
            }
        }
        true
    }

    /// The INVITE transaction of an orphan ended.
    pub(super) fn orphan_done(&mut self, key: &TxKey) -> bool {
        self.orphans.remove(key).is_some()
    }
}

impl Calls {
    /// A transaction ended: forget an orphaned seat leg bound to it.
    pub fn on_terminated(&mut self, key: &TxKey) {
        self.orphan_done(key);
    }
}
