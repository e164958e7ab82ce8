//! AML over SMS: the text an Android (ELS) or iOS handset sends to the emergency SMS number
//! during a 112 call, as the SMS gateway received it.
//!
//! ETSI TS 103 625 §6 and Google's "ELS SMS specification": `;`-separated `key=value` pairs,
//! the first being the header `A"ML=<version>`.
//!
//! * Version 1 (ETSI): `lt` / `lg` degrees, `rd` radius in metres (`N` = none), `top` fix time
//!   `yyyyMMddHHmmss` UTC, `lc` confidence %, `pm` method (`G` GNSS, `W` Wi-Fi, `C` cell,
//!   `N` none), `si` IMSI (truncated), `ei` IMEI, `mcc` / `mnc`, and last `ml`, the length
//!   of the whole message header and `ml` included, so that a truncated SMS is detected.
//! * Version 2 (ELS beta): `en` number dialled, `et` call time (Unix seconds),
//!   `lo=lat,lon,radius` (radius 0 = unknown), `lt` fix time relative to `et` in seconds,
//!   `lc`, `lz=altitude,vertical accuracy`, `ls` source (`W`,`G`,`C`,`F` fused,`U`), `ei`,
//!   `nc` / `hc` network and home MCC+MNC, `lg` language; `ml` optional.
//!
//! A malformed position (`lt`/`lg`/`lo`) is an error; other malformed values are dropped
//! (the position is still worth having). Unknown keys are ignored.
use chrono::NaiveDateTime;

use crate::location::fix::{parse_decimal, parse_radius, valid_point, Channel, Location, Method};
use crate::store::Timestamp;

/// Longer than any AML SMS, even concatenated (ETSI's v1 fits in one 160-septet SMS).
pub const MAX_SMS_CHARS: usize = 1024;

/// How many characters `ml` may differ from the real length and still be accepted: the
/// published ELS example "Computed location" has 127 characters and says `ml=126`, and
/// some gateways drop the `"` of the header; one character lost cannot hide a lost field.
pub const ML_TOLERANCE: usize = 1;

/// One AML SMS, every field as typed as the spec says.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct AmlSms {
    /// `A"ML=` version (1 or 2).
    pub version: u8,
    /// Latitude (`lt` in v1, `lo` in v2).
    pub lat: Option<f64>,
    /// Longitude (`lg` in v1, `lo` in v2).
    pub lon: Option<f64>,
    /// Radius in metres (`rd`; third value of `lo`); `None` for `N` or 0.
    pub radius_m: Option<f64>,
    /// Fix time (`top`; `et + lt` in v2).
    pub fixed_at: Option<Timestamp>,
    /// Confidence in percent (`lc`).
    pub confidence_pct: Option<u8>,
    /// Positioning method (`pm`; `ls` in v2).
    pub method: Method,
    /// `pm=N`: the handset says it has no position.
    pub no_fix: bool,
    /// IMSI as sent (ETSI keeps only its first digits), `si`.
    pub imsi: Option<String>,
    /// IMEI, `ei`.
    pub imei: Option<String>,
    /// Network MCC (`mcc`; first 3 digits of `nc` in v2).
    pub mcc: Option<String>,
    /// Network MNC (`mnc`; rest of `nc` in v2).
    pub mnc: Option<String>,
    /// Number dialled, v2 `en`.
    pub emergency_number: Option<String>,
    /// Call time, v2 `et`.
    pub call_at: Option<Timestamp>,
    /// Altitude in metres, v2 `lz`.
    pub altitude_m: Option<f64>,
    /// `ml`, when present.
    pub declared_length: Option<usize>,
    /// Characters in the message as the handset sent it.
    pub length: usize,
}

