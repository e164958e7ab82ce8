//! Server transactions: Figures 7 and 8, RFC 6026 Accepted.
