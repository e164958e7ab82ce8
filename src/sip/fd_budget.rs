//! The open-files budget (issue 10 item 1): signalling must never starve media.
//!
//! Every call holds four UDP sockets (RTP and RTCP on each leg, RFC 3550 §11), every SIP or
//! HTTP TCP connection one descriptor. At start the soft `RLIMIT_NOFILE` is raised to the
//! hard limit ([`raise_nofile`]), then [`plan`] splits it: a fixed base (listeners, SQLite,
//! logs, the runtime), a reserve for HTTP, media for as many calls as the RTP port pool
//! allows, and what remains (at most the configured cap) for SIP TCP. When the limit is too
//! small for the whole pool, media still keeps three quarters of what is left after base and
//! HTTP, so a flood of TCP connections can never take the descriptors a 112 call needs.

/// Descriptors every process needs besides calls and connections.
pub const BASE_FDS: u64 = 64;
/// Descriptors per call: RTP + RTCP on both legs.
pub const FDS_PER_CALL: u64 = 4;
/// Descriptors kept for HTTP connections (at most an eighth of the limit).
pub const HTTP_RESERVE: u64 = 256;

/// How the open-files limit is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdPlan {
    /// The soft limit the plan is for.
    pub limit: u64,
    /// Concurrent calls the descriptors (and the RTP port pool) allow.
    pub max_calls: u64,
    /// SIP TCP connections admitted at most.
    pub sip_tcp: usize,
    /// Descriptors kept for HTTP.
    pub http: u64,
}

/// Splits `limit` open files for an RTP pool of `rtp_ports` ports and at most `tcp_wanted`
/// SIP TCP connections.
pub fn plan(limit: u64, rtp_ports: u64, tcp_wanted: usize) -> FdPlan {
    let http = HTTP_RESERVE.min(limit / 8);
    let available = limit.saturating_sub(BASE_FDS + http);
    let pool_calls = rtp_ports / FDS_PER_CALL;
    let media_want = pool_calls * FDS_PER_CALL;
    let tcp_wanted = tcp_wanted as u64;
    let (media, tcp) = if available >= media_want.saturating_add(tcp_wanted) {
        (media_want, tcp_wanted)
    } else {
        let media = media_want.min(available - available / 4);
        (media, tcp_wanted.min(available - media))
    };
    FdPlan {
        limit,
        max_calls: pool_calls.min(media / FDS_PER_CALL),
        sip_tcp: usize::try_from(tcp).unwrap_or(usize::MAX),
        http,
    }
}

/// At start: raises the soft limit (when `sip.raise_nofile`), plans the budget for the RTP
/// pool and `sip.tcp_max_connections`, and logs how many concurrent calls the limits allow.
pub fn startup(config: &crate::config::Config) -> FdPlan {
    let (soft, hard) = match raise_nofile(config.sip.raise_nofile) {
        Ok(limits) => limits,
        Err(err) => {
            tracing::warn!(%err, "could not raise the open-files limit");
            raise_nofile(false).unwrap_or((1024, 1024))
        }
    };
    let m = &config.media;
    let ports = u64::from(m.rtp_port_max.saturating_sub(m.rtp_port_min)) + 1;
    let p = plan(soft, ports, config.sip.tcp_max_connections);
    tracing::info!(
        open_files = soft,
        hard_limit = hard,
        max_calls = p.max_calls,
        rtp_ports = ports,
        sip_tcp_connections = p.sip_tcp,
        sip_tcp_per_source = config.sip.tcp_max_per_source,
        http_reserved = p.http,
        "limits allow {} concurrent calls",
        p.max_calls
    );
    if p.max_calls < ports / FDS_PER_CALL {
        tracing::warn!(
            open_files = soft,
            pool_calls = ports / FDS_PER_CALL,
            max_calls = p.max_calls,
            "the open-files limit is below what the RTP port pool could carry; raise LimitNOFILE"
        );
    }
    p
}

/// Raises the soft open-files limit to the hard one (when `raise`), returning (soft, hard)
/// as they are afterwards. A failure leaves the limit as it was (logged by the caller).
pub fn raise_nofile(raise: bool) -> std::io::Result<(u64, u64)> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let now = getrlimit(Resource::Nofile);
    let hard = now.maximum;
    if raise && now.current != hard {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: hard,
                maximum: hard,
            },
        )?;
    }
    let after = getrlimit(Resource::Nofile);
    // `None` means unlimited.
    Ok((
        after.current.unwrap_or(u64::MAX),
        after.maximum.unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_service_limit_keeps_media_first() {
        // 1024 open files, the default pool 30000-39999 (10,000 ports), cap 1024.
        let p = plan(1024, 10_000, 1024);
        assert_eq!(p.http, 128);
        // 832 left: media 624 (156 calls), SIP TCP 208.
        assert_eq!((p.max_calls, p.sip_tcp), (156, 208));
        let used = BASE_FDS + p.http + p.max_calls * FDS_PER_CALL + p.sip_tcp as u64;
        assert!(used <= 1024, "{used}");
    }

    #[test]
    fn a_large_limit_covers_the_pool_and_the_cap() {
        let p = plan(1 << 20, 10_000, 1024);
        assert_eq!((p.max_calls, p.sip_tcp, p.http), (2_500, 1024, 256));
    }

    #[test]
    fn tiny_limits_do_not_underflow() {
        let p = plan(10, 10_000, 1024);
        assert_eq!((p.max_calls, p.sip_tcp), (0, 0));
        let p = plan(u64::MAX, 4, usize::MAX);
        assert_eq!(p.max_calls, 1);
    }

    #[test]
    fn raising_reports_soft_at_most_hard() {
        let (soft, hard) = raise_nofile(false).unwrap();
        assert!(soft <= hard);
    }
}
