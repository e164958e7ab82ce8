//! The alert a registered device posts (JSON from `assets/darurat/app.js`):
//!
//! ```json
//! {"client_id":"k2f9...","category":"medical","lat":-6.72239,"lon":108.56389,
//!  "accuracy":12.5,"fixed_at":1764800000000}
//! ```
//!
//! Position and category are optional: an alert whose browser gave no position (denied,
//! no fix indoors) is still an alert, and never refused for it. `client_id` lets a retried
//! alert (the app retries while offline) be recognised as the same one.
use serde::Deserialize;

use crate::location::fix::{valid_point, Channel, Location, Method};
use crate::store::Timestamp;

/// Bodies larger than this are refused (a real alert is ~150 bytes).
pub const MAX_ALERT_BYTES: usize = 4096;

/// What the person chose (optional); the Indonesian labels are the app's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// Kebakaran.
    Fire,
    /// Medis.
    Medical,
    /// Kejahatan.
    Crime,
    /// Kecelakaan.
    Accident,
    /// Lainnya.
    Other,
}

impl Category {
    /// The wire and record name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Fire => "fire",
            Category::Medical => "medical",
            Category::Crime => "crime",
            Category::Accident => "accident",
            Category::Other => "other",
        }
    }

    /// The name a call taker sees, in Indonesian.
    pub fn label(self) -> &'static str {
        match self {
            Category::Fire => "Kebakaran",
            Category::Medical => "Medis",
            Category::Crime => "Kejahatan",
            Category::Accident => "Kecelakaan",
            Category::Other => "Lainnya",
        }
    }

    fn parse(s: &str) -> Option<Category> {
        Some(match s {
            "fire" => Category::Fire,
            "medical" => Category::Medical,
            "crime" => Category::Crime,
            "accident" => Category::Accident,
            "other" => Category::Other,
            _ => return None,
        })
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq)]
pub struct PanicAlert {
    /// The app's id for this alert (retries repeat it).
    pub client_id: String,
    /// Chosen category, if any (an unknown one counts as none).
    pub category: Option<Category>,
    /// The browser's position (channel [`Channel::Panic`]), if it gave one.
    pub location: Option<Location>,
}

/// Why an alert body is refused (answer 400 with this reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// Over [`MAX_ALERT_BYTES`].
    #[error("alert body over {MAX_ALERT_BYTES} bytes")]
    TooLarge,
    /// Not the JSON object described above.
    #[error("alert body is not valid JSON: {reason}")]
    Json {
        /// serde_json's message.
        reason: String,
    },
    /// `client_id` missing or not 8..=64 of `[A-Za-z0-9_-]`.
    #[error("client_id must be 8 to 64 letters, digits, - or _")]
    BadClientId,
}

#[derive(Deserialize)]
struct Wire {
    client_id: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    accuracy: Option<f64>,
    #[serde(default)]
    fixed_at: Option<i64>,
}

impl PanicAlert {
    /// Parses an alert body. `phone` is the registered device's number (the alert's caller).
    pub fn parse(body: &[u8], phone: &str) -> Result<PanicAlert, AlertError> {
        if body.len() > MAX_ALERT_BYTES {
            return Err(AlertError::TooLarge);
        }
        let w: Wire = serde_json::from_slice(body).map_err(|e| AlertError::Json {
            reason: e.to_string(),
        })?;
        let id_ok = (8..=64).contains(&w.client_id.len())
            && w.client_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(AlertError::BadClientId);
        }
        let location = match (w.lat, w.lon) {
            (Some(lat), Some(lon)) if valid_point(lat, lon) => Some(Location {
                lat,
                lon,
                // The Geolocation API's `accuracy` is a 95 % radius in metres (W3C
                // Geolocation §7.4), the same meaning as an AML radius.
                accuracy_m: w.accuracy.filter(|a| a.is_finite() && *a > 0.0),
                // The browser does not say how; a phone with GNSS on reports metres-level.
                method: Method::Unknown,
                channel: Channel::Panic,
                fixed_at: w
                    .fixed_at
                    .filter(|t| (0..=253_402_300_799_999).contains(t))
                    .map(Timestamp::from_ms),
                confidence_pct: Some(95),
                caller: Some(phone.to_owned()),
                imei: None,
            }),
            _ => None,
        };
        Ok(PanicAlert {
            client_id: w.client_id,
            category: w.category.as_deref().and_then(Category::parse),
            location,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_alert_in_pekalipan() {
        let body = br#"{"client_id":"a1b2c3d4e5","category":"medical","lat":-6.72239,"lon":108.56389,"accuracy":12.5,"fixed_at":1764800000000}"#;
        let a = PanicAlert::parse(body, "+6281234567890").expect("valid");
        assert_eq!(a.category, Some(Category::Medical));
        let l = a.location.expect("position");
        assert_eq!(
            (l.lat, l.lon, l.accuracy_m),
            (-6.72239, 108.56389, Some(12.5))
        );
        assert_eq!(l.channel, Channel::Panic);
        assert_eq!(l.caller.as_deref(), Some("+6281234567890"));
        assert_eq!(l.fixed_at, Some(Timestamp::from_ms(1_764_800_000_000)));
    }

    #[test]
    fn no_position_or_category_is_still_an_alert() {
        let a = PanicAlert::parse(br#"{"client_id":"retry-0001"}"#, "+62").expect("valid");
        assert_eq!((a.category, a.location), (None, None));
        let a = PanicAlert::parse(
            br#"{"client_id":"retry-0001","category":"alien","lat":95,"lon":1}"#,
            "+62",
        )
        .expect("valid");
        assert_eq!((a.category, a.location), (None, None));
    }

    #[test]
    fn refused_bodies() {
        assert!(matches!(
            PanicAlert::parse(b"{", "x"),
            Err(AlertError::Json { .. })
        ));
        assert!(matches!(
            PanicAlert::parse(b"{}", "x"),
            Err(AlertError::Json { .. })
        ));
        assert_eq!(
            PanicAlert::parse(br#"{"client_id":"short"}"#, "x"),
            Err(AlertError::BadClientId)
        );
        assert_eq!(
            PanicAlert::parse(br#"{"client_id":"bad id here"}"#, "x"),
            Err(AlertError::BadClientId)
        );
        assert_eq!(
            PanicAlert::parse(&[b' '; 5000], "x"),
            Err(AlertError::TooLarge)
        );
    }
}
