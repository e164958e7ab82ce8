//! `;name=value` parameter lists and quote-aware splitting of comma lists.

use super::{is_token, HeaderError};

/// An ordered list of `;name[=value]` parameters. Names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, Option<String>)>);

impl Params {
    /// Parses `;a=b;c` (empty text gives no parameters; otherwise it must start with `;`).
    /// LWS around `;` and `=` is allowed (RFC 3261 §25.1 SEMI and EQUAL are LWS-padded).
    pub fn parse(text: &str, header: &'static str) -> Result<Params, HeaderError> {
        let mut params = Vec::new();
        let text = text.trim();
        if text.is_empty() {
            return Ok(Params(params));
        }
        let text = text
            .strip_prefix(';')
            .ok_or(HeaderError::new(header, "parameters must start with ';'"))?;
        for piece in split_outside_quotes(text, ';') {
            let piece = piece.trim();
            if piece.is_empty() {
                return Err(HeaderError::new(header, "empty parameter"));
            }
            let (name, value) = match piece.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (piece, None),
            };
            if !is_token(name) {
                return Err(HeaderError::new(header, "parameter name is not a token"));
            }
            if let Some(v) = value {
                if v.is_empty() {
                    return Err(HeaderError::new(header, "empty parameter value"));
                }
                if v.starts_with('"') {
                    check_quoted(v, header)?;
                } else if !v
                    .chars()
                    .all(|c| super::is_token_char(c) || "[]:".contains(c))
                {
                    return Err(HeaderError::new(header, "bad character in parameter value"));
                }
            }
            params.push((name.to_string(), value.map(str::to_string)));
        }
        Ok(Params(params))
    }

    /// The value of `name`: `Some(None)` for a flag parameter, `None` when absent.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// The value of `name` when it has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    /// True when `name` is present, with or without value.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Checks that `v` is exactly one complete quoted-string (RFC 3261 §25.1).
pub(crate) fn check_quoted(v: &str, header: &'static str) -> Result<(), HeaderError> {
    match quoted_len(v) {
        Some(len) if len == v.len() => Ok(()),
        Some(_) => Err(HeaderError::new(header, "text after quoted string")),
        None => Err(HeaderError::new(header, "unterminated quoted string")),
    }
}

/// Length in bytes of the quoted-string at the start of `s` (which starts with `"`),
/// including both quotes; `None` when it is not terminated.
pub(crate) fn quoted_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Splits on `sep` outside quoted strings and outside `<...>`.
pub(crate) fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quotes, mut in_angle, mut escaped) = (false, false, false);
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => in_angle = true,
            '>' if !in_quotes => in_angle = false,
            c if c == sep && !in_quotes && !in_angle => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Splits a comma list header value (RFC 3261 §7.3.1) into its elements, trimmed.
/// Returns `None` when a quoted string is unterminated or an element is empty (`,,`).
pub fn split_list(value: &str) -> Option<Vec<&str>> {
    let mut quotes = 0usize;
    let mut escaped = false;
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quotes % 2 == 1 => escaped = true,
            '"' => quotes += 1,
            _ => {}
        }
    }
    if quotes % 2 == 1 {
        return None;
    }
    let parts: Vec<&str> = split_outside_quotes(value, ',')
        .into_iter()
        .map(str::trim)
        .collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_allow_lws_around_separators() {
        let p = Params::parse(" ; branch = z9hG4bK1 ; rport ; received=192.0.2.1", "Via").unwrap();
        assert_eq!(p.value("branch"), Some("z9hG4bK1"));
        assert_eq!(p.get("rport"), Some(None));
        assert_eq!(p.value("RECEIVED"), Some("192.0.2.1"));
    }

    #[test]
    fn empty_parameter_is_an_error() {
        assert!(Params::parse(";;lr", "Route").is_err());
    }

    #[test]
    fn list_split_respects_quotes_and_angles() {
        let parts = split_list(r#""a, b" <sip:x@y;p=1,2>, <sip:z@w>"#).unwrap();
        assert_eq!(parts, vec![r#""a, b" <sip:x@y;p=1,2>"#, "<sip:z@w>"]);
        assert!(split_list("a,,b").is_none());
        assert!(split_list(r#""open, b"#).is_none());
    }
}
