#!/usr/bin/env bash
# Installs the real SIP peers the tests drive (tests/peers.rs): SIPp (Debian package
# sip-tester) and baresip, with apt-get, only when `sipp` / `baresip` are missing.
# Idempotent and quiet; `apt-get update` runs once, and only when something is installed.
# Needs root (or sudo) only when it has to install.
set -euo pipefail

need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v baresip >/dev/null 2>&1 || need+=(baresip)
# The HTTPS tests make a certificate with `openssl req` and fetch over TLS with curl.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
# The /metrics test checks the page with `promtool check metrics` (Debian `prometheus`;
# its service is not started in a container without an init system).
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ "${#need[@]}" -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 || {
	echo "install-test-peers: missing ${need[*]} and no apt-get: install them by hand" >&2
	exit 1
}
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-test-peers: missing ${need[*]}: run as root to install them" >&2
		exit 1
	}
	sudo=(sudo)
fi
echo "install-test-peers: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
command -v sipp >/dev/null 2>&1 && command -v baresip >/dev/null 2>&1 || {
	echo "install-test-peers: sipp or baresip still missing after apt-get install" >&2
	exit 1
}
