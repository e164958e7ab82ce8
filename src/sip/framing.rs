//! Cutting a TCP byte stream into SIP messages (RFC 3261 §18.3) and keep-alives
//! (RFC 5626 §3.5.1). Pure: bytes are pushed in, frames are pulled out.
//!
//! UDP needs no framer: one datagram is one message (§18.3, [`super::parse::Framing`]).

/// One unit cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A CRLFCRLF "ping"; the answer is a CRLF "pong" (RFC 5626 §3.5.1).
    KeepAlive,
    /// One message: head, empty line and exactly Content-Length body bytes.
    Message(Vec<u8>),
}

/// Why the stream cannot be framed any further; the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Head or head + body larger than the configured cap.
    #[error("message larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// Content-Length missing, repeated or not a number: the end of the body is unknown.
    #[error("Content-Length missing or unreadable on a stream transport")]
    BadContentLength,
}

/// Accumulates stream bytes and yields frames.
#[derive(Debug)]
pub struct StreamFramer {
    buffer: Vec<u8>,
    limit: usize,
}

impl StreamFramer {
    /// A framer refusing messages larger than `limit` bytes.
    pub fn new(limit: usize) -> StreamFramer {
        StreamFramer {
            buffer: Vec::new(),
            limit,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet framed.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        // RFC 5626 §3.5.1 ping, else RFC 3261 §7.5: CRLFs before a start line are skipped.
        loop {
            if self.buffer.starts_with(b"\r\n\r\n") {
                self.buffer.drain(..4);
                return Ok(Some(Frame::KeepAlive));
            }
            if self.buffer.starts_with(b"\r\n") && self.buffer.len() > 2 && self.buffer[2] != b'\r'
            {
                self.buffer.drain(..2);
                continue;
            }
            break;
        }
        if self.buffer.starts_with(b"\r") {
            return Ok(None);
        }
        let Some(head_end) = find(&self.buffer, b"\r\n\r\n") else {
            if self.buffer.len() > self.limit {
                return Err(FrameError::TooLarge { limit: self.limit });
            }
            return Ok(None);
        };
        let body_at = head_end + 4;
        let length =
            content_length(&self.buffer[..head_end]).ok_or(FrameError::BadContentLength)?;
        let total = body_at.saturating_add(length);
        if total > self.limit {
            return Err(FrameError::TooLarge { limit: self.limit });
        }
        if self.buffer.len() < total {
            return Ok(None);
        }
        let rest = self.buffer.split_off(total);
        let message = std::mem::replace(&mut self.buffer, rest);
        Ok(Some(Frame::Message(message)))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The single Content-Length of a head (long or compact `l` form; folding tolerated).
fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    let mut found = None;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim_end();
        if name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("l") {
            let value = value.trim();
            if found.is_some() || value.is_empty() || value.len() > 9 {
                return None;
            }
            if !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            found = Some(value.parse().ok()?);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:gw SIP/2.0\r\nl: 4\r\n\r\nbody";

    #[test]
    fn any_chunking_gives_the_same_frames() {
        let mut stream = b"\r\n\r\n".to_vec();
        stream.extend_from_slice(MSG);
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(MSG);
        for chunk in 1..stream.len() {
            let mut framer = StreamFramer::new(1000);
            let mut frames = Vec::new();
            for piece in stream.chunks(chunk) {
                framer.push(piece);
                while let Some(frame) = framer.next_frame().unwrap() {
                    frames.push(frame);
                }
            }
            let expected = vec![
                Frame::KeepAlive,
                Frame::Message(MSG.to_vec()),
                Frame::Message(MSG.to_vec()),
            ];
            assert_eq!(frames, expected, "chunk size {chunk}");
        }
    }

    #[test]
    fn limits_and_bad_lengths() {
        let mut framer = StreamFramer::new(10);
        framer.push(b"OPTIONS sip:gw SIP/2.0\r\n");
        assert_eq!(framer.next_frame(), Err(FrameError::TooLarge { limit: 10 }));
        let mut framer = StreamFramer::new(1000);
        framer.push(b"OPTIONS sip:gw SIP/2.0\r\nContent-Length: 9999\r\n\r\n");
        assert_eq!(
            framer.next_frame(),
            Err(FrameError::TooLarge { limit: 1000 })
        );
        let mut framer = StreamFramer::new(1000);
        framer.push(b"OPTIONS sip:gw SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\n");
        assert_eq!(framer.next_frame(), Err(FrameError::BadContentLength));
        let mut framer = StreamFramer::new(1000);
        framer.push(b"OPTIONS sip:gw SIP/2.0\r\n\r\n");
        assert_eq!(framer.next_frame(), Err(FrameError::BadContentLength));
    }
}
