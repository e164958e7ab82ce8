//! The records API through `oneshot`: logins and expiry, validation, permissions, analytics.
use std::sync::atomic::Ordering;

use axum::http::StatusCode;
use serde_json::json;

use super::test_app::{app, KEY_ANALYST, T0};
use crate::store::Timestamp;

#[tokio::test]
async fn login_issues_expiring_tokens() {
    let app = app();
    let bad = json!({ "name": "budi", "password": "nope" }).to_string();
    assert_eq!(
        app.call3("POST", "/api/login", None, &bad).await.0,
        StatusCode::UNAUTHORIZED
    );
    let ghost = json!({ "name": "nobody", "password": "x" }).to_string();
    assert_eq!(
        app.call3("POST", "/api/login", None, &ghost).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, v, _) = app
        .call3("POST", "/api/login", None, r#"{"name":"budi"}"#)
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password"))
    );
    let token = app.login("budi").await;
    assert_eq!(token.len(), 64);
    assert_eq!(
        app.call3("GET", "/api/calls", Some(&token), "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.call3("GET", "/api/calls", None, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call3("GET", "/api/calls", Some("f00"), "").await.0,
        StatusCode::UNAUTHORIZED
    );
    app.now.fetch_add(3_600_000, Ordering::SeqCst); // the 1 h ttl is over
    assert_eq!(
        app.call3("GET", "/api/calls", Some(&token), "").await.0,
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
        let (status, v, _) = app.call3("POST", uri, Some(&t), body).await;
        assert_eq!(
            (status, v["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{body}: {v}"
        );
    }
    let long = json!({ "category": "pln", "notes": "x".repeat(5000) }).to_string();
    assert_eq!(
        app.call3("POST", uri, Some(&t), &long).await.1["field"],
        "notes"
    );
    let (status, v, _) = app
        .call3("GET", "/api/calls?since=yesterday", Some(&t), "")
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("since"))
    );
    let (status, v, _) = app.call3("GET", "/api/calls?sort=x", Some(&t), "").await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("sort"))
    );
    assert_eq!(
        app.call3("POST", "/api/calls/zz/disposition", Some(&t), "{}")
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
        .call3("POST", "/api/calls/c1/disposition", Some(&budi), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["call"]["kecamatan"], "Kesambi");
    assert_eq!(v["call"]["disposition"]["by"], "budi");
    let (status, _, _) = app
        .call3("POST", "/api/calls/c2/disposition", Some(&budi), body)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "c2 rang seat2, not budi's seat1"
    );
    let (status, _, _) = app
        .call3("POST", "/api/calls/c1/disposition", Some(&ana), body)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let fix = r#"{"category":"ghost","notes":"no voice on the recording"}"#;
    let (status, v, _) = app
        .call3("POST", "/api/calls/c1/disposition", Some(&sup), fix)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, v, _) = app.call3("GET", "/api/calls/c1", Some(&ana), "").await;
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
        .call3(
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
    app.call3(
        "POST",
        "/api/calls/c1/disposition",
        Some(&budi),
        r#"{"category":"pln","kecamatan":"Kejaksan"}"#,
    )
    .await;
    let uri = "/api/analytics/summary?since=2026-11-01&until=2026-11-02&by=kecamatan,category";
    let (status, v, _) = app.call3("GET", uri, Some(&ana), "").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 3);
    assert_eq!(
        v["table"],
        json!([{ "key": ["(unknown)", "(undisposed)"], "calls": 2 }, { "key": ["Kejaksan", "pln"], "calls": 1 }])
    );
    assert_eq!(v["top_callers"][0]["calls"], 1);
    let (status, _, csv) = app
        .call3(
            "GET",
            &uri.replace("summary", "summary.csv"),
            Some(&sup),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        csv,
        "kecamatan,category,calls\r\n(unknown),(undisposed),2\r\nKejaksan,pln,1\r\n"
    );
    assert_eq!(
        app.call3("GET", uri, Some(&budi), "").await.0,
        StatusCode::FORBIDDEN
    );
    let (status, v, _) = app
        .call3("GET", "/api/analytics/summary?by=colour", Some(&ana), "")
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("by"))
    );
    let (status, v, _) = app
        .call3(
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
    let (_, v, _) = app.call3("GET", "/api/categories", Some(&budi), "").await;
    assert_eq!(v["categories"].as_array().unwrap().len(), 18);
    assert_eq!(v["categories"][14]["counts_as"], "prank");
}

fn ids(v: &serde_json::Value) -> Vec<&str> {
    v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_seat_reads_only_its_own_and_queued_calls() {
    let app = app();
    let budi = app.login("budi").await;
    let (status, v, _) = app.call3("GET", "/api/calls", Some(&budi), "").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let mut seen = ids(&v);
    seen.sort_unstable();
    assert_eq!(
        seen,
        ["c1", "q1"],
        "own call and the waiting one, not seat2's c2"
    );
    assert_eq!(
        app.call3("GET", "/api/calls/c1", Some(&budi), "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.call3("GET", "/api/calls/q1", Some(&budi), "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.call3("GET", "/api/calls/c2", Some(&budi), "").await.0,
        StatusCode::FORBIDDEN
    );
    // No search by caller number, no peeking at another seat.
    for uri in ["/api/calls?caller=0822", "/api/calls?seat=seat2"] {
        assert_eq!(
            app.call3("GET", uri, Some(&budi), "").await.0,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    let (_, v, _) = app
        .call3("GET", "/api/calls?seat=seat1", Some(&budi), "")
        .await;
    let mut seen = ids(&v);
    seen.sort_unstable();
    assert_eq!(seen, ["c1", "q1"], "own calls and the waiting one");
    // A supervisor, an analyst and an analyst key read everything and may search.
    let sup = app.login("sup").await;
    for t in [sup.as_str(), KEY_ANALYST] {
        let (_, v, _) = app.call3("GET", "/api/calls", Some(t), "").await;
        assert_eq!(ids(&v).len(), 3);
        let (_, v, _) = app
            .call3("GET", "/api/calls?caller=0822", Some(t), "")
            .await;
        assert_eq!(ids(&v), ["c2"]);
    }
}

#[tokio::test]
async fn screening_audio_is_wav_for_supervisors_only() {
    let app = app();
    crate::screening::audio::AudioStore::new(app.audio_dir.path(), 30)
        .save("c1", &[0xFF; 1600])
        .unwrap()
        .expect("kept");
    let sup = app.login("sup").await;
    let uri = "/api/calls/c1/screening-audio";
    let a = app.call("GET", uri, Some(&sup), "").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.headers["content-type"], "audio/wav");
    let seat = app.login("budi").await;
    assert_eq!(
        app.call("GET", uri, Some(&seat), "").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call("GET", uri, Some(KEY_ANALYST), "").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call("GET", uri, None, "").await.status,
        StatusCode::UNAUTHORIZED
    );
    // A call without kept audio, and no call at all.
    for missing in [
        "/api/calls/c2/screening-audio",
        "/api/calls/zz/screening-audio",
    ] {
        assert_eq!(
            app.call("GET", missing, Some(&sup), "").await.status,
            StatusCode::NOT_FOUND
        );
    }
}
