//! From, To, Contact, Route values: `name-addr` or `addr-spec` plus header parameters
//! (RFC 3261 §20.10, §20.20, §20.39, §25.1).

use super::params::quoted_len;
use super::{is_token_char, HeaderError, Params, Uri};

/// One name-addr / addr-spec value with its header parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name: unquoted token words or the quoted-string without quotes.
    pub display: Option<String>,
    /// The URI text exactly as written (without `<>`).
    pub uri_text: String,
    /// The parsed URI.
    pub uri: Uri,
    /// Header parameters after the address (`tag`, `expires`, `q`, ...).
    pub params: Params,
}

impl NameAddr {
    /// Parses one value. In the addr-spec form (no `<>`), the URI ends at the first `;`
    /// and may not hold `,`, `?` or whitespace (§20.10: such URIs must be enclosed).
    pub fn parse(value: &str, header: &'static str) -> Result<NameAddr, HeaderError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(HeaderError::new(header, "empty value"));
        }
        let (display, after_display) = read_display(value, header)?;
        let after_display = after_display.trim_start();
        let (uri_text, params_text) = if let Some(inner) = after_display.strip_prefix('<') {
            let end = inner
                .find('>')
                .ok_or(HeaderError::new(header, "missing '>'"))?;
            (&inner[..end], &inner[end + 1..])
        } else {
            if display.is_some() {
                return Err(HeaderError::new(header, "display name without <URI>"));
            }
            let end = after_display.find(';').unwrap_or(after_display.len());
            let uri_text = after_display[..end].trim_end();
            if uri_text.contains([',', '?', ' ', '\t', '<', '>', '"']) {
                return Err(HeaderError::new(
                    header,
                    "addr-spec needs <> around this URI",
                ));
            }
            (uri_text, &after_display[end..])
        };
        let uri = Uri::parse(uri_text, header)?;
        let params_text = params_text.trim();
        if !params_text.is_empty() && !params_text.starts_with(';') {
            return Err(HeaderError::new(header, "text after the address"));
        }
        Ok(NameAddr {
            display,
            uri_text: uri_text.to_string(),
            uri,
            params: Params::parse(params_text, header)?,
        })
    }

    /// The `tag` parameter (§19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }
}

/// Reads an optional display name and returns it with the rest of the value.
fn read_display<'a>(
    value: &'a str,
    header: &'static str,
) -> Result<(Option<String>, &'a str), HeaderError> {
    if value.starts_with('"') {
        let len =
            quoted_len(value).ok_or(HeaderError::new(header, "unterminated quoted string"))?;
        return Ok((Some(value[1..len - 1].to_string()), &value[len..]));
    }
    match value.find('<') {
        // Unquoted display name: tokens separated by LWS (§25.1 display-name).
        Some(lt) if lt > 0 => {
            let words = value[..lt].trim();
            if !words
                .chars()
                .all(|c| is_token_char(c) || c == ' ' || c == '\t')
            {
                return Err(HeaderError::new(header, "display name needs quotes"));
            }
            Ok((Some(words.to_string()), &value[lt..]))
        }
        _ => Ok((None, value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addr_forms() {
        let a = NameAddr::parse(
            r#""Budi \"B\"" <sip:+62812@trunk.example;user=phone>;tag=9f"#,
            "From",
        )
        .unwrap();
        assert_eq!(a.display.as_deref(), Some(r#"Budi \"B\""#));
        assert_eq!(a.uri.user.as_deref(), Some("+62812"));
        assert_eq!(a.tag(), Some("9f"));
        let b = NameAddr::parse("sip:caller@example.net;tag=abc", "From").unwrap();
        assert_eq!(b.uri_text, "sip:caller@example.net");
        assert_eq!(b.tag(), Some("abc"));
        let c = NameAddr::parse("caller<sip:caller@example.com>;tag=323", "From").unwrap();
        assert_eq!(c.display.as_deref(), Some("caller"));
    }

    #[test]
    fn malformed_values_are_errors() {
        assert!(NameAddr::parse(r#""Mr. J. User <sip:j.user@example.com>"#, "To").is_err());
        assert!(NameAddr::parse("sip:user@example.com?Route=%3Csip:x%3E", "Contact").is_err());
        assert!(NameAddr::parse("Bell, Alexander <sip:a.g.bell@bell-tel.com>", "To").is_err());
        assert!(NameAddr::parse("sip:user@example.org S", "To").is_err());
    }
}
