//! AML over HTTPS: the Android Emergency Location Service (ELS) POST body,
//! `application/x-www-form-urlencoded` name/value pairs (Google "ELS HTTPS specification",
//! based on ETSI TS 103 625).
//!
//! The specification makes every field optional and asks the endpoint to handle missing or
//! malformed fields without errors and to answer 2xx even when it discards the message, so
//! this parser never fails: a value it cannot read is left out, unknown names are kept in
//! [`ElsReport::other`] (bounded) for the log.
use crate::location::fix::{parse_decimal, parse_radius, valid_point, Channel, Location, Method};
use crate::store::Timestamp;

/// Bodies longer than this are cut before parsing (a real ELS POST is about 1 KiB; the
/// optional "additional emergency information" stays far below this).
pub const MAX_FORM_BYTES: usize = 16 * 1024;
/// Unknown pairs kept for the log.
const MAX_OTHER: usize = 32;

/// The fields of one ELS HTTPS message that siaga uses.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ElsReport {
    /// `v`.
    pub version: Option<String>,
    /// `emergency_number`: the number dialled.
    pub emergency_number: Option<String>,
    /// `source`: what triggered the message (`call`, `sms`).
    pub source: Option<String>,
    /// `time`: start of the emergency call (Unix ms).
    pub call_at: Option<Timestamp>,
    /// `location_latitude`.
    pub lat: Option<f64>,
    /// `location_longitude`.
    pub lon: Option<f64>,
    /// `location_time`: time of the fix (Unix ms).
    pub fixed_at: Option<Timestamp>,
    /// `location_accuracy`, metres.
    pub accuracy_m: Option<f64>,
    /// `location_source` (`gps`, `wifi`, `cell`, `fused`, `unknown`).
    pub method: Method,
    /// `location_confidence`, sent as a fraction (0.6827); kept in percent.
    pub confidence_pct: Option<u8>,
    /// `location_altitude`, metres WGS84.
    pub altitude_m: Option<f64>,
    /// `device_number`: the handset's own number (best-effort E.164).
    pub device_number: Option<String>,
    /// `device_imei`.
    pub imei: Option<String>,
    /// `device_imsi`.
    pub imsi: Option<String>,
    /// `device_model`.
    pub device_model: Option<String>,
    /// Names this parser does not use, with their values (at most 32 pairs, cut to 64 bytes).
    pub other: Vec<(String, String)>,
}

impl ElsReport {
    /// Parses a form body. Never fails; see the module comment.
    pub fn parse(body: &[u8]) -> ElsReport {
        let body = body.get(..MAX_FORM_BYTES).unwrap_or(body);
        let mut r = ElsReport::default();
        for (name, value) in form_urlencoded::parse(body) {
            let value = value.trim();
            match name.as_ref() {
                "v" => r.version = text(value, 16),
                "emergency_number" => r.emergency_number = text(value, 32),
                "source" => r.source = text(value, 16).map(|s| s.to_ascii_lowercase()),
                "time" => r.call_at = unix_ms(value),
                "location_latitude" => r.lat = parse_decimal(value),
                "location_longitude" => r.lon = parse_decimal(value),
                "location_time" => r.fixed_at = unix_ms(value),
                "location_accuracy" => r.accuracy_m = parse_radius(value),
                "location_source" => r.method = method(value),
                "location_confidence" => r.confidence_pct = confidence(value),
                "location_altitude" => r.altitude_m = parse_decimal(value),
                "device_number" => r.device_number = text(value, 32),
                "device_imei" => r.imei = digits(value),
                "device_imsi" => r.imsi = digits(value),
                "device_model" => r.device_model = text(value, 64),
                other if r.other.len() < MAX_OTHER => {
                    r.other
                        .push((cut(other, 64).to_owned(), cut(value, 64).to_owned()));
                }
                _ => {}
            }
        }
        r
    }

    /// The position, `None` without both coordinates or with coordinates off the globe.
    pub fn location(&self) -> Option<Location> {
        let (lat, lon) = (self.lat?, self.lon?);
        if !valid_point(lat, lon) {
            return None;
        }
        Some(Location {
            lat,
            lon,
            accuracy_m: self.accuracy_m,
            method: self.method,
            channel: Channel::AmlHttps,
            fixed_at: self.fixed_at,
            confidence_pct: self.confidence_pct,
            caller: self.device_number.clone(),
            imei: self.imei.clone(),
        })
    }
}

fn method(value: &str) -> Method {
    match value.to_ascii_lowercase().as_str() {
        "gps" | "gnss" => Method::Gnss,
        "wifi" | "wi-fi" => Method::Wifi,
        "cell" => Method::Cell,
        "fused" => Method::Fused,
        _ => Method::Unknown,
    }
}

/// The spec sends a fraction (`0.6827`); some senders send a percentage (`68`).
fn confidence(value: &str) -> Option<u8> {
    let c = parse_decimal(value)?;
    let pct = if c <= 1.0 { c * 100.0 } else { c };
    (0.0..=100.0).contains(&pct).then(|| pct.round() as u8)
}

fn unix_ms(value: &str) -> Option<Timestamp> {
    let ms = value.parse::<i64>().ok()?;
    // Years 1970..=9999.
    (0..=253_402_300_799_999)
        .contains(&ms)
        .then(|| Timestamp::from_ms(ms))
}

fn digits(value: &str) -> Option<String> {
    (!value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.to_owned())
}

/// A non-empty value without control characters, at most `max` bytes (cut on a char).
fn text(value: &str, max: usize) -> Option<String> {
    (!value.is_empty() && !value.chars().any(char::is_control)).then(|| cut(value, max).to_owned())
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
