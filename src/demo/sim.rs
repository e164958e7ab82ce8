//! Simulated SIP peers for the demo: a trunk caller that sends its audio as RTP, and a seat
//! that answers every call. Plain SIP text over UDP on loopback, parsed with siaga's parser.

use crate::sip::message::{Message, Request};
use crate::sip::parse::{parse, Framing};
use crate::sip::reply::{random_token, response_to};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::{sleep, timeout, Instant};
use tokio_util::sync::CancellationToken;

fn sdp(rtp: SocketAddr) -> String {
    format!(
        "v=0\r\no=demo 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\n\
         a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
        ip = rtp.ip(),
        port = rtp.port()
    )
}

/// The RTP address in an SDP body (`c=` and `m=audio`).
fn rtp_target(body: &[u8]) -> Option<SocketAddr> {
    let text = std::str::from_utf8(body).ok()?;
    let ip = text
        .lines()
        .find_map(|l| l.strip_prefix("c=IN IP4 "))?
        .trim();
    let port = text
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))?
        .split(' ')
        .next()?;
    format!("{ip}:{port}").parse().ok()
}

async fn recv(socket: &UdpSocket, wait: Duration) -> Option<Message> {
    let mut buf = vec![0u8; 65535];
    let (len, _) = timeout(wait, socket.recv_from(&mut buf)).await.ok()?.ok()?;
    parse(&buf[..len], Framing::Datagram).ok()
}

/// A seat that answers every INVITE at once and every BYE with 200, until `stop`.
pub(super) async fn seat(socket: UdpSocket, stop: CancellationToken) {
    let local = socket.local_addr().ok();
    let tag = random_token();
    let mut buf = vec![0u8; 65535];
    loop {
        let (len, from) = tokio::select! {
            () = stop.cancelled() => return,
            got = socket.recv_from(&mut buf) => match got { Ok(g) => g, Err(_) => return },
        };
        let Ok(Message::Request(request)) = parse(&buf[..len], Framing::Datagram) else {
            continue;
        };
        let mut response = match request.method.as_str() {
            "ACK" => continue,
            "INVITE" => {
                let mut ok = response_to(&request, 200, Some(&tag));
                if let Some(local) = local {
                    ok.headers.push("Contact", format!("<sip:seat@{local}>"));
                    ok.headers.push("Content-Type", "application/sdp");
                    // The seat's audio port is never used: the demo's seat stays silent.
                    ok.body = sdp(SocketAddr::new(local.ip(), 9)).into_bytes();
                }
                ok
            }
            _ => response_to(&request, 200, Some(&tag)),
        };
        response.headers.push("User-Agent", "siaga-demo-seat");
        let _ = socket.send_to(&response.to_bytes(), from).await;
    }
}

/// One trunk call to 112 from `number`: INVITE, ACK the gateway's 200, send `audio` as RTP
/// (20 ms packets, looped), answer the gateway's BYE, or hang up after `hold`.
pub(super) async fn call(
    gateway: SocketAddr,
    number: &str,
    audio: Vec<u8>,
    start: Duration,
    hold: Duration,
) -> anyhow::Result<()> {
    sleep(start).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let rtp = UdpSocket::bind("127.0.0.1:0").await?;
    let local = socket.local_addr()?;
    let call_id = format!("{}@demo", random_token());
    let body = sdp(rtp.local_addr()?);
    let invite = format!(
        "INVITE sip:112@{gateway} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK{}\r\nMax-Forwards: 70\r\n\
         From: <sip:{number}@{local}>;tag={}\r\nTo: <sip:112@{gateway}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:{number}@{local}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        random_token(),
        random_token(),
        body.len()
    );
    socket.send_to(invite.as_bytes(), gateway).await?;
    let ok = loop {
        match recv(&socket, Duration::from_secs(10)).await {
            Some(Message::Response(r)) if r.status >= 200 => break r,
            Some(_) => continue,
            None => anyhow::bail!("no answer to the INVITE"),
        }
    };
    anyhow::ensure!(ok.status == 200, "the gateway answered {}", ok.status);
    let to = ok.headers.get("To").unwrap_or_default().to_string();
    let from = format!("<sip:{number}@{local}>");
    let in_dialog = |method: &str, cseq: u32| {
        format!(
            "{method} sip:siaga@{gateway} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK{}\r\nMax-Forwards: 70\r\n\
             From: {from};tag=x\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            random_token()
        )
    };
    // Our From tag must be the INVITE's: take it from the 200.
    let our_tag = ok
        .headers
        .get("From")
        .and_then(|f| f.split("tag=").nth(1))
        .unwrap_or("x")
        .to_string();
    let fix = |text: String| text.replace(";tag=x\r\n", &format!(";tag={our_tag}\r\n"));
    socket
        .send_to(fix(in_dialog("ACK", 1)).as_bytes(), gateway)
        .await?;
    let target =
        rtp_target(&ok.body).ok_or_else(|| anyhow::anyhow!("no RTP address in the 200"))?;
    let sender = tokio::spawn(send_audio(rtp, target, audio));
    // Wait for the gateway's BYE (a ghost ended politely), at most `hold`, then hang up.
    let deadline = Instant::now() + hold;
    while Instant::now() < deadline {
        if let Some(Message::Request(request)) = recv(&socket, Duration::from_millis(200)).await {
            if request.method.as_str() == "BYE" {
                let _ = socket
                    .send_to(&response_to(&request, 200, None).to_bytes(), gateway)
                    .await;
                sender.abort();
                return Ok(());
            }
            reply_ok(&socket, gateway, &request).await;
        }
    }
    sender.abort();
    socket
        .send_to(fix(in_dialog("BYE", 2)).as_bytes(), gateway)
        .await?;
    let _ = recv(&socket, Duration::from_secs(2)).await;
    Ok(())
}

async fn reply_ok(socket: &UdpSocket, to: SocketAddr, request: &Request) {
    if request.method.as_str() != "ACK" {
        let _ = socket
            .send_to(&response_to(request, 200, None).to_bytes(), to)
            .await;
    }
}

/// Sends µ-law `audio` as PCMU RTP, 160 bytes every 20 ms, looping, until aborted.
async fn send_audio(socket: UdpSocket, to: SocketAddr, audio: Vec<u8>) {
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let ssrc: u32 = rand::random();
    for (n, frame) in audio.chunks(160).cycle().enumerate().take(15 * 50) {
        ticker.tick().await;
        let mut packet = vec![0x80, if n == 0 { 0x80 } else { 0 }];
        packet.extend_from_slice(&(n as u16).to_be_bytes());
        packet.extend_from_slice(&((n as u32) * 160).to_be_bytes());
        packet.extend_from_slice(&ssrc.to_be_bytes());
        packet.extend_from_slice(frame);
        let _ = socket.send_to(&packet, to).await;
    }
}