/// Why a text is not a usable AML SMS.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AmlSmsError {
    /// Does not start with the `A"ML=` header.
    #[error("not an AML message (no A\"ML= header)")]
    NotAml,
    /// A version this parser does not know.
    #[error("AML version {version:?} is not supported (1 and 2 are)")]
    UnsupportedVersion {
        /// The header's value.
        version: String,
    },
    /// Longer than [`MAX_SMS_CHARS`].
    #[error("{chars} characters is longer than any AML SMS")]
    TooLong {
        /// Characters received.
        chars: usize,
    },
    /// Version 1 without `ml`: the message was cut (`ml` is its last field).
    #[error("no ml= field: the message is truncated")]
    MissingLength,
    /// `ml` disagrees with the message: part of it was lost or altered.
    #[error("ml={declared} but the message has {actual} characters")]
    LengthMismatch {
        /// `ml`.
        declared: usize,
        /// Counted.
        actual: usize,
    },
    /// A position or length field whose value cannot be read.
    #[error("{key}={value:?} cannot be read")]
    BadValue {
        /// The key.
        key: &'static str,
        /// The value (cut to 32 characters).
        value: String,
    },
    /// The same key twice: a corrupted or forged message.
    #[error("{key} appears twice")]
    Duplicate {
        /// The key.
        key: String,
    },
}

