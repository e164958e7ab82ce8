//! PIDF-LO and multipart: the first byte picks how the rest is fed (a bare PIDF-LO, a
//! multipart body with a fuzzed Geolocation header, or a Content-Type); never panics, and a
//! location read is on the globe and survives the pass-on printer and back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siaga::location::geoloc::{from_invite, multipart, parse_pidf, pass_on};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let found = match mode % 3 {
        0 => parse_pidf(rest).ok(),
        1 => from_invite(
            &["<cid:loc@x>"],
            None,
            Some("multipart/mixed; boundary=b"),
            rest,
        )
        .by_value,
        _ => {
            // First line: Geolocation value, second: Content-Type, then the body.
            let mut lines = rest.splitn(3, |&b| b == b'\n');
            let geo = String::from_utf8_lossy(lines.next().unwrap_or(b""));
            let ct = String::from_utf8_lossy(lines.next().unwrap_or(b""));
            let body = lines.next().unwrap_or(b"");
            let _ = multipart::boundary(&ct).map(|b| multipart::split(body, &b));
            from_invite(&[&geo], Some("no"), Some(&ct), body).by_value
        }
    };
    if let Some(p) = found {
        let loc = p.location;
        assert!(siaga::location::fix::valid_point(loc.lat, loc.lon));
        let out = pass_on(b"v=0\r\n", &loc, p.entity.as_deref().unwrap_or("pres:x@y"), "l@x");
        let back = from_invite(&[&out.geolocation], None, Some(&out.content_type), &out.body)
            .by_value
            .expect("our own pass-on reads back");
        assert!((back.location.lat - loc.lat).abs() < 1e-5);
        assert!((back.location.lon - loc.lon).abs() < 1e-5);
    }
});
