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

step "tests"
cargo test --workspace --no-fail-fast

step "UI screenshots under Xvfb"
bash scripts/ui-screenshots.sh target/ui-screenshots

step "done"
