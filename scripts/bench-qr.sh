#!/usr/bin/env bash
# QR reader benchmark: generate the phone-screen frames, decode them with
# kiosk::qr::Reader (release build, OpenCV stages on) and with zxing-cpp
# (PyPI), and print both side by side.
#
#   scripts/bench-qr.sh [FRAMES_DIR] [SEED]
#
# CARGO_TARGET_DIR is honoured; FRAMES_DIR defaults to target/qr-frames.
set -euo pipefail
cd "$(dirname "$0")/.."
frames="${1:-target/qr-frames}"
seed="${2:-1}"
features="sim,vision"
mkdir -p "$frames"

echo "== generating frames (seed $seed) in $frames" >&2
cargo run --quiet --release -p kiosk --no-default-features --features "$features" \
    --example qr_frames -- --out "$frames" --seed "$seed" >&2

echo "== kiosk::qr::Reader" >&2
cargo bench --quiet -p kiosk --no-default-features --features "$features" --bench qr_decode -- \
    "$frames" --out "$frames/ours.jsonl" >&2

echo "== zxing-cpp, then both side by side" >&2
python3 scripts/bench-qr-zxing.py "$frames" --out "$frames/zxing.jsonl" --ours "$frames/ours.jsonl"
