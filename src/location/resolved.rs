//! A location resolved to the city's places, as the call record, the console and the seat
//! INVITE (`X-Siaga-Location`) show it.
use std::fmt::Write as _;

use crate::store::{CallUpdate, Timestamp};

use super::fix::Location;
use super::places::{Place, Places};

/// The header siaga adds to a seat's INVITE.
pub const X_SIAGA_LOCATION: &str = "X-Siaga-Location";

/// A location with its place and when siaga received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The position.
    pub location: Location,
    /// Kecamatan / kelurahan, or outside Kota Cirebon.
    pub place: Place,
    /// When siaga received it.
    pub received_at: Timestamp,
}

impl Resolved {
    /// Resolves `location` received at `now`.
    pub fn new(location: Location, places: &Places, now: Timestamp) -> Resolved {
        let place = places.resolve(location.lat, location.lon);
        Resolved {
            location,
            place,
            received_at: now,
        }
    }

    /// When the position was true: the handset's fix time, else when siaga received it.
    pub fn as_of(&self) -> Timestamp {
        self.location.fixed_at.unwrap_or(self.received_at)
    }

    /// Age in whole seconds at `now` (0 for a fix from the handset's future).
    pub fn age_s(&self, now: Timestamp) -> i64 {
        (now.as_ms() - self.as_of().as_ms()).max(0) / 1000
    }

    /// The call record update for this location.
    pub fn record_update(&self) -> CallUpdate {
        let (kecamatan, kelurahan) = self.place.names();
        CallUpdate::Located {
            location: self.location.to_record(),
            kecamatan: Some(kecamatan),
            kelurahan,
        }
    }

    /// The `X-Siaga-Location` value at `now`:
    /// `lat,lon;r=metres;kecamatan=…;kelurahan=…;src=channel/method;age=seconds`.
    /// `r` is rounded up (never claim more precision than given) and left out when unknown;
    /// names that are not SIP tokens are quoted (RFC 3261 §25.1 generic-param).
    pub fn header_value(&self, now: Timestamp) -> String {
        let l = &self.location;
        let mut v = format!("{:.5},{:.5}", l.lat, l.lon);
        if let Some(r) = l.accuracy_m {
            let _ = write!(v, ";r={}", r.ceil().min(1e7) as u64);
        }
        let (kec, kel) = self.place.names();
        let _ = write!(v, ";kecamatan={}", param(&kec));
        if let Some(kel) = kel {
            let _ = write!(v, ";kelurahan={}", param(&kel));
        }
        let _ = write!(v, ";src={};age={}", l.source_label(), self.age_s(now));
        v
    }
}

/// A token as is, anything else as a quoted-string with `"` and `\` escaped and controls
/// dropped (the names come from our own GeoJSON, but a header must never break).
fn param(s: &str) -> String {
    let token = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    if token {
        return s.to_owned();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::fix::{Channel, Method};

    fn at(s: i64) -> Timestamp {
        Timestamp::from_ms(1_764_800_000_000 + s * 1000)
    }

    #[test]
    fn header_inside_and_outside() {
        let places = Places::cirebon().expect("boundaries");
        let mut loc =
            Location::new(-6.71251, 108.55822, Method::Gnss, Channel::AmlHttps).expect("point");
        loc.accuracy_m = Some(12.2);
        loc.fixed_at = Some(at(0));
        let r = Resolved::new(loc, &places, at(3));
        assert_eq!(
            r.header_value(at(15)),
            "-6.71251,108.55822;r=13;kecamatan=Kejaksan;kelurahan=Kejaksan;src=aml_https/gnss;age=15"
        );
        let outside = Location::new(-6.9, 107.6, Method::Cell, Channel::AmlSms).expect("Bandung");
        let r = Resolved::new(outside, &places, at(0));
        assert_eq!(
            r.header_value(at(2)),
            "-6.90000,107.60000;kecamatan=\"outside Kota Cirebon\";src=aml_sms/cell;age=2"
        );
        match r.record_update() {
            CallUpdate::Located {
                kecamatan,
                kelurahan,
                location,
            } => {
                assert_eq!(kecamatan.as_deref(), Some("outside Kota Cirebon"));
                assert_eq!(kelurahan, None);
                assert_eq!(location.source, "aml_sms/cell");
            }
            other => panic!("not a location update: {other:?}"),
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(param("Kejaksan"), "Kejaksan");
        assert_eq!(param("a \"b\\\r"), "\"a \\\"b\\\\\"");
        assert_eq!(param(""), "\"\"");
    }
}
