//! Every RFC 4475 torture message and every trunk probe through the ingress gate, with the
//! outcome RFC 4475 asks for (fixtures/sip/rfc4475/INDEX.tsv says which are valid).

use siaga::sip::ingress::{ingress, Ingress};
use siaga::sip::parse::Framing;
use std::path::Path;

/// Expected outcome: "req"/"resp" = accepted, a number = rejected with that status,
/// "drop" = silently dropped.
const EXPECTED: &[(&str, &str)] = &[
    // §3.1.1 valid
    ("wsinv", "req"),
    ("intmeth", "501"),
    ("esc01", "req"),
    ("escnull", "req"),
    ("esc02", "501"),
    ("lwsdisp", "req"),
    ("longreq", "req"),
    ("dblreq", "req"),
    ("semiuri", "req"),
    ("transports", "req"),
    ("mpart01", "405"),
    ("unreason", "resp"),
    ("noreason", "resp"),
    ("inv2543", "req"),
    // §3.1.2 invalid
    ("badinv01", "400"),
    ("clerr", "400"),
    ("ncl", "400"),
    ("scalar02", "400"),
    ("scalarlg", "drop"),
    ("quotbal", "400"),
    ("ltgtruri", "400"),
    ("lwsruri", "400"),
    ("lwsstart", "400"),
    ("trws", "400"),
    ("escruri", "400"),
    ("baddate", "400"),
    ("regbadct", "400"),
    ("badaspec", "400"),
    ("baddn", "400"),
    ("badvers", "505"),
    ("mismatch01", "400"),
    ("mismatch02", "400"),
    ("bigcode", "drop"),
    // §3.2, §3.3 semantic
    ("badbranch", "req"),
    ("insuf", "400"),
    ("unkscm", "416"),
    ("novelsc", "416"),
    ("unksm2", "req"),
    ("bext01", "420"),
    ("invut", "415"),
    ("regaut01", "req"),
    ("multi01", "400"),
    ("mcl01", "400"),
    ("bcast", "resp"),
    ("zeromf", "req"),
    ("cparam01", "req"),
    ("cparam02", "req"),
    ("regescrt", "req"),
    ("sdp01", "406"),
];

fn outcome(bytes: &[u8]) -> (String, String) {
    match ingress(bytes, Framing::Datagram, "siaga") {
        Ingress::Request(_) => ("req".into(), String::new()),
        Ingress::Response(_) => ("resp".into(), String::new()),
        Ingress::Reject(r) => (r.status.to_string(), r.reason.clone()),
        Ingress::Drop(why) => ("drop".into(), why),
    }
}

