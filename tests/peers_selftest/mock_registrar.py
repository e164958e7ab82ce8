#!/usr/bin/env python3
"""Stand-in for the siaga gateway, to check the real-peer test HARNESS (not the gateway).

Implements only the REGISTER contract the tests in tests/peers.rs rely on, over UDP:
OPTIONS -> 200; REGISTER without credentials -> 401 with one WWW-Authenticate per algorithm
(SIAGA__REGISTRAR__ALGORITHMS, default "MD5,SHA-256"; MD5 alone to a User-Agent containing
"baresip", SIAGA__REGISTRAR__MD5_ONLY_USER_AGENTS); right digest (MD5 or SHA-256, qop=auth,
uri= equal to the Request-URI) -> 200 listing the bindings with expires=; Expires: 0 removes the
binding; wrong digest or unknown user -> 403; SIAGA__REGISTRAR__LOCKOUT_FAILURES failures within
LOCKOUT_WINDOW_S from one IP -> 403 to every REGISTER from it for LOCKOUT_S.  Seats seat1..seat4,
passwords siaga-seat1..4, realm "siaga".  SIGTERM -> exit 0.

Same command line as the gateway:  mock_registrar.py run --config FILE
MOCK_BREAK=accept_any|keep_contact|no_contact|no_lockout|sha256_first makes it violate the contract on
purpose, to see the tests fail.  Used by scripts/selftest-peers.sh.
"""
import hashlib, os, re, secrets, signal, socket, sys, time

env = os.environ.get
host, port = env("SIAGA__SIP__LISTEN", "127.0.0.1:15060").rsplit(":", 1)
algos = [a.strip() for a in env("SIAGA__REGISTRAR__ALGORITHMS", "MD5,SHA-256").split(",") if a.strip()]
md5_only = [u.strip().lower() for u in env("SIAGA__REGISTRAR__MD5_ONLY_USER_AGENTS", "baresip").split(",") if u.strip()]
lock_n = int(env("SIAGA__REGISTRAR__LOCKOUT_FAILURES", "5"))
lock_window = float(env("SIAGA__REGISTRAR__LOCKOUT_WINDOW_S", "60"))
lock_s = float(env("SIAGA__REGISTRAR__LOCKOUT_S", "300"))
broken = env("MOCK_BREAK", "")
if broken == "sha256_first":
    algos = ["SHA-256", "MD5"]
realm = "siaga"
users = {f"seat{i}": f"siaga-seat{i}" for i in range(1, 5)}
HASH = {"MD5": lambda x: hashlib.md5(x.encode()).hexdigest(),
        "SHA-256": lambda x: hashlib.sha256(x.encode()).hexdigest()}
fails, locked, bindings = {}, {}, {}

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((host, int(port)))


def headers(msg, name):
    out = []
    for line in msg.split("\r\n")[1:]:
        if not line:
            break
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            out.append(v.strip())
    return out


def reply(msg, addr, code, reason, extra=()):
    out = [f"SIP/2.0 {code} {reason}"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for v in headers(msg, name):
            if name == "To" and ";tag=" not in v:
                v += ";tag=mock"
            out.append(f"{name}: {v}")
    out += list(extra) + ["Content-Length: 0", "", ""]
    sock.sendto("\r\n".join(out).encode(), addr)


def check_digest(msg, auth):
    p = {k.lower(): v.strip('"') for k, v in re.findall(r'(\w+)\s*=\s*("[^"]*"|[^,\s]+)', auth)}
    h = HASH.get(p.get("algorithm", "MD5").upper().replace("SHA256", "SHA-256"))
    user, password = p.get("username"), users.get(p.get("username"))
    if not h or password is None or p.get("uri") != msg.split(" ")[1]:
        return user, False
    ha1 = h(f"{user}:{realm}:{password}")
    ha2 = h(f"REGISTER:{p['uri']}")
    if p.get("qop"):
        want = h(f"{ha1}:{p.get('nonce')}:{p.get('nc')}:{p.get('cnonce')}:{p['qop']}:{ha2}")
    else:
        want = h(f"{ha1}:{p.get('nonce')}:{ha2}")
    return user, want == p.get("response")


while True:
    data, addr = sock.recvfrom(65535)
    msg = data.decode(errors="replace")
    method = msg.split(" ", 1)[0]
    if method == "OPTIONS":
        reply(msg, addr, 200, "OK")
        continue
    if method != "REGISTER":
        continue
    now, ip = time.time(), addr[0]
    if locked.get(ip, 0) > now:
        reply(msg, addr, 403, "Forbidden")
        continue
    auth = headers(msg, "Authorization")
    if not auth:
        nonce = secrets.token_hex(8)
        ua = " ".join(headers(msg, "User-Agent")).lower()
        offer = ["MD5"] if "MD5" in algos and any(u in ua for u in md5_only) else algos
        if broken == "sha256_first":
            offer = algos
        reply(msg, addr, 401, "Unauthorized",
              [f'WWW-Authenticate: Digest realm="{realm}", nonce="{nonce}", algorithm={a}, qop="auth"'
               for a in offer])
        continue
    user, ok = check_digest(msg, auth[0])
    ok = ok or broken == "accept_any"
    print(f"REGISTER {user} from {addr}: {'ok' if ok else 'refused'}", flush=True)
    if not ok:
        recent = [t for t in fails.get(ip, []) if t > now - lock_window] + [now]
        fails[ip] = recent
        if len(recent) >= lock_n and broken != "no_lockout":
            locked[ip], fails[ip] = now + lock_s, []
        reply(msg, addr, 403, "Forbidden")
        continue
    expires = headers(msg, "Expires")
    ttl = int(expires[0]) if expires else 3600
    contacts = [c.split(";expires=")[0] for c in headers(msg, "Contact")]
    m = re.search(r"expires=(\d+)", ";".join(headers(msg, "Contact")))
    if m:
        ttl = int(m.group(1))
    if ttl == 0 and broken != "keep_contact":
        bindings.pop(user, None)
    else:
        bindings[user] = contacts
    listed = [] if broken == "no_contact" else bindings.get(user, [])
    reply(msg, addr, 200, "OK", [f"Contact: {c};expires={ttl or 60}" for c in listed])
