//! The records API through `oneshot`: logins and expiry, validation, permissions, analytics.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::accounts::{new_account, Sessions};
use super::*;
use crate::analytics::Analytics;
use crate::config::default_categories;
use crate::location::Places;
use crate::store::{CallStore, CallUpdate, MemoryStore, Role, StoreHandle, Timestamp};

const T0: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z

struct App {
    state: RecordsApiState,
    now: Arc<AtomicI64>,
    _audio_dir: tempfile::TempDir,
}

fn app() -> App {
    let store = Arc::new(MemoryStore::new());
    let accounts = [
        ("budi", Role::Seat, Some("seat1")),
        ("sari", Role::Seat, Some("seat2")),
        ("sup", Role::Supervisor, None),
        ("ana", Role::Analyst, None),
    ];
    for (name, role, seat) in accounts {
        store
            .put_account(&new_account(name, role, seat, &format!("pw-{name}")).unwrap())
            .unwrap();
    }
    for (id, seat, caller) in [("c1", "seat1", "0811"), ("c2", "seat2", "0822")] {
        let received = CallUpdate::Received {
            at: Timestamp::from_ms(T0),
            caller: Some(caller.into()),
            display_name: None,
            trunk: "t".into(),
            sip_call_id: id.into(),
        };
        store.record_event(id, received).unwrap();
        let answered = CallUpdate::Answered {
            at: Timestamp::from_ms(T0 + 9000),
            seat: seat.into(),
        };
        store.record_event(id, answered).unwrap();
    }
    let now = Arc::new(AtomicI64::new(T0 + 3_600_000));
    let clock_now = Arc::clone(&now);
    let audio_dir = tempfile::tempdir().unwrap();
    let state = RecordsApiState {
        screening_audio: crate::screening::audio::AudioStore::new(audio_dir.path(), 30),
        store: StoreHandle::new(store),
        sessions: Arc::new(Sessions::new(3600)),
        places: Arc::new(Places::cirebon().unwrap()),
        categories: Arc::new(default_categories()),
        analytics: Arc::new(Analytics::new(7, default_categories(), 10)),
        clock: Arc::new(move || Timestamp::from_ms(clock_now.load(Ordering::SeqCst))),
    };
    App {
        state,
        now,
        _audio_dir: audio_dir,
    }
}

