//! `siaga demo`: the gateway on loopback with simulated trunk calls and simulated call-taker
//! seats, and a table of what happened to each call and why. Nothing to install: the calls
//! are SIP and RTP over 127.0.0.1 from this process. The callers' audio (`fixtures/audio/`)
//! and the prompts are compiled into the binary, so an installed `siaga` runs the demo from
//! any directory.

use crate::config::{Config, Seat, Secret};
use crate::gateway::b2bua::Prompt;
use crate::store::ListFilter;
use anyhow::Context;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

/// One simulated caller: a name for the table, a number, the audio file it sends, when it
/// starts and when it hangs up at the latest (a ghost is ended by the gateway before).
struct Caller {
    what: &'static str,
    number: &'static str,
    audio: &'static [u8],
    start_ms: u64,
    hold_ms: u64,
}

const CALLERS: &[Caller] = &[
    Caller {
        what: "speaking caller",
        number: "081200000001",
        audio: include_bytes!("../../fixtures/audio/speech-id.ul"),
        start_ms: 0,
        hold_ms: 5000,
    },
    Caller {
        what: "silent caller (ghost)",
        number: "081200000002",
        audio: include_bytes!("../../fixtures/audio/silence.ul"),
        start_ms: 300,
        hold_ms: 16000,
    },
    Caller {
        what: "pocket call (noise)",
        number: "081200000003",
        audio: include_bytes!("../../fixtures/audio/noise.ul"),
        start_ms: 600,
        hold_ms: 16000,
    },
    Caller {
        what: "cannot speak, presses 5",
        number: "081200000004",
        audio: include_bytes!("../../fixtures/audio/dtmf-55-inband.ul"),
        start_ms: 900,
        hold_ms: 16000,
    },
    Caller {
        what: "repeat caller, 1st call",
        number: "081200000005",
        audio: include_bytes!("../../fixtures/audio/speech.ul"),
        start_ms: 1200,
        hold_ms: 5000,
    },
    Caller {
        what: "repeat caller, 2nd call",
        number: "081200000005",
        audio: include_bytes!("../../fixtures/audio/speech.ul"),
        start_ms: 9000,
        hold_ms: 5000,
    },
];

async fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(UdpSocket::bind("127.0.0.1:0").await?.local_addr()?)
}

/// Runs the demo (everything it needs is built in; files go to a temporary folder).
pub async fn run() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("siaga-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut config = Config::default();
    config.sip.listen = free_addr().await?;
    config.api.listen = "127.0.0.1:0".parse()?;
    config.store.path = dir.join("demo.sqlite");
    config.screening.audio_dir = dir.join("screening-audio");
    config.routing.wrap_up_s = 1;
    // The built-in prompts, written where the gateway reads them.
    for (prompt, path) in [
        (Prompt::Queue, &mut config.routing.queue_prompt),
        (Prompt::Greeting, &mut config.screening.greeting_prompt),
        (Prompt::Press5, &mut config.screening.press5_prompt),
    ] {
        let file = dir.join(path.file_name().unwrap_or_else(|| "prompt.ul".as_ref()));
        std::fs::write(&file, crate::gateway::prompts::builtin(prompt))
            .with_context(|| format!("writing {}", file.display()))?;
        *path = file;
    }
    let mut seats = Vec::new();
    config.seats.clear();
    for n in 1..=2 {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        config.seats.push(Seat {
            name: format!("seat{n}"),
            password: Secret::new(format!("demo-{n}")),
            contact: format!("sip:seat{n}@{}", socket.local_addr()?),
            allow_from: Vec::new(),
        });
        seats.push(socket);
    }
    let gateway = config.sip.listen;
    let shutdown = CancellationToken::new();
    let app = tokio::spawn(crate::app::serve(config.clone(), shutdown.clone()));
    for socket in seats {
        tokio::spawn(sim::seat(socket, shutdown.clone()));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!(
        "siaga demo: gateway on udp:{gateway}, 2 call-taker seats, {} calls to 112\n",
        CALLERS.len()
    );
    let mut calls = Vec::new();
    for caller in CALLERS {
        let audio = caller.audio.to_vec();
        let start = Duration::from_millis(caller.start_ms);
        let hold = Duration::from_millis(caller.hold_ms);
        calls.push(tokio::spawn(sim::call(
            gateway,
            caller.number,
            audio,
            start,
            hold,
        )));
    }
    for call in calls {
        if let Err(err) = call.await? {
            println!("a simulated call failed: {err:#}");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    app.await??;
    print_table(&config.store)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn print_table(store: &crate::config::StoreConfig) -> anyhow::Result<()> {
    let store = crate::store::open_existing(store)?;
    let mut records = store.list(&ListFilter::default())?;
    records.reverse();
    println!(
        "{:<26} {:<13} {:<18} {:>5}  {:<6} {:<10} reasons",
        "caller", "number", "class", "risk", "seat", "ended"
    );
    for (record, caller) in records.iter().zip(CALLERS) {
        let class = record
            .class
            .map(|c| format!("{c:?}"))
            .unwrap_or_else(|| "-".into());
        let ended = record
            .end_reason
            .map(|r| format!("{r:?}"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<26} {:<13} {:<18} {:>5}  {:<6} {:<10} {}",
            caller.what,
            record.caller.as_deref().unwrap_or("withheld"),
            class,
            record
                .score
                .map(|s| format!("{:.2}", f32::from(s) / 100.0))
                .unwrap_or_default(),
            record.seat.as_deref().unwrap_or("-"),
            ended,
            record.reasons.join(",")
        );
    }
    println!("\nspeech reaches a seat; key 5 jumps the queue; silence and noise end as ghosts without ringing anyone;");
    println!("a repeat caller is flagged (repeat_1h) but never refused. Records: SQLite, one row per call.");
    Ok(())
}

mod sim;
