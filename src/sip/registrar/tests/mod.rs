//! Registrar tests in simulated time. Client digests are computed here from the RFC 7616
//! §3.4 formulas with the hash crates directly, not with the registrar's own functions.

use super::*;
use crate::sip::message::Method;
use md5::Digest as _;

mod bindings;
mod guarding;

const SRC: &str = "192.0.2.10:5060";
const URI: &str = "sip:siaga.local";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn src() -> SocketAddr {
    SRC.parse().unwrap()
}

fn settings() -> RegistrarSettings {
    RegistrarSettings {
        nonce_lifetime: secs(30),
        guard: GuardSettings {
            threshold: 3,
            window: secs(60),
            silence: secs(300),
            max_delay: secs(16),
            account_failures: 10,
            alarm_sources: 4,
        },
        qualify_interval: secs(30),
        qualify_misses: 2,
        seats: vec![
            SeatCredential {
                name: "seat01".into(),
                password: "s3cret-01".into(),
                allow_from: Vec::new(),
            },
            SeatCredential {
                name: "seat02".into(),
                password: "pw-02".into(),
                allow_from: Vec::new(),
            },
        ],
        ..RegistrarSettings::default()
    }
}

fn register(seat: &str, call_id: &str, cseq: u32, contacts: &[&str]) -> Request {
    let mut req = Request::new(Method::Register, URI);
    let h = &mut req.headers;
    h.push("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKreg1");
    h.push("Max-Forwards", "70");
    h.push("From", format!("<sip:{seat}@siaga.local>;tag=f1"));
    h.push("To", format!("<sip:{seat}@siaga.local>"));
    h.push("Call-ID", call_id);
    h.push("CSeq", format!("{cseq} REGISTER"));
    for c in contacts {
        h.push("Contact", *c);
    }
    req
}

fn hash(alg: Algorithm, s: &str) -> String {
    match alg {
        Algorithm::Md5 => format!("{:x}", md5::Md5::digest(s.as_bytes())),
        Algorithm::Sha256 => format!("{:x}", sha2::Sha256::digest(s.as_bytes())),
    }
}

/// The registrar's response, whenever it goes out.
fn answer(reg: &mut Registrar, now: Instant, source: SocketAddr, req: &Request) -> Response {
    reg.handle_register(now, source, req).response
}

/// `(algorithm, nonce, stale)` of each challenge, in order.
fn challenges(resp: &Response) -> Vec<(String, String, bool)> {
    resp.headers
        .get_all("WWW-Authenticate")
        .map(|v| {
            let param = |name: &str| {
                let start = v.find(&format!("{name}=")).unwrap() + name.len() + 1;
                let rest = v[start..].trim_start_matches('"');
                rest[..rest.find(['"', ',']).unwrap_or(rest.len())].to_string()
            };
            (param("algorithm"), param("nonce"), v.contains("stale=true"))
        })
        .collect()
}

/// Adds `Authorization` computed per RFC 7616 §3.4.1 (qop=auth) or RFC 2069 (no nc).
fn authorize(
    req: &mut Request,
    user: &str,
    password: &str,
    alg: Algorithm,
    nonce: &str,
    nc: Option<u32>,
) {
    let ha1 = hash(alg, &format!("{user}:siaga:{password}"));
    let ha2 = hash(alg, &format!("REGISTER:{URI}"));
    let (response, extra) = match nc {
        Some(nc) => (
            hash(alg, &format!("{ha1}:{nonce}:{nc:08x}:c0ffee:auth:{ha2}")),
            format!(", qop=auth, nc={nc:08x}, cnonce=\"c0ffee\""),
        ),
        None => (hash(alg, &format!("{ha1}:{nonce}:{ha2}")), String::new()),
    };
    req.headers.set(
        "Authorization",
        format!(
            "Digest username=\"{user}\", realm=\"siaga\", nonce=\"{nonce}\", uri=\"{URI}\", \
             response=\"{response}\", algorithm={alg}{extra}"
        ),
    );
}

/// Unauthenticated attempt, then the answer to the challenge for `alg`.
fn login(
    reg: &mut Registrar,
    now: Instant,
    req: &Request,
    password: &str,
    alg: Algorithm,
) -> Response {
    login_from(reg, now, src(), req, password, alg)
}

