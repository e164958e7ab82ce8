//! Caller numbers to E.164 (ITU-T E.164, `+` and at most 15 digits) so that an AML message,
//! a panic device and a trunk INVITE that name the same phone match.
//!
//! Indonesian numbering (country code 62, trunk prefix 0, international prefix 00/001/007/008):
//! `0812-3456-7890`, `62 812 3456 7890`, `0062812...`, `+62 (0)812...`, `tel:+62812...`,
//! `sip:0812...@trunk` all become `+6281234567890`.
use std::fmt;

/// Indonesia's country code (ITU-T E.164 assigned list).
pub const INDONESIA: &str = "62";

/// A number in E.164 form: `+` then 8 to 15 digits, country code first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    /// `+62812...`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `+`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a text is not a usable phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Nothing left after removing the scheme and separators.
    #[error("empty number")]
    Empty,
    /// A character that is neither a digit nor a visual separator.
    #[error("{found:?} is not a digit")]
    NotDigit {
        /// The character.
        found: char,
    },
    /// Fewer digits than any subscriber number (short codes such as 112 are not callers).
    #[error("{digits} digits are too few for a subscriber number")]
    TooShort {
        /// Digits found.
        digits: usize,
    },
    /// After an international prefix, a country code starting with 0 (none does).
    #[error("no country code starts with 0")]
    BadCountryCode,
    /// More than E.164's 15 digits.
    #[error("{digits} digits are more than E.164 allows (15)")]
    TooLong {
        /// Digits found.
        digits: usize,
    },
}

/// Minimum digits (country code included) we accept: Indonesian fixed lines are
/// 62 + area code + 5..8 digits; anything shorter is a short code or an extension.
const MIN_DIGITS: usize = 8;
/// ITU-T E.164 §6.1: at most 15 digits.
const MAX_DIGITS: usize = 15;
/// Input longer than this is not a phone number, whatever it holds.
const MAX_INPUT: usize = 256;

/// Normalises `raw` (a number, a `tel:` URI or a `sip:`/`sips:` URI) to E.164, reading
/// national numbers as Indonesian.
pub fn normalize(raw: &str) -> Result<E164, PhoneError> {
    normalize_in(raw, INDONESIA)
}

/// Like [`normalize`] with the country code for national (`0...`) numbers given.
pub fn normalize_in(raw: &str, country_code: &str) -> Result<E164, PhoneError> {
    let raw = raw.get(..MAX_INPUT).unwrap_or(raw);
    let user = user_part(raw.trim());
    let mut plus = false;
    let mut digits = String::with_capacity(user.len());
    for (i, c) in user.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 || (digits.is_empty() && !plus) => plus = true,
            // Visual separators (RFC 3966 §5.1.1 allows `-`, `.`, `(`, `)`).
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            other => return Err(PhoneError::NotDigit { found: other }),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    // A country code never starts with 0 (E.164 §6.2.1): `+0812...` / `+0062...` are a
    // national or prefixed number with a stray `+`, read as if it were not there.
    let international = if plus && !digits.starts_with('0') {
        digits
    } else if let Some(rest) = strip_international_prefix(&digits) {
        rest.to_owned()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("{country_code}{rest}")
    } else if digits.starts_with(country_code) && digits.len() >= MIN_DIGITS + 2 {
        // `62812...` written without the `+`: common in SMS gateways and AML `device_number`.
        digits
    } else {
        return Err(PhoneError::TooShort {
            digits: digits.len(),
        });
    };
    // `+62 (0)812...` / `+620812...`: the national trunk prefix kept by mistake after the
    // country code; no Indonesian national number starts with 0 (ITU-T E.164 country notes).
    let international = match international.strip_prefix(country_code) {
        Some(rest) if rest.starts_with('0') => {
            format!("{country_code}{}", rest.trim_start_matches('0'))
        }
        _ => international,
    };
    if international.starts_with('0') {
        return Err(PhoneError::BadCountryCode);
    }
    match international.len() {
        n if n < MIN_DIGITS => Err(PhoneError::TooShort { digits: n }),
        n if n > MAX_DIGITS => Err(PhoneError::TooLong { digits: n }),
        _ => Ok(E164(format!("+{international}"))),
    }
}

