#!/usr/bin/env bash
# THE test command (see README, "## Tests"): installs the real SIP peers when missing
# (sip-tester = SIPp, baresip; apt-get, needs root), then runs every test target.
#
# Debug profile on purpose: the real-peer tests send a handful of REGISTERs each, so
# optimisation buys nothing there, while --release would compile the whole dependency tree
# a second time (the clippy/fmt steps of .ci/run and developers' builds are debug).
# Load figures come from benches/register_load.sh, which builds --release itself.
#
# Extra arguments go to `cargo test` (e.g. `bash scripts/test.sh --test peers`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-test-peers.sh
# every external step is bounded: the whole run stays well below 25 minutes on 2 cores
timeout --signal=TERM --kill-after=30s "${SIAGA_TEST_TIMEOUT:-1080}" \
	cargo test --workspace --all-targets "$@"

# The Debian package (issue 14): build it (release), install it with dpkg -i, run the
# installed binary as the `siaga` user with the installed config, expect 200 to OPTIONS,
# purge. Needs root for dpkg; said when it cannot run, never skipped silently. Only on a
# full run (no test filter given).
if [ "$#" -eq 0 ]; then
	if [ "$(id -u)" -eq 0 ] && command -v dpkg-deb >/dev/null 2>&1; then
		timeout --signal=TERM --kill-after=30s 900 bash scripts/test-deb.sh
	else
		echo "test.sh: the .deb check (scripts/test-deb.sh) needs root and dpkg: NOT RUN" >&2
	fi
fi
