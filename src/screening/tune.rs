use super::vad::Vad;
use crate::media::g711::ulaw_to_linear;

#[test]
#[ignore]
fn dump() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/screening");
    let labels = std::fs::read_to_string(format!("{dir}/labels.tsv")).unwrap();
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let bytes = std::fs::read(format!("{dir}/{}", cols[0])).unwrap();
        let mut vad = Vad::new();
        let (mut ev, mut first, mut decide, mut maxrec) = (0, None, None, 0);
        let mut rows = Vec::new();
        for (i, chunk) in bytes.chunks(160).enumerate() {
            let s: Vec<i16> = chunk.iter().map(|&b| ulaw_to_linear(b)).collect();
            let f = vad.push(&s);
            if f.evidence { ev += 1; first.get_or_insert(i); }
            maxrec = maxrec.max(vad.recent_speech_frames());
            if vad.recent_speech_frames() >= 8 { decide.get_or_insert(i); }
            let x = f.features;
            if std::env::var("DUMP").map_or(false, |d| cols[0].starts_with(&d)) {
                rows.push(format!("{i:3} lvl {:6.1} fl {:6.1} r {:.2} ton {:.2} flux {:4.1} {}", x.level_db, x.floor_db, x.periodicity, x.tonality, x.flux_db, if f.evidence {"E"} else {""}));
            }
        }
        println!("{:18} {:8} {:14} onset {:5} ev {:3} first {:5} maxrec {:2} decide {:?}", cols[0], cols[1], cols[2], cols[3], ev, first.map_or(-1.0, |i| i as f32 * 0.02), maxrec, decide.map(|i| i as f32 * 0.02));
        for r in rows { println!("{r}"); }
    }
}
