//! `POST /aml`, `/aml/sms` over the router, with a stand-in driver that takes the
//! `Command::Location` (the real-binary test in `tests/location_calls.rs` runs the real one).
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use super::{router, ApiState};
use crate::config::Config;
use crate::gateway::{Command, Handle};
use crate::location::Channel;
use crate::routing::{Acd, AcdSettings};
use crate::store::MemoryStore;

const KEY: &str = "aml-key-0123456789abcdef";

fn state(toml: &str) -> ApiState {
    let config = Config::from_toml(toml).expect("config");
    let acd = Acd::new(
        Instant::now(),
        AcdSettings::from_config(&config.routing),
        Vec::new(),
    );
    ApiState::new(
        &config,
        Arc::new(Mutex::new(acd)),
        Arc::new(MemoryStore::new()),
    )
    .expect("state")
}

fn enabled() -> String {
    format!("[location]\naml_enabled = true\naml_api_key = \"{KEY}\"\naml_rate_per_minute = 3\n")
}

async fn post(state: &ApiState, path: &str, key: Option<&str>, body: &str) -> StatusCode {
    let mut req = Request::post(path).header("Host", "localhost");
    if let Some(k) = key {
        req = req.header("X-Siaga-Aml-Key", k);
    }
    if path == "/aml/sms" {
        req = req.header("X-Siaga-Sms-From", "+6281234567890");
    }
    let req = req.body(Body::from(body.to_string())).expect("request");
    router(state.clone())
        .oneshot(req)
        .await
        .expect("answer")
        .status()
}

const ELS: &str = "v=3&emergency_number=112&location_latitude=-6.71251&location_longitude=108.55822&location_accuracy=12&device_number=081234567890";

#[tokio::test]
async fn disabled_is_404() {
    let s = state("");
    assert_eq!(
        post(&s, "/aml", Some(KEY), ELS).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&s, "/aml/sms", Some(KEY), "x").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn always_200_and_only_authenticated_parsed_locations_reach_the_gateway() {
    let (handle, mut inbox) = Handle::channel();
    let s = state(&enabled()).with_gateway(handle);
    let taken = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(cmd) = inbox.commands.recv().await {
            if let Command::Location { location, reply } = cmd {
                got.push(location);
                let _ = reply.send(());
            }
        }
        got
    });
    assert_eq!(post(&s, "/aml", Some("wrong"), ELS).await, StatusCode::OK);
    assert_eq!(post(&s, "/aml", None, ELS).await, StatusCode::OK);
    assert_eq!(post(&s, "/aml", Some(KEY), ELS).await, StatusCode::OK);
    assert_eq!(
        post(&s, "/aml", Some(KEY), "v=1").await,
        StatusCode::OK,
        "no position: discarded"
    );
    let sms = "A\"ML=1;lt=-06.71251;lg=+108.55822;rd=20;top=20220131171748;lc=68;pm=G;si=510100000000000;ei=353456789012348;mcc=510;mnc=10;ml=129";
    assert_eq!(post(&s, "/aml/sms", Some(KEY), sms).await, StatusCode::OK);
    // Rate limit (3 per minute, counted after authentication): the third taken above.
    assert_eq!(post(&s, "/aml", Some(KEY), ELS).await, StatusCode::OK);
    assert_eq!(
        s.aml.accepted.load(Ordering::Relaxed),
        2,
        "the ELS and the SMS"
    );
    assert_eq!(
        s.aml.discarded.load(Ordering::Relaxed),
        4,
        "2 keys, no position, rate"
    );
    drop(s);
    let got = taken.await.expect("driver");
    assert_eq!(got[0].channel, Channel::AmlHttps);
    assert_eq!(got[0].caller.as_deref(), Some("081234567890"));
    assert!((got[0].lat + 6.71251).abs() < 1e-9);
    assert_eq!(got[1].channel, Channel::AmlSms);
    assert_eq!(got[1].imei.as_deref(), Some("353456789012348"));
    assert_eq!(got.len(), 2);
}

#[tokio::test]
async fn hmac_signed_posts_are_taken_and_unsigned_ones_discarded() {
    let secret = "hmac-secret-0123456789abcdef";
    let s = state(&format!(
        "[location]\naml_enabled = true\naml_auth = \"hmac\"\naml_hmac_secret = \"{secret}\"\n"
    ));
    let (handle, mut inbox) = Handle::channel();
    let s = s.with_gateway(handle);
    let taken = tokio::spawn(async move {
        let mut n = 0;
        while let Some(cmd) = inbox.commands.recv().await {
            if let Command::Location { reply, .. } = cmd {
                n += 1;
                let _ = reply.send(());
            }
        }
        n
    });
    let signed = |sig: &str| {
        Request::post("/aml")
            .header("Host", "localhost")
            .header("X-Siaga-Signature", sig)
            .body(Body::from(ELS))
            .expect("request")
    };
    let good = crate::location::intake::sign(secret, ELS.as_bytes());
    let bad = crate::location::intake::sign("another-secret-0123456789", ELS.as_bytes());
    for (sig, want) in [(good.as_str(), 1), (bad.as_str(), 1), ("sha256=00", 1)] {
        let answer = router(s.clone())
            .oneshot(signed(sig))
            .await
            .expect("answer");
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(s.aml.accepted.load(Ordering::Relaxed), want, "{sig}");
    }
    assert_eq!(s.aml.discarded.load(Ordering::Relaxed), 2);
    drop(s);
    assert_eq!(taken.await.expect("driver"), 1);
}