impl AmlSms {
    /// Parses the SMS text (trailing CR/LF/whitespace that gateways add are ignored).
    pub fn parse(text: &str) -> Result<AmlSms, AmlSmsError> {
        let text = text.trim_end();
        let chars = text.chars().count();
        if chars > MAX_SMS_CHARS {
            return Err(AmlSmsError::TooLong { chars });
        }
        let mut fields = text.split(';');
        let (version, header_chars) = header(fields.next().unwrap_or(""))?;
        // Count the header as the 4 characters `A"ML` whatever form the gateway left it in.
        let length = chars + 4 - header_chars;
        let mut sms = AmlSms {
            version,
            length,
            ..AmlSms::default()
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut v2_relative_s = None;
        for field in fields {
            let Some((key, value)) = field.split_once('=') else {
                continue; // an empty field (`;;`, trailing `;`) carries nothing
            };
            if seen.contains(&key) {
                return Err(AmlSmsError::Duplicate {
                    key: cut(key).to_owned(),
                });
            }
            seen.push(key);
            match (version, key) {
                (1, "lt") => sms.lat = Some(degrees("lt", value)?),
                (1, "lg") => sms.lon = Some(degrees("lg", value)?),
                (1, "rd") => sms.radius_m = parse_radius(value),
                (1, "top") => sms.fixed_at = utc_compact(value),
                (1, "pm") => {
                    sms.no_fix = value == "N";
                    sms.method = method(value);
                }
                (1, "si") => sms.imsi = digits(value),
                (1, "mcc") => sms.mcc = digits(value),
                (1, "mnc") => sms.mnc = digits(value),
                (2, "en") => sms.emergency_number = printable(value),
                (2, "et") => sms.call_at = unix_seconds(value),
                (2, "lo") => lo(&mut sms, value)?,
                (2, "lt") => v2_relative_s = value.parse::<i64>().ok(),
                (2, "lz") => {
                    let alt = value.split(',').next().unwrap_or("");
                    sms.altitude_m = parse_decimal(alt);
                }
                (2, "ls") => sms.method = method(value),
                (2, "nc") => {
                    if let Some(nc) = digits(value).filter(|d| (5..=6).contains(&d.len())) {
                        sms.mcc = Some(nc[..3].to_owned());
                        sms.mnc = Some(nc[3..].to_owned());
                    }
                }
                (_, "lc") => sms.confidence_pct = value.parse::<u8>().ok().filter(|c| *c <= 100),
                (_, "ei") => sms.imei = digits(value),
                (_, "ml") => {
                    let ml = value.parse::<usize>().map_err(|_| AmlSmsError::BadValue {
                        key: "ml",
                        value: cut(value).to_owned(),
                    })?;
                    sms.declared_length = Some(ml);
                }
                _ => {} // unknown keys (v2 `hc`, `lg`, future ones) are ignored
            }
        }
        if let (Some(et), Some(rel)) = (sms.call_at, v2_relative_s) {
            // ELS beta: `lt` only means something next to `et`. A fix more than an hour from
            // the call is not this call's; the cap also drops sentinels such as -9999.
            if rel.abs() <= 3_600 {
                sms.fixed_at = Some(et.plus_ms(rel * 1000));
            }
        }
        sms.check_length()?;
        if sms.no_fix {
            sms.lat = None;
            sms.lon = None;
            sms.radius_m = None;
        }
        Ok(sms)
    }

    fn check_length(&self) -> Result<(), AmlSmsError> {
        match self.declared_length {
            None if self.version == 1 => Err(AmlSmsError::MissingLength),
            None => Ok(()),
            Some(declared) if declared.abs_diff(self.length) <= ML_TOLERANCE => Ok(()),
            Some(declared) => Err(AmlSmsError::LengthMismatch {
                declared,
                actual: self.length,
            }),
        }
    }

    /// The position, `None` when the handset had no fix (`pm=N`, no `lt`/`lg`, the
    /// `+00.00000` null location, or coordinates off the globe). `sender` is the SMS's
    /// originating number as the gateway reported it (the message itself has none).
    pub fn location(&self, sender: Option<&str>) -> Option<Location> {
        let (lat, lon) = (self.lat?, self.lon?);
        if !valid_point(lat, lon) {
            return None;
        }
        Some(Location {
            lat,
            lon,
            accuracy_m: self.radius_m,
            method: self.method,
            channel: Channel::AmlSms,
            fixed_at: self.fixed_at,
            confidence_pct: self.confidence_pct,
            caller: sender.map(str::to_owned),
            imei: self.imei.clone(),
        })
    }
}

/// The header field: `A"ML=1`. Returns the version and the header's own length in
/// characters before `=`. Accepts `AML` (a gateway that dropped the quote) and `A”ML`
/// (one that turned it into a typographic quote).
fn header(field: &str) -> Result<(u8, usize), AmlSmsError> {
    let (name, version) = field.split_once('=').ok_or(AmlSmsError::NotAml)?;
    let known = ["A\"ML", "AML", "A\u{201d}ML", "A\u{201c}ML"];
    if !known
        .iter()
        .any(|k| name.trim_start().eq_ignore_ascii_case(k))
    {
        return Err(AmlSmsError::NotAml);
    }
    let header_chars = name.chars().count();
    match version {
        "1" => Ok((1, header_chars)),
        "2" => Ok((2, header_chars)),
        other => Err(AmlSmsError::UnsupportedVersion {
            version: cut(other).to_owned(),
        }),
    }
}

fn degrees(key: &'static str, value: &str) -> Result<f64, AmlSmsError> {
    parse_decimal(value).ok_or_else(|| AmlSmsError::BadValue {
        key,
        value: cut(value).to_owned(),
    })
}

/// v2 `lo=lat,lon,radius`.
fn lo(sms: &mut AmlSms, value: &str) -> Result<(), AmlSmsError> {
    let mut parts = value.split(',');
    let bad = || AmlSmsError::BadValue {
        key: "lo",
        value: cut(value).to_owned(),
    };
    let lat = parts.next().and_then(parse_decimal).ok_or_else(bad)?;
    let lon = parts.next().and_then(parse_decimal).ok_or_else(bad)?;
    sms.lat = Some(lat);
    sms.lon = Some(lon);
    sms.radius_m = parts.next().and_then(parse_radius);
    Ok(())
}

/// `pm` / `ls` letters.
fn method(value: &str) -> Method {
    match value {
        "G" => Method::Gnss,
        "W" => Method::Wifi,
        "C" => Method::Cell,
        "F" => Method::Fused,
        _ => Method::Unknown,
    }
}

/// `top`: `yyyyMMddHHmmss` in UTC.
fn utc_compact(value: &str) -> Option<Timestamp> {
    if value.len() != 14 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = NaiveDateTime::parse_from_str(value, "%Y%m%d%H%M%S").ok()?;
    Some(Timestamp::from_ms(t.and_utc().timestamp_millis()))
}

fn unix_seconds(value: &str) -> Option<Timestamp> {
    let s = value.parse::<i64>().ok()?;
    // Years 1970..=9999; anything else is not a time a handset sends.
    (0..=253_402_300_799)
        .contains(&s)
        .then(|| Timestamp::from_ms(s * 1000))
}

/// A digits-only identifier (IMSI, IMEI, MCC, MNC), at most 20 digits.
fn digits(value: &str) -> Option<String> {
    (!value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.to_owned())
}

/// A short printable value (the dialled number).
fn printable(value: &str) -> Option<String> {
    (!value.is_empty() && value.len() <= 32 && value.chars().all(|c| c.is_ascii_graphic()))
        .then(|| value.to_owned())
}

/// At most 32 characters of a value, for error messages.
fn cut(s: &str) -> &str {
    match s.char_indices().nth(32) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