#[test]
fn rfc4475_outcomes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sip/rfc4475");
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).unwrap();
    let names: Vec<&str> = index
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(names.len(), 49);
    let mut wrong = Vec::new();
    for name in &names {
        let expected = EXPECTED
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no expectation for {name}"))
            .1;
        let bytes = std::fs::read(dir.join(format!("{name}.sip"))).unwrap();
        let (got, why) = outcome(&bytes);
        if got != expected {
            wrong.push(format!("{name}: expected {expected}, got {got} ({why})"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn rejections_name_the_fault() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sip/rfc4475");
    for (name, reason_part) in [
        ("clerr", "Content-Length"),
        ("mismatch01", "CSeq method"),
        ("insuf", "missing"),
        ("multi01", "multiple"),
        ("baddate", "Date"),
        ("scalar02", "CSeq"),
        ("ltgtruri", "Request-URI"),
        ("quotbal", "quoted"),
    ] {
        let bytes = std::fs::read(dir.join(format!("{name}.sip"))).unwrap();
        match ingress(&bytes, Framing::Datagram, "siaga") {
            Ingress::Reject(r) => {
                assert!(
                    r.reason.contains(reason_part),
                    "{name}: reason {:?}",
                    r.reason
                );
                let warning = r.headers.get("Warning").unwrap_or_default();
                assert!(warning.starts_with("399 siaga "), "{name}: {warning}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// Probe values read by an independent line-based extraction of each file (unfold, expand
/// compact names, split comma lists): Via count, top branch, From tag, Call-ID, CSeq,
/// Contact count, body length.
/// (name, Via count, branch, From tag, Call-ID, CSeq, Contact count, body length)
type Probe = (
    &'static str,
    usize,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    usize,
    usize,
);

const PROBES: &[Probe] = &[
    (
        "bench_invite_912b",
        1,
        "z9hG4bK-524287-1---e0c9a1b6",
        "as4f3c2a1b",
        "5a1c8e3f7b2d4a60@10.20.30.40",
        "102 INVITE",
        1,
        240,
    ),
    (
        "p01_baseline_invite",
        1,
        "z9hG4bK-524287-1---e0c9a1b6",
        "as4f3c2a1b",
        "5a1c8e3f7b2d4a60@10.20.30.40",
        "102 INVITE",
        1,
        240,
    ),
    (
        "p02_compact_forms",
        1,
        "z9hG4bK-c1",
        "ftag1",
        "compact-1@10.20.30.40",
        "1 INVITE",
        1,
        240,
    ),
    (
        "p03_header_case",
        1,
        "z9hG4bK-case1",
        "ftag2",
        "case-1@10.20.30.40",
        "2 INVITE",
        1,
        240,
    ),
    (
        "p04_comma_via",
        2,
        "z9hG4bK-top",
        "ftag3",
        "commavia-1@10.20.30.40",
        "3 INVITE",
        1,
        0,
    ),
    (
        "p05_comma_contact",
        1,
        "z9hG4bK-reg1",
        "r1",
        "reg-1@10.1.1.5",
        "7 REGISTER",
        2,
        0,
    ),
    (
        "p06_folding",
        1,
        "z9hG4bK-fold1",
        "ftag4",
        "fold-1@10.20.30.40",
        "4 INVITE",
        1,
        0,
    ),
    (
        "p07_addrspec_tag",
        1,
        "z9hG4bK-as1",
        "ftag5",
        "addrspec-1@10.20.30.40",
        "5 INVITE",
        1,
        0,
    ),
    (
        "p08_lws_before_colon",
        1,
        "z9hG4bK-lws1",
        "ftag6",
        "lws-1@10.20.30.40",
        "6 INVITE",
        1,
        0,
    ),
    (
        "p09_lws_in_params",
        1,
        "z9hG4bK-lwsp1",
        "ftag7",
        "lwsp-1@10.20.30.40",
        "8 INVITE",
        1,
        0,
    ),
    (
        "p10_binary_body",
        1,
        "z9hG4bK-bin1",
        "ftag8",
        "bin-1@10.20.30.40",
        "9 MESSAGE",
        0,
        256,
    ),
    (
        "p11_no_content_length_udp",
        1,
        "z9hG4bK-nocl1",
        "ftag9",
        "nocl-1@10.20.30.40",
        "10 INVITE",
        1,
        240,
    ),
    (
        "p12_trailing_garbage",
        1,
        "z9hG4bK-tg1",
        "ftag10",
        "tg-1@10.20.30.40",
        "11 INVITE",
        1,
        240,
    ),
    (
        "p13_ipv6",
        1,
        "z9hG4bK-v6",
        "ftag11",
        "v6-1@2001:db8::40",
        "12 INVITE",
        1,
        0,
    ),
    (
        "p14_tel_uri",
        1,
        "z9hG4bK-tel1",
        "ftag12",
        "tel-1@10.20.30.40",
        "13 INVITE",
        1,
        0,
    ),
    (
        "p14b_tel_from_sip_ruri",
        1,
        "z9hG4bK-tel2",
        "ftag15",
        "tel-2@10.20.30.40",
        "16 INVITE",
        1,
        0,
    ),
    (
        "p15_withheld_anonymous",
        1,
        "z9hG4bK-anon1",
        "ftag13",
        "anon-1@10.20.30.40",
        "14 INVITE",
        1,
        0,
    ),
    (
        "p16_response_180",
        1,
        "z9hG4bK-524287-1---e0c9a1b6",
        "as4f3c2a1b",
        "5a1c8e3f7b2d4a60@10.20.30.40",
        "102 INVITE",
        1,
        0,
    ),
    (
        "p17_bare_lf",
        1,
        "z9hG4bK-lf1",
        "ftag14",
        "lf-1@10.20.30.40",
        "15 OPTIONS",
        0,
        0,
    ),
];

#[test]
fn probes_parse_with_the_right_values() {
    use siaga::sip::header::{CSeq, NameAddr, Via};
    use siaga::sip::parse::parse;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sip/probes");
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).unwrap();
    assert_eq!(index.lines().skip(1).count(), PROBES.len());
    for &(name, vias, branch, from_tag, call_id, cseq, contacts, body) in PROBES {
        let bytes = std::fs::read(dir.join(format!("{name}.sip"))).unwrap();
        let message = parse(&bytes, Framing::Datagram).unwrap_or_else(|e| panic!("{name}: {e}"));
        let h = message.headers();
        assert_eq!(h.count("Via"), vias, "{name} Via count");
        let top = Via::parse(h.get("Via").unwrap()).unwrap();
        assert_eq!(top.branch(), Some(branch), "{name} branch");
        let from = NameAddr::parse(h.get("From").unwrap(), "From").unwrap();
        assert_eq!(from.tag(), Some(from_tag), "{name} From tag");
        NameAddr::parse(h.get("To").unwrap(), "To").unwrap();
        assert_eq!(h.get("Call-ID"), Some(call_id), "{name} Call-ID");
        assert_eq!(
            CSeq::parse(h.get("CSeq").unwrap()).unwrap().to_string(),
            cseq,
            "{name}"
        );
        assert_eq!(h.count("Contact"), contacts, "{name} Contact count");
        for contact in h.get_all("Contact") {
            NameAddr::parse(contact, "Contact").unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(message.body().len(), body, "{name} body");
        // Printing and parsing again gives the same message (binary bodies included).
        let again = parse(&message.to_bytes(), Framing::Stream).unwrap();
        assert_eq!(again, message, "{name} round trip");
    }
}

#[test]
fn valid_torture_messages_round_trip() {
    use siaga::sip::parse::parse;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sip/rfc4475");
    for (name, expected) in EXPECTED {
        let bytes = std::fs::read(dir.join(format!("{name}.sip"))).unwrap();
        if let Ok(message) = parse(&bytes, Framing::Datagram) {
            let again = parse(&message.to_bytes(), Framing::Stream)
                .unwrap_or_else(|e| panic!("{name} ({expected}) reprint failed: {e}"));
            assert_eq!(again, message, "{name} round trip");
        }
    }
}
