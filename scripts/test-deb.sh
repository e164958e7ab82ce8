#!/usr/bin/env bash
# Builds the .deb (packaging/build-deb.sh), installs it with dpkg -i, starts the INSTALLED
# binary as the `siaga` user with the INSTALLED config (ports moved to free loopback ports by
# SIAGA__ overrides: tests never bind 5060), checks it answers SIP OPTIONS with 200 and
# `check-config` accepts /etc/siaga/siaga.toml, then purges the package.
# Needs root (dpkg). Every process it starts is stopped by its PID.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "test-deb: needs root (dpkg -i)" >&2; exit 1; }
tmp="$(mktemp -d)"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	dpkg --purge siaga >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

deb="$(bash "$root/packaging/build-deb.sh" "$tmp")"
echo "test-deb: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n 's/^ \(Depends\|Installed-Size\):/test-deb:   \1:/p'
dpkg -i "$deb" >/dev/null
getent passwd siaga >/dev/null || { echo "test-deb: FAIL no siaga user" >&2; exit 1; }
[ -f /lib/systemd/system/siaga.service ] || { echo "test-deb: FAIL no unit" >&2; exit 1; }
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify /lib/systemd/system/siaga.service 2>&1 | grep -v "^$" | sed 's/^/test-deb: unit: /' || true
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sip_port="$(free_port)"
api_port="$(free_port)"
cd /var/lib/siaga
setpriv --reuid=siaga --regid=siaga --init-groups /usr/bin/siaga check-config --config /etc/siaga/siaga.toml >/dev/null
SIAGA__SIP__LISTEN="127.0.0.1:$sip_port" SIAGA__API__LISTEN="127.0.0.1:$api_port" \
	setpriv --reuid=siaga --regid=siaga --init-groups /usr/bin/siaga run --config /etc/siaga/siaga.toml >"$tmp/siaga.log" 2>&1 &
pid=$!

python3 - "$sip_port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.5)
me = s.getsockname()[1]
deadline = time.time() + 15
while time.time() < deadline:
    branch = "z9hG4bKdeb%d" % int(time.time() * 1000)
    msg = (f"OPTIONS sip:siaga.local SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch={branch};rport\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:deb@127.0.0.1>;tag=deb1\r\n"
           f"To: <sip:siaga.local>\r\nCall-ID: deb-{branch}\r\nCSeq: 1 OPTIONS\r\n"
           f"Content-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", port))
    try:
        data, _ = s.recvfrom(65535)
    except socket.timeout:
        continue
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    print("test-deb: OPTIONS ->", line)
    sys.exit(0 if line.startswith("SIP/2.0 200") else 1)
print("test-deb: FAIL no answer to OPTIONS within 15 s", file=sys.stderr)
sys.exit(1)
PY
owner="$(stat -c %U /var/lib/siaga/siaga.sqlite 2>/dev/null || echo none)"
echo "test-deb: store /var/lib/siaga/siaga.sqlite owned by $owner"
[ "$owner" = siaga ] || { echo "test-deb: FAIL store not written by the siaga user" >&2; cat "$tmp/siaga.log" >&2; exit 1; }
kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=""
[ "$rc" -eq 0 ] || { echo "test-deb: FAIL exit status $rc after SIGTERM" >&2; exit 1; }
echo "test-deb: passed"
