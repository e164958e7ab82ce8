#!/usr/bin/env bash
# Writes a siaga config for call-load benchmarks with the shared SIPp/Kamailio harness
# (../shared/bench/run-kamailio-baseline.sh) and prints its path.
#
#   benches/calls/make-config.sh N [DIR]
#
# N static seats seat1..seatN, all with contact sip:seatK@127.0.0.1:5070: the harness's seat
# UAS (sipp/uas.xml) answers every INVITE, and siaga's ACD gives a seat one call at a time,
# so N must be at least the number of concurrent calls (rate x (hold + setup), e.g. 2 x rate
# for the harness's 1 s hold).  Wrap-up 0 so a seat is free again at the BYE.
# DIR (default: a new mktemp directory) gets bench.toml and, unless overridden, the SQLite
# store.  Run the harness with the store in each run's own folder:
#
#   CFG=$(benches/calls/make-config.sh 4000)
#   (cd ../shared/bench && ./run-kamailio-baseline.sh \
#     --proxy siaga="env SIAGA__STORE__PATH={run}/siaga.sqlite $PWD/target/release/siaga run --config $CFG")
#
# Only loopback addresses are written.  The HTTP API binds an ephemeral port (127.0.0.1:0) so
# it never collides with another siaga on the machine.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
[ $# -ge 1 ] && [ $# -le 2 ] || { usage >&2; exit 2; }
case "$1" in -h|--help) usage; exit 0 ;; esac
N="$1"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer, got: $N" >&2; exit 2; }

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${2:-$(mktemp -d /tmp/siaga-bench.XXXXXX)}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
PROMPT="$ROOT/config/prompts/queue.ul"
[ -f "$PROMPT" ] || { echo "queue prompt missing: $PROMPT" >&2; exit 1; }
SEAT_HOST="${SEAT_HOST:-127.0.0.1:5070}"
case "$SEAT_HOST" in 127.*) ;; *) echo "refusing non-loopback seat address $SEAT_HOST" >&2; exit 2 ;; esac
OUT="$DIR/bench.toml"

{
	cat <<TOML
# siaga call-load benchmark profile, written by benches/calls/make-config.sh $N
# ($(date -Is)).  Loopback only.

[sip]
listen = "127.0.0.1:5060"
# The load comes from 127.0.0.1, a trunk address: it is never rate limited.

[trunk]
allow = ["127.0.0.0/8"]

[routing]
emergency_numbers = ["112"]
ring_timeout_s = 15
wrap_up_s = 0
# Absolute: the harness starts siaga from its own folder.
queue_prompt = "$PROMPT"

[media]
ip = "127.0.0.1"
# 4 ports per call (two legs x RTP+RTCP): 10,000 concurrent calls.
rtp_port_min = 20000
rtp_port_max = 59999

[api]
listen = "127.0.0.1:0"
token = "bench-only-token"

[store]
path = "$DIR/siaga.sqlite"

[log]
level = "warn"

TOML
	for k in $(seq 1 "$N"); do
		printf '[[seats]]\nname = "seat%d"\npassword = "bench-seat%d"\ncontact = "sip:seat%d@%s"\n\n' \
			"$k" "$k" "$k" "$SEAT_HOST"
	done
} > "$OUT"
echo "$OUT"
