#!/usr/bin/env bash
# REGISTER load benchmark (not part of CI): a release gateway with N generated seats, SIPp
# fixtures/sipp/register_load.xml at increasing rates, one line of figures per rate:
# registrations (= 2 SIP transactions: 401 + 200) per second achieved, failure %.
#
#   bash benches/register_load.sh [--seats 200] [--rates "100 200 400 800 1600"] [--duration 5]
#                                 [--port 25060] [--config config/siaga.toml]
#
# Everything on 127.0.0.1; each rate is bounded in calls (-m = rate x duration), per-response
# time (-recv_timeout) and wall time (-timeout, plus `timeout`); the gateway is stopped by its
# PID with SIGTERM. The ladder stops after the first rate with more than 5 % failures.
# Seats: the first [[seats]] table of config/siaga.toml is the template; seat5..seatN with
# passwords siaga-seat5..N are appended to a copy of it. Challenges are MD5 only
# (SIAGA__REGISTRAR__ALGORITHMS=MD5): SIPp 3.6.1 cannot answer SHA-256.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

SEATS=200 RATES="100 200 400 800 1600" DURATION=5 PORT=25060 CONFIG=config/siaga.toml
BIN=${SIAGA_TEST_BIN:-}  # another program with the gateway's command line (harness check)
while [ $# -gt 0 ]; do
	case "$1" in
		--seats) SEATS=$2; shift 2 ;;
		--rates) RATES=$2; shift 2 ;;
		--duration) DURATION=$2; shift 2 ;;
		--port) PORT=$2; shift 2 ;;
		--config) CONFIG=$2; shift 2 ;;
		-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
		*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-test-peers.sh
[ -f "$CONFIG" ] || die "$CONFIG is missing"
if [ -z "$BIN" ]; then
	log "building the release gateway"
	cargo build --release --quiet --bin siaga
	BIN=target/release/siaga
fi

RUN=$(mktemp -d /tmp/siaga-register-load.XXXXXX)
GW_PID=
stop_gateway() {
	[ -n "$GW_PID" ] || return 0
	if kill -0 "$GW_PID" 2>/dev/null; then
		kill -TERM "$GW_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$GW_PID" 2>/dev/null && kill -KILL "$GW_PID" 2>/dev/null
	fi
	wait "$GW_PID" 2>/dev/null || true
	GW_PID=
}
trap stop_gateway EXIT

# config with SEATS seats, from the first [[seats]] table (seat1 -> seatN everywhere in it)
python3 - "$SEATS" "$CONFIG" "$RUN/siaga.toml" "$RUN/seats.csv" <<'PY'
import re, sys, tomllib
n, src, dst, csv = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
text = open(src).read()
m = re.search(r"(?ms)^\[\[seats\]\][^\[]*", text)
if not m:
    sys.exit("no [[seats]] table in " + src)
have = {s.get("user") or s.get("username") or s.get("name") for s in tomllib.loads(text).get("seats", [])}
block = m.group(0).rstrip() + "\n"
add = [re.sub(r"\bseat1\b", f"seat{i}", block) for i in range(1, n + 1) if f"seat{i}" not in have]
out = text.rstrip() + "\n\n" + "\n".join(add)
tomllib.loads(out)  # still valid TOML
open(dst, "w").write(out)
with open(csv, "w") as f:
    f.write("RANDOM\n")
    for i in range(1, n + 1):
        f.write(f"seat{i};siaga.local;[authentication username=seat{i} password=siaga-seat{i}]\n")
PY

GW=127.0.0.1:$PORT
log "starting the gateway on $GW with $SEATS seats ($RUN)"
SIAGA__SIP__LISTEN=$GW SIAGA__API__LISTEN=127.0.0.1:$((PORT + 1)) \
SIAGA__STORE__PATH=$RUN/siaga.sqlite SIAGA__REGISTRAR__ALGORITHMS=MD5 \
SIAGA__REGISTRAR__LOCKOUT_FAILURES=1000000 RUST_LOG=${RUST_LOG:-warn} \
	"$BIN" run --config "$RUN/siaga.toml" > "$RUN/siaga.log" 2>&1 &
GW_PID=$!

# readiness: OPTIONS over UDP until 200, at most 10 s
python3 - "$PORT" <<'PY' || die "gateway did not answer OPTIONS (see $RUN/siaga.log)"
import socket, sys, time
port = int(sys.argv[1]); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); s.settimeout(0.2); lp = s.getsockname()[1]
end = time.time() + 10; n = 0
while time.time() < end:
    n += 1
    s.sendto((f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-b{n}\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=b{n}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
              f"Call-ID: bench-probe-{n}\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(),
             ("127.0.0.1", port))
    try:
        if s.recv(65535).startswith(b"SIP/2.0 200"):
            sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
PY

printf '%8s %8s %8s %8s %7s %8s %10s %10s\n' rate calls ok failed fail% wall_s reg/s txn/s
for rate in $RATES; do
	calls=$((rate * DURATION))
	tmo=$((DURATION * 3 + 15))
	start=$(date +%s.%N)
	rc=0
	( cd "$RUN" && timeout --kill-after=5s $((tmo + 10)) sipp "$GW" -sf "$ROOT/fixtures/sipp/register_load.xml" \
		-inf "$RUN/seats.csv" -i 127.0.0.1 -bind_local -r "$rate" -m "$calls" -l $((rate * 5)) \
		-recv_timeout 5000 -nostdin -timeout "${tmo}s" -timeout_error -buff_size 4194304 \
		-trace_stat -fd 1 -stf "$RUN/stat-$rate.csv" -trace_err -error_file "$RUN/err-$rate.log" \
		-max_log_size 1000000 ) > "$RUN/sipp-$rate.out" 2>&1 || rc=$?
	end=$(date +%s.%N)
	line=$(python3 - "$RUN/stat-$rate.csv" "$start" "$end" "$rate" "$calls" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";")) if sys.argv[1] else []
d = dict(zip(rows[0], rows[-1])) if len(rows) > 1 else {}
ok = int(d.get("SuccessfulCall(C)", 0)); bad = int(d.get("FailedCall(C)", 0))
calls = int(sys.argv[5]); bad = max(bad, calls - ok)  # calls never placed count as failed
wall = float(sys.argv[3]) - float(sys.argv[2])
print(f"{sys.argv[4]:>8} {calls:>8} {ok:>8} {bad:>8} {100 * bad / calls:>7.2f} {wall:>8.2f} "
      f"{ok / wall:>10.1f} {2 * ok / wall:>10.1f}")
PY
)
	echo "$line"
	fail=$(awk '{print $5}' <<<"$line")
	if [ "$rc" -ne 0 ] && awk -v f="$fail" 'BEGIN{exit !(f > 5)}'; then
		log "stopping the ladder: more than 5 % failed at $rate/s (sipp exit $rc, see $RUN/err-$rate.log)"
		break
	fi
	kill -0 "$GW_PID" 2>/dev/null || die "the gateway died (see $RUN/siaga.log)"
done
stop_gateway
log "logs and SIPp traces in $RUN"