impl App {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, Value, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(Body::from(body.to_owned())).unwrap();
        let resp = routes(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        )
    }

    async fn login(&self, name: &str) -> String {
        let body = json!({ "name": name, "password": format!("pw-{name}") }).to_string();
        let (status, v, _) = self.call("POST", "/api/login", None, &body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn login_issues_expiring_tokens() {
    let app = app();
    let bad = json!({ "name": "budi", "password": "nope" }).to_string();
    assert_eq!(
        app.call("POST", "/api/login", None, &bad).await.0,
        StatusCode::UNAUTHORIZED
    );
    let ghost = json!({ "name": "nobody", "password": "x" }).to_string();
    assert_eq!(
        app.call("POST", "/api/login", None, &ghost).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, v, _) = app
        .call("POST", "/api/login", None, r#"{"name":"budi"}"#)
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password"))
    );
    let token = app.login("budi").await;
    assert_eq!(token.len(), 64);
    assert_eq!(
        app.call("GET", "/api/calls", Some(&token), "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.call("GET", "/api/calls", None, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call("GET", "/api/calls", Some("f00"), "").await.0,
        StatusCode::UNAUTHORIZED
    );
    app.now.fetch_add(3_600_000, Ordering::SeqCst); // the 1 h ttl is over
    assert_eq!(
        app.call("GET", "/api/calls", Some(&token), "").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn dispositions_validate_and_name_the_field() {
    let app = app();
    let t = app.login("budi").await;
    let uri = "/api/calls/c1/disposition";
    let cases = [
        ("{", "body"),
        ("[]", "body"),
        (r#"{"kecamatan":"Kesambi"}"#, "category"),
        (r#"{"category":"banjir"}"#, "category"),
        (r#"{"category":5}"#, "category"),
        (r#"{"category":"pln","kecamatan":"Sumber"}"#, "kecamatan"),
        (r#"{"category":"pln","kelurahan":"Kesambi"}"#, "kecamatan"),
        (
            r#"{"category":"pln","kecamatan":"Kesambi","kelurahan":"Sukapura"}"#,
            "kelurahan",
        ),
        (r#"{"category":"pln","colour":"red"}"#, "colour"),
    ];
    for (body, field) in cases {
        let (status, v, _) = app.call("POST", uri, Some(&t), body).await;
        assert_eq!(
            (status, v["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{body}: {v}"
        );
    }
    let long = json!({ "category": "pln", "notes": "x".repeat(5000) }).to_string();
    assert_eq!(
        app.call("POST", uri, Some(&t), &long).await.1["field"],
        "notes"
    );
    let (status, v, _) = app
        .call("GET", "/api/calls?since=yesterday", Some(&t), "")
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("since"))
    );
    let (status, v, _) = app.call("GET", "/api/calls?sort=x", Some(&t), "").await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("sort"))
    );
    assert_eq!(
        app.call("POST", "/api/calls/zz/disposition", Some(&t), "{}")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn seats_dispose_own_calls_supervisors_correct_any() {
    let app = app();
    let (budi, sup, ana) = (
        app.login("budi").await,
        app.login("sup").await,
        app.login("ana").await,
    );
    let body =
        r#"{"category":"prank","kecamatan":"Kesambi","kelurahan":"Drajat","notes":"laughing"}"#;
    let (status, v, _) = app
        .call("POST", "/api/calls/c1/disposition", Some(&budi), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["call"]["kecamatan"], "Kesambi");
    assert_eq!(v["call"]["disposition"]["by"], "budi");
    let (status, _, _) = app
        .call("POST", "/api/calls/c2/disposition", Some(&budi), body)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "c2 rang seat2, not budi's seat1"
    );
    let (status, _, _) = app
        .call("POST", "/api/calls/c1/disposition", Some(&ana), body)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let fix = r#"{"category":"ghost","notes":"no voice on the recording"}"#;
    let (status, v, _) = app
        .call("POST", "/api/calls/c1/disposition", Some(&sup), fix)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, v, _) = app.call("GET", "/api/calls/c1", Some(&ana), "").await;
    assert_eq!(v["call"]["disposition"]["category"], "ghost");
    let history: Vec<&str> = v["dispositions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["by"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["budi", "sup"]);
    assert_eq!(
        v["call"]["kecamatan"], "Kesambi",
        "a correction without a place keeps it"
    );
    let (_, v, _) = app
        .call(
            "GET",
            "/api/calls?category=ghost&kecamatan=Kesambi",
            Some(&budi),
            "",
        )
        .await;
    assert_eq!(v["calls"].as_array().unwrap().len(), 1);
    // the history screening reads
    let h = app
        .state
        .store
        .caller_history(
            "0811".into(),
            Timestamp::from_ms(T0 + 60_000),
            Timestamp::from_ms(0),
        )
        .await
        .unwrap();
    assert_eq!((h.ghost, h.prank, h.calls_1h), (1, 0, 1));
}

#[tokio::test]
async fn analytics_json_csv_and_categories() {
    let app = app();
    let (budi, sup, ana) = (
        app.login("budi").await,
        app.login("sup").await,
        app.login("ana").await,
    );
    app.call(
        "POST",
        "/api/calls/c1/disposition",
        Some(&budi),
        r#"{"category":"pln","kecamatan":"Kejaksan"}"#,
    )
    .await;
    let uri = "/api/analytics/summary?since=2026-11-01&until=2026-11-02&by=kecamatan,category";
    let (status, v, _) = app.call("GET", uri, Some(&ana), "").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 2);
    assert_eq!(
        v["table"],
        json!([{ "key": ["(unknown)", "(undisposed)"], "calls": 1 }, { "key": ["Kejaksan", "pln"], "calls": 1 }])
    );
    assert_eq!(v["top_callers"][0]["calls"], 1);
    let (status, _, csv) = app
        .call(
            "GET",
            &uri.replace("summary", "summary.csv"),
            Some(&sup),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        csv,
        "kecamatan,category,calls\r\n(unknown),(undisposed),1\r\nKejaksan,pln,1\r\n"
    );
    assert_eq!(
        app.call("GET", uri, Some(&budi), "").await.0,
        StatusCode::FORBIDDEN
    );
    let (status, v, _) = app
        .call("GET", "/api/analytics/summary?by=colour", Some(&ana), "")
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("by"))
    );
    let (status, v, _) = app
        .call(
            "GET",
            "/api/analytics/summary?since=2026-12-01&until=2026-11-01",
            Some(&ana),
            "",
        )
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("since"))
    );
    let (_, v, _) = app.call("GET", "/api/categories", Some(&budi), "").await;
    assert_eq!(v["categories"].as_array().unwrap().len(), 18);
    assert_eq!(v["categories"][14]["counts_as"], "prank");
}

#[tokio::test]
async fn screening_audio_is_wav_for_supervisors_only() {
    let app = app();
    app.state
        .screening_audio
        .save("c1", &[0xFF; 1600])
        .unwrap()
        .expect("kept");
    let sup = app.login("sup").await;
    let req = Request::builder()
        .uri("/api/calls/c1/screening-audio")
        .header("authorization", format!("Bearer {sup}"))
        .body(Body::empty())
        .unwrap();
    let resp = routes(app.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "audio/wav");
    let wav = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!((&wav[..4], wav.len()), (&b"RIFF"[..], 44 + 3200));
    let seat = app.login("budi").await;
    let uri = "/api/calls/c1/screening-audio";
    assert_eq!(
        app.call("GET", uri, Some(&seat), "").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call("GET", uri, None, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    // A call without kept audio, and no call at all.
    let none = "/api/calls/c2/screening-audio";
    assert_eq!(
        app.call("GET", none, Some(&sup), "").await.0,
        StatusCode::NOT_FOUND
    );
    let missing = "/api/calls/zz/screening-audio";
    assert_eq!(
        app.call("GET", missing, Some(&sup), "").await.0,
        StatusCode::NOT_FOUND
    );
}