/// `00` and Indonesia's carrier-select international prefixes 001, 007, 008 (and 01017).
fn strip_international_prefix(digits: &str) -> Option<&str> {
    ["01017", "001", "007", "008", "00"]
        .iter()
        .find_map(|p| digits.strip_prefix(p))
}

/// The number inside a `tel:` or `sip:` URI (RFC 3966 §3, RFC 3261 §19.1.1), else `raw`.
/// Parameters (`;phone-context=`, `;user=phone`) and the host are dropped.
fn user_part(raw: &str) -> &str {
    let raw = raw.trim_start_matches('<').trim_end_matches('>');
    // `get` rather than indexing: the text is outside input and may hold multi-byte chars.
    let scheme = |p: &str| {
        raw.get(..p.len())
            .filter(|head| head.eq_ignore_ascii_case(p))
            .map(|_| &raw[p.len()..])
    };
    let rest = scheme("tel:")
        .or_else(|| scheme("sips:"))
        .or_else(|| scheme("sip:"))
        .unwrap_or(raw);
    let rest = rest.split('@').next().unwrap_or(rest);
    rest.split(';').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s)
            .map(|e| e.to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn indonesian_forms_meet() {
        for raw in [
            "081234567890",
            "0812-3456-7890",
            "0812 3456 7890",
            "+6281234567890",
            "+62 812 3456 7890",
            "6281234567890",
            "006281234567890",
            "+62 (0)812 3456 7890",
            "+62081234567890",
            "tel:+62-812-3456-7890",
            "tel:081234567890;phone-context=+62",
            "sip:081234567890@10.0.0.1;user=phone",
            "<sip:+6281234567890@trunk.example>",
            "SIPS:6281234567890@x",
            " 0812.3456.7890 ",
        ] {
            assert_eq!(n(raw), "+6281234567890", "{raw}");
        }
    }

    #[test]
    fn cirebon_fixed_line_and_foreign_numbers() {
        assert_eq!(n("(0231) 123456"), "+62231123456");
        assert_eq!(n("+447477593102"), "+447477593102");
        assert_eq!(n("00447477593102"), "+447477593102");
        assert_eq!(n("001447477593102"), "+447477593102");
        assert_eq!(n("+0062812345678"), "+62812345678");
        assert_eq!(n("+0812345678"), "+62812345678");
        assert_eq!(
            normalize_in("07477 593102", "44").map(|e| e.to_string()),
            Ok("+447477593102".to_owned())
        );
    }

    #[test]
    fn not_numbers() {
        assert_eq!(normalize("112"), Err(PhoneError::TooShort { digits: 3 }));
        assert_eq!(normalize(""), Err(PhoneError::Empty));
        assert_eq!(normalize("tel:"), Err(PhoneError::Empty));
        assert_eq!(
            normalize("sip:anonymous@x"),
            Err(PhoneError::NotDigit { found: 'a' })
        );
        assert_eq!(
            normalize("0812+345"),
            Err(PhoneError::NotDigit { found: '+' })
        );
        assert_eq!(
            normalize("+1234567890123456"),
            Err(PhoneError::TooLong { digits: 16 })
        );
        assert!(matches!(
            normalize("62812"),
            Err(PhoneError::TooShort { .. })
        ));
        assert!(normalize(&"9".repeat(10_000)).is_err());
        assert!(
            normalize("s\u{e9}p:0812").is_err(),
            "multi-byte char inside a scheme's length"
        );
        assert_eq!(normalize("000812345678"), Err(PhoneError::BadCountryCode));
        assert!(
            normalize("0٣12345678").is_err(),
            "non-ASCII digits are refused"
        );
    }

    #[test]
    fn digits_and_display() {
        let e = normalize("0812 3456 7890").expect("valid");
        assert_eq!(e.digits(), "6281234567890");
        assert_eq!(e.as_str(), "+6281234567890");
    }
}
