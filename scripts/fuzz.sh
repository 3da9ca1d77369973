#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time from its seed corpus
# (fuzz/seeds/<target>, committed) and fails on the first crash.
#   scripts/fuzz.sh [seconds per target]    (default 20)
# The toolchain here is stable; RUSTC_BOOTSTRAP lets cargo fuzz pass the
# sanitizer flags it needs. Crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"
SECONDS_PER_TARGET="${1:-20}"
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --version 0.13.2 >/dev/null
fi
targets=$(cargo fuzz list)
echo "[fuzz] building: $(echo $targets)" >&2
cargo fuzz build -O >/dev/null
status=0
for t in $targets; do
  work="$(mktemp -d)"
  # The seeds stay read-only; new inputs go to a scratch corpus.
  if cargo fuzz run -O "$t" "$work" "seeds/$t" -- -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
      >"$work.log" 2>&1; then
    echo "ok fuzz $t: $(grep -aoE '#[0-9]+[[:space:]]+DONE.*' "$work.log" | tail -1)"
  else
    echo "FAIL fuzz $t (log: $work.log)"; tail -30 "$work.log"; status=1
  fi
done
exit $status
