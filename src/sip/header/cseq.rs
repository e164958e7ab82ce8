//! The CSeq header (RFC 3261 §20.16, §8.1.1.5).

use super::HeaderError;
use crate::sip::message::Method;

/// `CSeq: <number> <method>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number, below 2^31 (§8.1.1.5).
    pub seq: u32,
    /// The method it numbers.
    pub method: Method,
}

impl CSeq {
    /// Parses a CSeq value, refusing numbers of 2^31 and above.
    pub fn parse(value: &str) -> Result<CSeq, HeaderError> {
        const H: &str = "CSeq";
        let mut words = value.split_whitespace();
        let (Some(number), Some(method), None) = (words.next(), words.next(), words.next()) else {
            return Err(HeaderError::new(H, "expected '<number> <method>'"));
        };
        if !number.bytes().all(|b| b.is_ascii_digit()) || number.len() > 10 {
            return Err(HeaderError::new(
                H,
                "sequence number is not a 32-bit integer",
            ));
        }
        let seq: u64 = number
            .parse()
            .map_err(|_| HeaderError::new(H, "sequence number is not an integer"))?;
        if seq >= 1 << 31 {
            return Err(HeaderError::new(H, "sequence number must be below 2^31"));
        }
        if !super::is_token(method) {
            return Err(HeaderError::new(H, "method is not a token"));
        }
        Ok(CSeq {
            seq: seq as u32,
            method: Method::from_token(method),
        })
    }
}

impl std::fmt::Display for CSeq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq_parse() {
        let c = CSeq::parse("0009 INVITE").unwrap();
        assert_eq!((c.seq, c.method), (9, Method::Invite));
        assert!(CSeq::parse("36893488147419103232 INVITE").is_err());
        assert!(CSeq::parse("2147483648 INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
    }
}