/// [`login`] from `source`.
fn login_from(
    reg: &mut Registrar,
    now: Instant,
    source: SocketAddr,
    req: &Request,
    password: &str,
    alg: Algorithm,
) -> Response {
    let first = answer(reg, now, source, req);
    assert_eq!(first.status, 401);
    let (_, nonce, _) = challenges(&first)
        .into_iter()
        .find(|(a, _, _)| a == alg.as_str())
        .unwrap();
    let mut req = req.clone();
    let user = NameAddr::parse(req.headers.get("To").unwrap(), "To")
        .unwrap()
        .uri
        .user
        .unwrap();
    authorize(&mut req, &user, password, alg, &nonce, Some(1));
    answer(reg, now, source, &req)
}

#[test]
fn challenge_then_sha256_and_md5() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10:5060>"]);
    let first = answer(&mut reg, t0, src(), &req);
    assert_eq!(first.status, 401);
    let ch = challenges(&first);
    assert_eq!(ch.len(), 2);
    assert_eq!((ch[0].0.as_str(), ch[1].0.as_str()), ("MD5", "SHA-256"));
    assert_eq!(ch[0].1, ch[1].1);
    let value = first.headers.get("WWW-Authenticate").unwrap();
    assert!(
        value.starts_with("Digest realm=\"siaga\", nonce=\""),
        "{value}"
    );
    assert!(value.contains("opaque=\"") && value.contains("qop=\"auth\""));
    assert!(first.headers.get("To").unwrap().contains(";tag="));

    let ok = login(&mut reg, t0, &req, "s3cret-01", Algorithm::Sha256);
    assert_eq!(ok.status, 200);
    let contacts: Vec<&str> = ok.headers.get_all("Contact").collect();
    assert_eq!(contacts, ["<sip:seat01@192.0.2.10:5060>;expires=3600"]);

    let req2 = register("seat02", "c2", 1, &["<sip:seat02@192.0.2.11>"]);
    assert_eq!(
        login(&mut reg, t0, &req2, "pw-02", Algorithm::Md5).status,
        200
    );
    let bound = reg.contacts_for(t0, "seat02");
    assert_eq!(bound[0].source, src());
    assert_eq!(bound[0].contact, "sip:seat02@192.0.2.11");
}

/// libre 1.x (baresip) gives up on a 401 holding any non-MD5 challenge: its User-Agent
/// gets MD5 alone; other agents still get both, and SHA-256 still verifies for them.
#[test]
fn md5_only_user_agent_gets_md5_alone() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let mut req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    req.headers
        .push("User-Agent", "baresip v1.0.0 (x86_64/linux)");
    let ch = challenges(&answer(&mut reg, t0, src(), &req));
    let algs: Vec<&str> = ch.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(algs, ["MD5"]);
    assert_eq!(
        login(&mut reg, t0, &req, "s3cret-01", Algorithm::Md5).status,
        200
    );

    let mut other = register("seat02", "c2", 1, &["<sip:seat02@192.0.2.11>"]);
    other
        .headers
        .push("User-Agent", "Linphone/5.2 (belle-sip/5.2)");
    let ch = challenges(&answer(&mut reg, t0, src(), &other));
    let algs: Vec<&str> = ch.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(algs, ["MD5", "SHA-256"]);
    assert_eq!(
        login(&mut reg, t0, &other, "pw-02", Algorithm::Sha256).status,
        200
    );
}

/// With SHA-256 alone configured the MD5-only list cannot add MD5 back.
#[test]
fn md5_only_list_never_adds_md5() {
    let s = RegistrarSettings {
        algorithms: vec![Algorithm::Sha256],
        ..settings()
    };
    let algs = s.challenge_algorithms(Some("BareSIP v1.0.0"));
    assert_eq!(algs, [Algorithm::Sha256]);
    assert_eq!(
        settings().challenge_algorithms(None),
        [Algorithm::Md5, Algorithm::Sha256]
    );
}

