//! Bindings out and back in across a restart (issue 9 item 6). The registrar stays pure and
//! knows no store: the gateway exports the live bindings, keeps them wherever it likes with a
//! wall-clock expiry, and restores them into the next registrar.

use super::bindings::{Binding, MAX_CONTACTS_PER_SEAT};
use super::Registrar;
use std::time::Instant;

impl Registrar {
    /// Every live binding at `now`, with its seat, in seat order.
    pub fn export_bindings(&self, now: Instant) -> Vec<(String, Binding)> {
        let mut out: Vec<(String, Binding)> = self
            .bindings
            .seats()
            .flat_map(|(seat, list)| {
                list.iter()
                    .filter(|b| b.expires_at > now)
                    .map(|b| (seat.clone(), b.clone()))
            })
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1.contact).cmp(&(&b.0, &b.1.contact)));
        out
    }

    /// Puts back a binding saved before a restart. Refused (false) when the seat is no
    /// longer configured, the binding has lapsed, the same contact is bound already, or the
    /// seat has its maximum of contacts. The seat is then probed like any fresh binding.
    pub fn restore_binding(&mut self, now: Instant, seat: &str, binding: Binding) -> bool {
        if binding.expires_at <= now || !self.passwords.contains_key(seat) {
            return false;
        }
        let list = self.bindings.by_seat.entry(seat.to_string()).or_default();
        if list.len() >= MAX_CONTACTS_PER_SEAT || list.iter().any(|b| b.contact == binding.contact)
        {
            return false;
        }
        list.push(binding);
        let current = self.bindings.current(now, seat);
        self.qualify.sync(now, seat, &current);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::registrar::{RegistrarSettings, SeatCredential, SeatState};
    use std::time::Duration;

    fn registrar() -> Registrar {
        Registrar::new(RegistrarSettings {
            seats: vec![SeatCredential {
                name: "seat1".into(),
                password: "pw".into(),
                allow_from: Vec::new(),
            }],
            ..RegistrarSettings::default()
        })
    }

    fn binding(now: Instant, secs: u64) -> Binding {
        Binding {
            contact: "sip:seat1@127.0.0.1:5099".into(),
            expires_at: now + Duration::from_secs(secs),
            q: None,
            call_id: "reg-1".into(),
            cseq: 3,
            source: "127.0.0.1:5099".parse().unwrap(),
        }
    }

    #[test]
    fn a_restored_binding_is_exported_routed_and_refused_when_stale_or_unknown() {
        let now = Instant::now();
        let mut old = registrar();
        assert!(old.restore_binding(now, "seat1", binding(now, 300)));
        let saved = old.export_bindings(now);
        assert_eq!(saved.len(), 1);
        let mut new = registrar();
        let (seat, b) = saved[0].clone();
        assert!(new.restore_binding(now, &seat, b.clone()));
        assert!(!new.restore_binding(now, &seat, b), "same contact twice");
        assert_eq!(new.contacts_for(now, "seat1").len(), 1);
        assert_ne!(new.seats(now)[0].state, SeatState::Offline);
        assert!(
            !new.restore_binding(now, "gone", binding(now, 300)),
            "unknown seat"
        );
        assert!(
            !registrar().restore_binding(now, "seat1", binding(now, 0)),
            "lapsed"
        );
        assert!(new
            .export_bindings(now + Duration::from_secs(301))
            .is_empty());
    }
}
