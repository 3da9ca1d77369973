#!/usr/bin/env bash
# Every test: formatting, lints, unit and end-to-end tests, UI screenshots.
# One build profile (dev, dependencies optimised) for everything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

step "rustfmt"
cargo fmt --all --check

step "build (binaries and tests)"
cargo build --workspace --bins --tests --examples

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The PC/SC backend is not in the default build (it needs a reader to be useful);
# lint it so that it keeps compiling.
cargo clippy -p kiosk --lib --no-default-features --features sim,pcsc -- -D warnings

LOGS="$(mktemp -d)"
step "tests"
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee "$LOGS/cargo-test.log"
test_status=${PIPESTATUS[0]}

# Counts as one test: every lane transaction in the console exactly once
# (the latency figures are printed, not asserted).
step "staff console load test (20 lanes x 500 passengers, 20 viewers)"
"${CARGO_TARGET_DIR:-target}/debug/examples/console_load" 2>&1 | tee "$LOGS/load.log"
load_status=${PIPESTATUS[0]}
if (( load_status == 0 )); then
  echo "ok console load test" | tee -a "$LOGS/load.log"
else
  echo "FAIL console load test (exit $load_status)" | tee -a "$LOGS/load.log"
fi

step "fuzzing (bounded, from the seed corpora)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}" 2>&1 | tee "$LOGS/fuzz.log"
fuzz_status=${PIPESTATUS[0]}

step "UI screenshots under Xvfb"
bash scripts/ui-screenshots.sh target/ui-screenshots 2>&1 | tee "$LOGS/ui.log"
ui_status=${PIPESTATUS[0]}
set -e

# One closing line over both runners.
sum() { grep -oE "$1" "$2" | awk '{ s += $1 } END { print s + 0 }'; }
count() { cat "$LOGS/ui.log" "$LOGS/fuzz.log" "$LOGS/load.log" | grep -cE "$1" || true; }
passed=$(( $(sum '[0-9]+ passed' "$LOGS/cargo-test.log") + $(count '^ok ') ))
failed=$(( $(sum '[0-9]+ failed' "$LOGS/cargo-test.log") + $(count '^FAIL') ))
step "done"
echo "tests: $passed passed, $failed failed"
if (( test_status != 0 || load_status != 0 || ui_status != 0 || fuzz_status != 0 || failed != 0 )); then
  exit 1
fi
