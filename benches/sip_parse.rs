//! Parse + validate throughput of the 912-byte trunk INVITE (fixtures/sip/probes), per core.
//! `cargo bench --bench sip_parse`; figures go to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use siaga::sip::header::{CSeq, NameAddr, Via};
use siaga::sip::ingress::{ingress, Ingress};
use siaga::sip::parse::{parse, Framing};
use std::hint::black_box;

const INVITE: &[u8] = include_bytes!("../fixtures/sip/probes/bench_invite_912b.sip");

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("invite_912b");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse", |b| {
        b.iter(|| parse(black_box(INVITE), Framing::Datagram).unwrap())
    });
    group.bench_function("ingress", |b| {
        b.iter(
            || match ingress(black_box(INVITE), Framing::Datagram, "siaga") {
                Ingress::Request(r) => r,
                other => panic!("{other:?}"),
            },
        )
    });
    // Ingress plus the typed reads a B2BUA does on every INVITE.
    group.bench_function("ingress_typed_reads", |b| {
        b.iter(|| {
            let Ingress::Request(r) = ingress(black_box(INVITE), Framing::Datagram, "siaga") else {
                panic!("rejected");
            };
            let via = Via::parse(r.headers.get("Via").unwrap()).unwrap();
            let from = NameAddr::parse(r.headers.get("From").unwrap(), "From").unwrap();
            let cseq = CSeq::parse(r.headers.get("CSeq").unwrap()).unwrap();
            (
                via.branch().map(str::len),
                from.tag().map(str::len),
                cseq.seq,
            )
        })
    });
    let parsed = parse(INVITE, Framing::Datagram).unwrap();
    group.bench_function("print", |b| b.iter(|| black_box(&parsed).to_bytes()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
