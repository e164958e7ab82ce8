//! [`Location`]: one position as every intake (AML SMS, ELS HTTPS, PIDF-LO, panic button)
//! reports it, before it is matched to a call and resolved to a kecamatan.
use std::fmt;

use crate::store::{self, Timestamp};

/// How the handset (or network) obtained the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Method {
    /// Satellite positioning (GPS, Galileo, ...).
    Gnss,
    /// Wi-Fi access point positioning.
    Wifi,
    /// Cell-based positioning.
    Cell,
    /// A fused fix from several methods (ELS v2 `ls=F`).
    Fused,
    /// The call taker placed it by hand.
    Manual,
    /// Not said, or a value we do not know.
    #[default]
    Unknown,
}

impl Method {
    /// The short name used in `source` labels and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Gnss => "gnss",
            Method::Wifi => "wifi",
            Method::Cell => "cell",
            Method::Fused => "fused",
            Method::Manual => "manual",
            Method::Unknown => "unknown",
        }
    }
}

/// The channel the position arrived by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Channel {
    /// AML over SMS (ETSI TS 103 625 §6, Android ELS SMS).
    AmlSms,
    /// AML over HTTPS (the Android ELS HTTPS form).
    AmlHttps,
    /// The `/darurat` panic web app (browser Geolocation API).
    Panic,
    /// A PIDF-LO carried by value in a trunk INVITE (RFC 6442).
    PidfLo,
    /// Entered by the call taker; never replaced by an automatic one.
    CallTaker,
}

impl Channel {
    /// The short name used in `source` labels and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::AmlSms => "aml_sms",
            Channel::AmlHttps => "aml_https",
            Channel::Panic => "panic",
            Channel::PidfLo => "pidf_lo",
            Channel::CallTaker => "call_taker",
        }
    }
}

/// A position with where it came from and who sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// Latitude, WGS84 degrees (-90..=90).
    pub lat: f64,
    /// Longitude, WGS84 degrees (-180..=180).
    pub lon: f64,
    /// Radius of uncertainty in metres, when given.
    pub accuracy_m: Option<f64>,
    /// How it was obtained.
    pub method: Method,
    /// How it reached siaga.
    pub channel: Channel,
    /// When the position was fixed (handset clock), when given.
    pub fixed_at: Option<Timestamp>,
    /// Confidence that the caller is within `accuracy_m`, in percent.
    pub confidence_pct: Option<u8>,
    /// The caller's number as the sender wrote it (normalise with [`super::phone`]).
    pub caller: Option<String>,
    /// The handset's IMEI (digits only), when given.
    pub imei: Option<String>,
}

impl Location {
    /// A bare position (the rest empty), `None` when the coordinates are not a place on Earth.
    pub fn new(lat: f64, lon: f64, method: Method, channel: Channel) -> Option<Location> {
        valid_point(lat, lon).then_some(Location {
            lat,
            lon,
            accuracy_m: None,
            method,
            channel,
            fixed_at: None,
            confidence_pct: None,
            caller: None,
            imei: None,
        })
    }

    /// `channel/method`, e.g. `aml_sms/gnss` (the call record's `source`).
    pub fn source_label(&self) -> String {
        format!("{}/{}", self.channel.as_str(), self.method.as_str())
    }

    /// The call record's form of this position.
    pub fn to_record(&self) -> store::Location {
        store::Location {
            lat: self.lat,
            lon: self.lon,
            // Radii up to thousands of km fit an f32 well enough for display.
            accuracy_m: self.accuracy_m.map(|m| m as f32),
            source: self.source_label(),
        }
    }

    /// Age of the fix at `now` in milliseconds (`None` when the fix time is unknown). A fix
    /// from the handset's future (clock skew) has age 0.
    pub fn age_ms(&self, now: Timestamp) -> Option<i64> {
        self.fixed_at
            .map(|t| now.as_ms().saturating_sub(t.as_ms()).max(0))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.5},{:.5}", self.lat, self.lon)?;
        if let Some(r) = self.accuracy_m {
            write!(f, " ±{r:.0} m")?;
        }
        write!(f, " ({})", self.source_label())
    }
}

/// Finite and within the WGS84 ranges. Points within 1e-4 degrees (about 11 m) of (0, 0)
/// are refused too: that is the "null island" senders write for "no fix" (the AML null
/// location is `+00.00000`), and a margin keeps the test stable through printing.
pub fn valid_point(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && !(lat.abs() < NULL_ISLAND && lon.abs() < NULL_ISLAND)
}

const NULL_ISLAND: f64 = 1e-4;

/// Parses a decimal degree or metre value as handsets write it (`+51.53321`, `-0.12601`,
/// `20.0`); `None` for anything else (no exponents, no `inf`/`nan`).
pub(crate) fn parse_decimal(s: &str) -> Option<f64> {
    let s = s.trim();
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let ok = !body.is_empty()
        && body.len() <= 24
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|&b| b == b'.').count() <= 1
        && body.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// An accuracy radius: finite and not negative (0 means "unknown" in ELS v2 and is `None`).
pub(crate) fn parse_radius(s: &str) -> Option<f64> {
    parse_decimal(s).filter(|r| *r > 0.0)
}
