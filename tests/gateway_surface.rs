//! The running gateway's command surface (issue 9): a [`Handle`] on a gateway started
//! in-process on loopback; pause and resume answer with the seat's NEW state, and the change
//! is also published as an event.

use siaga::config::{Config, Seat, Secret};
use siaga::gateway::{CommandError, Event, Handle};
use siaga::routing::{AcdError, SeatStateKind};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A gateway with two static seats (UDP sockets nobody answers on: they are never rung here).
async fn gateway(dir: &std::path::Path) -> (siaga::app::Running, Vec<std::net::UdpSocket>) {
    let mut config = Config::default();
    config.sip.listen = "127.0.0.1:0".parse().unwrap();
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.store.path = dir.join("calls.sqlite");
    config.seats.clear();
    let mut sockets = Vec::new();
    for n in 1..=2 {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        config.seats.push(Seat {
            name: format!("seat{n}"),
            password: Secret::new(format!("test-{n}")),
            contact: format!("sip:seat{n}@{}", socket.local_addr().unwrap()),
            allow_from: Vec::new(),
        });
        sockets.push(socket);
    }
    let running = siaga::app::start(config, CancellationToken::new())
        .await
        .expect("gateway starts");
    (running, sockets)
}

async fn next_seat_change(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    seat: &str,
) -> Event {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.recv().await.expect("event stream open") {
                e @ Event::SeatChanged { .. } if matches!(&e, Event::SeatChanged { seat: s } if s.name == seat) => {
                    return e
                }
                _ => {}
            }
        }
    })
    .await
    .expect("a seat change within 5 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_answer_with_the_new_seat_state() {
    let dir = tempfile::tempdir().unwrap();
    let (running, _seats) = gateway(dir.path()).await;
    let handle: Handle = running.handle.clone();
    let before = handle.seats().await.unwrap();
    assert_eq!(before.len(), 2);
    assert!(
        before.iter().all(|s| s.state == SeatStateKind::Available),
        "{before:?}"
    );
    let mut events = handle.subscribe();

    let paused = handle.pause("seat2", "istirahat").await.unwrap();
    assert_eq!(paused.name, "seat2");
    assert_eq!(
        paused.state,
        SeatStateKind::Paused,
        "the reply is the state after the pause"
    );
    assert_eq!(paused.reason.as_deref(), Some("istirahat"));
    match next_seat_change(&mut events, "seat2").await {
        Event::SeatChanged { seat } => assert_eq!(seat.state, SeatStateKind::Paused),
        other => unreachable!("{other:?}"),
    }

    let resumed = handle.resume("seat2").await.unwrap();
    assert_eq!(
        resumed.state,
        SeatStateKind::Available,
        "the reply is the state after the resume"
    );
    assert_eq!(resumed.reason, None);
    match next_seat_change(&mut events, "seat2").await {
        Event::SeatChanged { seat } => assert_eq!(seat.state, SeatStateKind::Available),
        other => unreachable!("{other:?}"),
    }

    // Refusals are typed: resuming a seat that is not paused, an unknown seat.
    assert!(matches!(
        handle.resume("seat2").await,
        Err(CommandError::Acd(AcdError::Transition(_)))
    ));
    assert!(matches!(
        handle.pause("nobody", "x").await,
        Err(CommandError::Acd(AcdError::UnknownSeat { .. }))
    ));
    assert_eq!(
        handle.originate("081234567890").await,
        Err(CommandError::NotConfigured("outbound trunk"))
    );
    assert!(handle.queue().await.unwrap().is_empty());
    assert_eq!(handle.call("c-none").await.unwrap(), None);
    assert_eq!(handle.stats().await.unwrap().calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_gateway_answers_stopped_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let (running, _seats) = gateway(dir.path()).await;
    let handle = running.handle.clone();
    let shutdown = running.shutdown_token();
    shutdown.cancel();
    running.wait().await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), handle.seats()).await;
    assert_eq!(answer.expect("no hang"), Err(CommandError::Stopped));
}
