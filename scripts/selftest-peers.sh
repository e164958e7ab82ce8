#!/usr/bin/env bash
# Checks the real-peer test HARNESS (tests/peers.rs, tests/common, fixtures/sipp) without the
# gateway: runs the tests against tests/peers_selftest/mock_registrar.py, a stand-in that keeps
# the REGISTER contract, and expects all to pass; then against the stand-in broken on purpose
# (MOCK_BREAK=...) and expects the tests that cover that behaviour to fail.  Not part of CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-test-peers.sh
export SIAGA_TEST_BIN="$PWD/tests/peers_selftest/mock_registrar.py"
cargo test --test peers --no-run -q 2>/dev/null || cargo test --test peers --no-run

fail=0
run() { # MOCK_BREAK expected-failing-tests...
	local brk="$1" out failed want
	shift
	want=$( (($#)) && printf '%s\n' "$@" | sort | tr '\n' ' ' || true)
	out=$(MOCK_BREAK="$brk" timeout 300 cargo test --test peers 2>&1 || true)
	failed=$(sed -n 's/^test \([a-z_]*\) \.\.\. FAILED$/\1/p' <<<"$out" | sort | tr '\n' ' ')
	if [ "$failed" = "$want" ] && grep -q '^test result' <<<"$out"; then
		echo "ok   MOCK_BREAK=${brk:-none}: failing as expected: ${want:-none}"
	else
		echo "FAIL MOCK_BREAK=${brk:-none}: expected failing: ${want:-none}; got: ${failed:-none}"
		fail=1
	fi
}
run ""
run accept_any sipp_wrong_password_refused lockout_after_repeated_failures
run keep_contact sipp_unregister
run no_contact sipp_registers_with_digest_auth sipp_unregister sipp_wrong_password_refused \
	lockout_after_repeated_failures baresip_registers_as_seat
run no_lockout lockout_after_repeated_failures
run sha256_first sipp_registers_with_digest_auth sipp_unregister sipp_wrong_password_refused \
	lockout_after_repeated_failures baresip_registers_as_seat
exit "$fail"
