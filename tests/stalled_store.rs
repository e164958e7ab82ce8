//! A stalled store never stalls SIP (issue 9 item 3): the caller-history read of a screened
//! call runs off the SIP task with a deadline. While the store hangs on that read, an
//! unrelated REGISTER is answered at once, the trunk call itself is answered and screened
//! (without history: fail open), and nothing waits for the store.

use siaga::config::{Config, Seat, Secret};
use siaga::store::{
    Account, CallRecord, CallStore, CallUpdate, CallerCount, CallerHistory, Disposition, HourCount,
    ListFilter, MemoryStore, StoreError, Timestamp,
};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long the store hangs on a caller-history read.
const STALL: Duration = Duration::from_secs(2);

/// A memory store whose caller-history reads hang for [`STALL`].
struct StalledHistory {
    inner: MemoryStore,
    reads: AtomicUsize,
}

impl CallStore for StalledHistory {
    fn record_event(&self, id: &str, update: CallUpdate) -> Result<(), StoreError> {
        self.inner.record_event(id, update)
    }
    fn dispose(&self, id: &str, disposition: Disposition) -> Result<CallRecord, StoreError> {
        self.inner.dispose(id, disposition)
    }
    fn dispositions(&self, id: &str) -> Result<Vec<Disposition>, StoreError> {
        self.inner.dispositions(id)
    }
    fn interrupt_unfinished(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.inner.interrupt_unfinished(now)
    }
    fn get(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        self.inner.get(id)
    }
    fn list(&self, filter: &ListFilter) -> Result<Vec<CallRecord>, StoreError> {
        self.inner.list(filter)
    }
    fn caller_history(
        &self,
        number: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> Result<CallerHistory, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(STALL);
        self.inner.caller_history(number, now, since)
    }
    fn hourly_counts(&self, from_hour: i64, to_hour: i64) -> Result<Vec<HourCount>, StoreError> {
        self.inner.hourly_counts(from_hour, to_hour)
    }
    fn top_callers(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<CallerCount>, StoreError> {
        self.inner.top_callers(from, to, limit)
    }
    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        self.inner.put_account(account)
    }
    fn account(&self, name: &str) -> Result<Option<Account>, StoreError> {
        self.inner.account(name)
    }
}

const OFFER: &str = "v=0\r\no=trunk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

fn invite(gw: SocketAddr, trunk: SocketAddr) -> Vec<u8> {
    format!(
        "INVITE sip:112@{gw} SIP/2.0\r\nVia: SIP/2.0/UDP {trunk};branch=z9hG4bKstall1\r\n\
         Max-Forwards: 70\r\nFrom: \"Warga\" <sip:081234567890@{trunk}>;tag=t1\r\nTo: <sip:112@{gw}>\r\n\
         Call-ID: stall-1\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@{trunk}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    )
    .into_bytes()
}

fn register(gw: SocketAddr, seat: SocketAddr) -> Vec<u8> {
    format!(
        "REGISTER sip:siaga.local SIP/2.0\r\nVia: SIP/2.0/UDP {seat};branch=z9hG4bKstallreg\r\n\
         Max-Forwards: 70\r\nFrom: <sip:seat1@siaga.local>;tag=r1\r\nTo: <sip:seat1@siaga.local>\r\n\
         Call-ID: stall-reg@{gw}\r\nCSeq: 1 REGISTER\r\nContact: <sip:seat1@{seat}>\r\n\
         Expires: 300\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The first status line received within `limit`, and when it came.
fn status_within(socket: &UdpSocket, limit: Duration, wanted: &str) -> Option<(String, Instant)> {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 65535];
    while Instant::now() < deadline {
        socket
            .set_read_timeout(Some(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            ))
            .unwrap();
        let Ok(n) = socket.recv(&mut buf) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let first = text.lines().next().unwrap_or("").to_string();
        if first.contains(wanted) {
            return Some((first, Instant::now()));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_history_read_does_not_delay_an_unrelated_register() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.sip.listen = "127.0.0.1:0".parse().unwrap();
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.store.path = dir.path().join("unused.sqlite");
    config.screening.enabled = true;
    config.seats = vec![Seat {
        name: "seat1".into(),
        password: Secret::new("rahasia-1"),
        contact: String::new(),
        allow_from: Vec::new(),
    }];
    let store = Arc::new(StalledHistory {
        inner: MemoryStore::new(),
        reads: AtomicUsize::new(0),
    });
    let shutdown = CancellationToken::new();
    let running = siaga::app::start_with_store(config, store.clone(), shutdown.clone())
        .await
        .expect("gateway starts");
    let gw = running.sip[0];
    let handle = running.handle.clone();

    let (trunk, seat) = tokio::task::spawn_blocking(move || {
        let trunk = UdpSocket::bind("127.0.0.1:0").unwrap();
        let seat = UdpSocket::bind("127.0.0.1:0").unwrap();
        trunk
            .send_to(&invite(gw, trunk.local_addr().unwrap()), gw)
            .unwrap();
        // The call is answered at once for screening, and its history read starts.
        let answered = status_within(&trunk, Duration::from_secs(2), "200 OK");
        assert!(
            answered.is_some(),
            "the screened call is answered while the store hangs"
        );
        (trunk, seat)
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while store.reads.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the history read never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The store is now hanging on the read: a REGISTER must still be answered at once.
    let took = tokio::task::spawn_blocking(move || {
        let sent = Instant::now();
        seat.send_to(&register(gw, seat.local_addr().unwrap()), gw)
            .unwrap();
        let (line, at) =
            status_within(&seat, Duration::from_secs(3), "SIP/2.0 401").expect("REGISTER answered");
        assert!(line.contains("401"), "{line}");
        at - sent
    })
    .await
    .unwrap();
    assert!(
        took < Duration::from_millis(250),
        "REGISTER took {took:?} while the store stalled for {STALL:?}"
    );
    // After the history deadline the call is still there, screening without history.
    tokio::time::sleep(siaga::gateway::history::HISTORY_DEADLINE + Duration::from_millis(100))
        .await;
    assert_eq!(handle.stats().await.unwrap().calls, 1, "the call went on");
    drop(trunk);
    shutdown.cancel();
    running.wait().await.unwrap();
}
