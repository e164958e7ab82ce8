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
# every external step is bounded: the whole run stays well below 20 minutes on 2 cores
timeout --signal=TERM --kill-after=30s "${SIAGA_TEST_TIMEOUT:-1080}" \
	cargo test --workspace --all-targets "$@"
