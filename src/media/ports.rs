//! RTP port pool over `[media] rtp_port_min ..= rtp_port_max`: even RTP ports, RTCP on the
//! next odd port (RFC 3550 §11).
//!
//! Ports are handed out round-robin so a port just released is reused last (late packets of
//! an ended call do not reach the next one). The socket layer reports ports it could not bind;
//! they go to the back of the queue and are tried again only after every other port.
use std::collections::{HashSet, VecDeque};

/// Why no port pair could be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    /// The range holds no even port with its odd successor.
    #[error("RTP port range {min}..={max} holds no RTP/RTCP pair")]
    EmptyRange {
        /// Configured lower end.
        min: u16,
        /// Configured upper end.
        max: u16,
    },
    /// Every pair is in use.
    #[error("all {pairs} RTP port pairs are in use")]
    Exhausted {
        /// Size of the pool.
        pairs: usize,
    },
}

/// A pool of RTP/RTCP port pairs.
#[derive(Debug)]
pub struct PortAllocator {
    free: VecDeque<u16>,
    in_use: HashSet<u16>,
    pairs: usize,
}

impl PortAllocator {
    /// All even ports `p` with `min ≤ p` and `p + 1 ≤ max`.
    pub fn new(min: u16, max: u16) -> Result<PortAllocator, PortError> {
        let first = min.saturating_add(min % 2);
        let free: VecDeque<u16> = (u32::from(first)..u32::from(max))
            .step_by(2)
            .filter_map(|p| u16::try_from(p).ok())
            .collect();
        if free.is_empty() {
            return Err(PortError::EmptyRange { min, max });
        }
        let pairs = free.len();
        Ok(PortAllocator {
            free,
            in_use: HashSet::new(),
            pairs,
        })
    }

    /// The next free RTP port (its RTCP port is `port + 1`).
    pub fn allocate(&mut self) -> Result<u16, PortError> {
        let port = self
            .free
            .pop_front()
            .ok_or(PortError::Exhausted { pairs: self.pairs })?;
        self.in_use.insert(port);
        Ok(port)
    }

    /// Gives a port back after its sockets closed. Unknown ports are ignored.
    pub fn release(&mut self, port: u16) {
        if self.in_use.remove(&port) {
            self.free.push_back(port);
        }
    }

    /// The socket layer could not bind `port` or `port + 1` (taken by another process): it goes
    /// back to the pool, behind every other free port.
    pub fn bind_failed(&mut self, port: u16) {
        self.release(port);
    }

    /// Pairs in the pool.
    pub fn capacity(&self) -> usize {
        self.pairs
    }

    /// Pairs currently handed out.
    pub fn in_use(&self) -> usize {
        self.in_use.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_even_ports_with_room_for_rtcp() {
        let mut pool = PortAllocator::new(30_001, 30_009).unwrap();
        let got: Vec<u16> = std::iter::from_fn(|| pool.allocate().ok()).collect();
        assert_eq!(got, [30_002, 30_004, 30_006, 30_008]);
        assert_eq!(pool.allocate(), Err(PortError::Exhausted { pairs: 4 }));
        assert_eq!(pool.in_use(), 4);
    }

    #[test]
    fn last_odd_port_is_not_handed_out_without_its_pair() {
        let mut pool = PortAllocator::new(30_000, 30_002).unwrap();
        assert_eq!(pool.allocate(), Ok(30_000));
        assert!(pool.allocate().is_err());
        assert!(matches!(
            PortAllocator::new(30_000, 30_000),
            Err(PortError::EmptyRange { .. })
        ));
        assert!(PortAllocator::new(65_534, 65_535).is_ok());
        assert!(PortAllocator::new(65_535, 65_535).is_err());
    }

    #[test]
    fn released_ports_come_back_last() {
        let mut pool = PortAllocator::new(40_000, 40_005).unwrap();
        let a = pool.allocate().unwrap();
        pool.release(a);
        pool.release(a); // twice: ignored
        pool.release(1234); // unknown: ignored
        assert_eq!(pool.allocate(), Ok(40_002));
        assert_eq!(pool.allocate(), Ok(40_004));
        assert_eq!(pool.allocate(), Ok(40_000));
        assert!(pool.allocate().is_err());
    }

    #[test]
    fn ports_that_fail_to_bind_are_skipped_until_the_rest_are_tried() {
        let mut pool = PortAllocator::new(40_000, 40_005).unwrap();
        let busy = pool.allocate().unwrap();
        pool.bind_failed(busy);
        assert_eq!(pool.allocate(), Ok(40_002));
        assert_eq!(pool.allocate(), Ok(40_004));
        assert_eq!(pool.allocate(), Ok(busy));
        assert_eq!(pool.capacity(), 3);
    }
}
