#!/usr/bin/env bash
# Login memory benchmark (not part of CI): N concurrent Argon2 logins against a running
# gateway; prints the process's peak resident memory (VmHWM) and the time all logins took.
# Before the bounded Argon2 pool each login in flight held ~19 MiB that was never given
# back (64 concurrent → 2.17 GB, 128 → 3.28 GB); the target is < 500 MB at 256.
#
#   bash benches/login_memory.sh [--logins 256] [--bin target/debug/siaga]
#
# Argon2 is built with opt-level 3 in the dev profile too (Cargo.toml), so the debug binary
# gives the same figure as a release one without a second full build on a shared machine.
# Clients come from 32 loopback addresses (127.0.1.x), 8 each, within the default
# per-source connection cap. Everything on loopback with free ports; the gateway is stopped by its PID (SIGTERM).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LOGINS=256 BIN=""
while [ $# -gt 0 ]; do
	case "$1" in
		--logins) LOGINS=$2; shift 2 ;;
		--bin) BIN=$2; shift 2 ;;
		-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
		*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
if [ -z "$BIN" ]; then
	cargo build --quiet --bin siaga
	BIN=target/debug/siaga
fi

TMP=$(mktemp -d /tmp/siaga-login-bench.XXXXXX)
PID=""
cleanup() {
	if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SIP=$(free_port) API=$(free_port)
cat >"$TMP/siaga.toml" <<TOML
[sip]
listen = "127.0.0.1:$SIP"
[api]
listen = "127.0.0.1:$API"
[store]
path = "$TMP/siaga.sqlite"
[log]
level = "warn"
TOML
SIAGA_PASSWORD=bench-password-1 "$BIN" account add -c "$TMP/siaga.toml" bench --role supervisor
"$BIN" run -c "$TMP/siaga.toml" >"$TMP/siaga.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$API/health" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "http://127.0.0.1:$API/health" >/dev/null || { cat "$TMP/siaga.log"; exit 1; }
rss() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' "/proc/$PID/status"; }
BEFORE=$(rss VmRSS)

python3 - "$API" "$LOGINS" <<'PY'
import http.client, json, sys, threading, time
port, n = int(sys.argv[1]), int(sys.argv[2])
codes, start, barrier = [], time.monotonic(), threading.Barrier(n)
def login(i):
    barrier.wait()
    try:
        # 32 loopback sources: api.max_connections_per_source (32) allows 8 each.
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300,
                                       source_address=(f"127.0.1.{1 + i % 32}", 0))
        body = json.dumps({"name": "bench", "password": "bench-password-1"})
        c.request("POST", "/api/login", body, {"Content-Type": "application/json"})
        codes.append(c.getresponse().status)
    except OSError as e:
        codes.append(type(e).__name__)
threads = [threading.Thread(target=login, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
ok = codes.count(200)
print(f"logins: {n} concurrent, {ok} answered 200, others {sorted(set(map(str, codes)) - {'200'})}, "
      f"all done in {time.monotonic() - start:.1f} s", flush=True)
sys.exit(0 if ok == n else 1)
PY
echo "resident memory: before ${BEFORE} MB, after $(rss VmRSS) MB, peak (VmHWM) $(rss VmHWM) MB (target < 500 MB)"
