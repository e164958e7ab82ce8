#!/usr/bin/env bash
# Concurrent calls with RTP through siaga: the shared harness's trunk UAC with audio
# (../shared/bench/sipp/uac-pcap.xml: INVITE, 200, ACK, 6.5 s of speech.pcap at 50 pps, BYE)
# against the seat UAS with -rtp_echo (the seat sends every packet back: audio both ways).
#
#   benches/calls/rtp-calls.sh RATE CALLS [SEATS]
#
# Concurrent calls ~ RATE x 6.6 s. Per run: siaga's CPU (utime+stime of its process over the
# UAC's run) per call and as % of one CPU, SIPp's failed calls, and from siaga's own call
# records (media statistics per leg): packets received from the caller, relayed to the seat,
# echoed back and relayed to the caller, and sequence-number loss seen on each leg.
# Loopback only; every process is started here and stopped by PID. Needs root (SIPp's
# play_pcap_audio uses a raw socket). Output: /tmp/siaga-rtp-<stamp>/ (or $OUT).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH="${BENCH:-$(cd "$ROOT/../../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}"
. "$BENCH/lib.sh"
RATE="${1:?RATE}"; CALLS="${2:?CALLS}"; SEATS="${3:-$((RATE * 10 + 50))}"
OUT="${OUT:-/tmp/siaga-rtp-$(date +%H%M%S)-r$RATE}"
mkdir -p "$OUT"
trap 'cleanup_all; exit 130' INT TERM
trap 'cleanup_all' EXIT
CFG=$("$ROOT/benches/calls/make-config.sh" "$SEATS" "$OUT")
wait_udp_free 127.0.0.1:5060 50 || die "127.0.0.1:5060 busy"
wait_udp_free 127.0.0.1:5070 50 || die "127.0.0.1:5070 busy"
( cd "$OUT" && exec sipp -sf "$BENCH/sipp/uas.xml" -i 127.0.0.1 -p 5070 -mi 127.0.0.1 -mp 16000 \
	-rtp_echo -bind_local -nostdin -buff_size 4194304 -timeout 120s \
	-trace_err -error_file uas-errors.log -max_log_size 1000000 ) > "$OUT/uas.out" 2>&1 &
UAS=$!; track "$UAS"
( cd "$BENCH" && exec "$ROOT/target/release/siaga" run --config "$CFG" ) > "$OUT/siaga.log" 2>&1 &
SIAGA=$!; track "$SIAGA"
wait_udp 127.0.0.1:5070 || die "UAS did not start"
wait_udp 127.0.0.1:5060 || die "siaga did not start (see $OUT/siaga.log)"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)
c0=$(cpu "$SIAGA"); t0=$(date +%s.%N)
( cd "$BENCH" && exec timeout -k 5 120 sipp 127.0.0.1:5060 -sf sipp/uac-pcap.xml -s 112 \
	-i 127.0.0.1 -p 5080 -mi 127.0.0.1 -mp 17000 -r "$RATE" -rp 1000 -m "$CALLS" \
	-recv_timeout 10000 -timeout 100s -nostdin -buff_size 4194304 \
	-trace_stat -stf "$OUT/uac-stat.csv" -fd 1 -trace_err -error_file "$OUT/uac-errors.log" \
	-max_log_size 1000000 ) > "$OUT/uac.out" 2>&1 &
UAC=$!; track "$UAC"
peak=0
while kill -0 "$UAC" 2>/dev/null; do
	n=$(ls "/proc/$SIAGA/fd" 2>/dev/null | wc -l); [ "$n" -gt "$peak" ] && peak=$n
	sleep 0.5
done
wait "$UAC"
c1=$(cpu "$SIAGA"); t1=$(date +%s.%N)
stop_tree "$SIAGA"; stop_tree "$UAS"; STARTED_PIDS=()
ok=$(tail -1 "$OUT/uac-stat.csv" | cut -d';' -f16); failed=$(tail -1 "$OUT/uac-stat.csv" | cut -d';' -f18)
python3 - "$OUT/siaga.sqlite" "$RATE" "$CALLS" "$ok" "$failed" "$c0" "$c1" "$t0" "$t1" "$tick" "$peak" <<'PY'
import json, sqlite3, sys
db, rate, calls, ok, failed, c0, c1, t0, t1, tick, peak = sys.argv[1:]
cpu_s = (int(c1) - int(c0)) / int(tick); wall = float(t1) - float(t0)
rows = [json.loads(m) for (m,) in sqlite3.connect(db).execute("select media from calls where media is not null")]
s = lambda f: sum(f(r) for r in rows)
rx_caller = s(lambda r: r["caller"]["rx"]["packets"]); tx_seat = s(lambda r: r["seat"]["tx"]["packets"] - r["seat"]["tx"]["playback_packets"])
rx_seat = s(lambda r: r["seat"]["rx"]["packets"]); tx_caller = s(lambda r: r["caller"]["tx"]["packets"] - r["caller"]["tx"]["playback_packets"])
lost_c = s(lambda r: max(r["caller"]["rx"]["lost"], 0)); lost_s = s(lambda r: max(r["seat"]["rx"]["lost"], 0))
exp_c = s(lambda r: r["caller"]["rx"]["expected"]); exp_s = s(lambda r: r["seat"]["rx"]["expected"])
jit = max((r["caller"]["rx"]["jitter_ms"] for r in rows), default=0)
jit_s = max((r["seat"]["rx"]["jitter_ms"] for r in rows), default=0)
pct = lambda a, b: 100.0 * a / b if b else 0.0
print(f"rate={rate} calls={calls} ok={ok} failed={failed} concurrent~{float(rate)*6.6:.0f} peak_fds={peak}")
print(f"siaga CPU {cpu_s:.2f} s over {wall:.1f} s = {100*cpu_s/wall:.1f} % of one CPU, {1e6*cpu_s/max(int(ok),1):.0f} us/call")
print(f"caller->siaga: {rx_caller} packets, seq loss {lost_c} ({pct(lost_c, exp_c):.3f} %), max jitter {jit:.2f} ms; relayed to seat {tx_seat} ({pct(rx_caller - tx_seat, rx_caller):.3f} % not relayed)")
print(f"seat echo->siaga: {rx_seat} packets, seq loss {lost_s} ({pct(lost_s, exp_s):.3f} %), max jitter {jit_s:.2f} ms; relayed to caller {tx_caller} ({pct(rx_seat - tx_caller, rx_seat):.3f} % not relayed)")
sent = 300 * len(rows)  # speech.pcap: 300 RTP packets (6 s)
print(f"UAC sent {sent} (300 per call); not received by siaga {sent - rx_caller} ({pct(sent - rx_caller, sent):.3f} %)")
print(f"records with media: {len(rows)}")
PY