#[test]
fn rfc2069_without_qop_is_accepted_once() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let mut req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    let nonce = challenges(&answer(&mut reg, t0, src(), &req))[0].1.clone();
    authorize(
        &mut req,
        "seat01",
        "s3cret-01",
        Algorithm::Md5,
        &nonce,
        None,
    );
    assert_eq!(answer(&mut reg, t0, src(), &req).status, 200);
    req.headers.set("CSeq", "2 REGISTER");
    let again = answer(&mut reg, t0, src(), &req);
    assert_eq!(again.status, 401);
    assert!(
        challenges(&again)[0].2,
        "reused no-qop nonce gets stale=true"
    );
}

#[test]
fn unknown_user_and_foreign_aor_are_forbidden() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let req = register("seat09", "c1", 1, &["<sip:seat09@192.0.2.10>"]);
    assert_eq!(
        login(&mut reg, t0, &req, "x", Algorithm::Sha256).status,
        403
    );
    // seat02's valid credentials for seat01's AOR.
    let mut req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    let nonce = challenges(&answer(&mut reg, t0, src(), &req))[0].1.clone();
    authorize(
        &mut req,
        "seat02",
        "pw-02",
        Algorithm::Sha256,
        &nonce,
        Some(1),
    );
    assert_eq!(answer(&mut reg, t0, src(), &req).status, 403);
    assert!(reg.contacts_for(t0, "seat01").is_empty());
}

#[test]
fn expired_nonce_gets_stale_challenge() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let mut req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    let nonce = challenges(&answer(&mut reg, t0, src(), &req))[0].1.clone();
    authorize(
        &mut req,
        "seat01",
        "s3cret-01",
        Algorithm::Sha256,
        &nonce,
        Some(1),
    );
    let stale = answer(&mut reg, t0 + secs(31), src(), &req);
    assert_eq!(stale.status, 401);
    assert!(challenges(&stale).iter().all(|c| c.2));
    let fresh = challenges(&stale)[0].1.clone();
    authorize(
        &mut req,
        "seat01",
        "s3cret-01",
        Algorithm::Sha256,
        &fresh,
        Some(1),
    );
    assert_eq!(answer(&mut reg, t0 + secs(31), src(), &req).status, 200);
}

#[test]
fn nonce_count_replay_is_refused() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let mut req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    let nonce = challenges(&answer(&mut reg, t0, src(), &req))[0].1.clone();
    authorize(
        &mut req,
        "seat01",
        "s3cret-01",
        Algorithm::Sha256,
        &nonce,
        Some(1),
    );
    assert_eq!(answer(&mut reg, t0, src(), &req).status, 200);
    req.headers.set("CSeq", "2 REGISTER");
    let replay = answer(&mut reg, t0, src(), &req);
    assert_eq!(replay.status, 401);
    assert!(challenges(&replay)[0].2);
    authorize(
        &mut req,
        "seat01",
        "s3cret-01",
        Algorithm::Sha256,
        &nonce,
        Some(2),
    );
    assert_eq!(answer(&mut reg, t0, src(), &req).status, 200);
}

#[test]
fn unknown_authorization_scheme_is_challenged() {
    // RFC 4475 §3.3.7 regaut01.
    let mut reg = Registrar::new(settings());
    let mut req = register("seat01", "c1", 1, &[]);
    req.headers
        .push("Authorization", "NoOneKnowsThisScheme opaque-data=here");
    let resp = answer(&mut reg, Instant::now(), src(), &req);
    assert_eq!(resp.status, 401);
    assert_eq!(challenges(&resp).len(), 2);
}

#[test]
fn non_sip_to_is_bad_request() {
    // RFC 4475 §3.3.4 unksm2, as built by hand.
    let mut reg = Registrar::new(settings());
    let mut req = Request::new(Method::Register, "sip:example.com");
    req.headers.push("To", "isbn:2983792873");
    req.headers
        .push("From", "<http://www.example.com>;tag=3234233");
    req.headers
        .push("Call-ID", "unksm2.daksdj@hyphenated-host.example.com");
    req.headers.push("CSeq", "234902 REGISTER");
    req.headers.push("Contact", "<name:John_Smith>");
    assert_eq!(answer(&mut reg, Instant::now(), src(), &req).status, 400);
    // A foreign domain is 404 (RFC 3261 §10.3 step 3).
    let mut req = register("seat01", "c1", 1, &[]);
    req.headers.set("To", "<sip:seat01@elsewhere.example>");
    assert_eq!(answer(&mut reg, Instant::now(), src(), &req).status, 404);
}
