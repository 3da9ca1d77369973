#!/usr/bin/env bash
# Renders every kiosk screen in all five languages to PNG files, headless
# (under xvfb-run), and fails if any file is missing or blank: the steps, the
# timed steps with countdown, Back / Cancel, camera preview with its guide and
# every capture hint, every failure screen, the timeout screen and the start
# screen after a cancel.
#
# Usage: scripts/ui-screenshots.sh [OUT_DIR]          (default: target/ui-screenshots)
#
# Builds nothing: run `cargo build -p kiosk` first. Environment:
#   KIOSK_BIN     the kiosk binary (default: target/debug/kiosk)
#   KIOSK_UI_CMD  the whole screenshot command, overriding "$KIOSK_BIN ui screenshot"
#                 (e.g. "target/debug/examples/ui_screenshot")
#   ASSETS_DIR    assets folder (default: assets)
#   KIOSK_UI_FONT CJK font file (default: Debian fonts-noto-cjk, see kiosk::ui::fonts)
#   XVFB_SCREEN   Xvfb screen geometry (default: 1280x800x24)
set -euo pipefail

cd "$(dirname "$0")/.."
OUT_DIR=${1:-target/ui-screenshots}
ASSETS_DIR=${ASSETS_DIR:-assets}
KIOSK_BIN=${KIOSK_BIN:-target/debug/kiosk}
KIOSK_UI_CMD=${KIOSK_UI_CMD:-"$KIOSK_BIN ui screenshot"}
XVFB_SCREEN=${XVFB_SCREEN:-1280x800x24}

# One Xvfb for all renders: re-run this script inside xvfb-run.
if [[ -z "${KIOSK_UI_SHOTS_IN_XVFB:-}" ]]; then
    command -v xvfb-run >/dev/null || { echo "xvfb-run not found (Debian: apt-get install xvfb xauth)" >&2; exit 1; }
    read -r -a cmd_words <<<"$KIOSK_UI_CMD"
    if [[ ! -x "${cmd_words[0]}" ]] && ! command -v "${cmd_words[0]}" >/dev/null; then
        echo "screenshot command not found: ${cmd_words[0]} (build it first: cargo build -p kiosk)" >&2
        exit 1
    fi
    runtime_dir=$(mktemp -d)
    trap 'rm -rf "$runtime_dir"' EXIT
    export XDG_RUNTIME_DIR="$runtime_dir" KIOSK_UI_SHOTS_IN_XVFB=1
    export KIOSK_UI_CMD ASSETS_DIR
    set +e
    xvfb-run -a -s "-screen 0 $XVFB_SCREEN" "$0" "$OUT_DIR"
    status=$?
    set -e
    exit $status
fi

read -r -a cmd_words <<<"$KIOSK_UI_CMD"
mkdir -p "$OUT_DIR"
export RUST_LOG=${RUST_LOG:-error}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

LANGS=(ja en zh-Hans zh-Hant ko)
# name | extra arguments
SCREENS=(
    "welcome|--step welcome"
    "passport|--step passport"
    "declaration|--step declaration"
    "face|--step face"
    "result-green|--step result"
    "result-referral|--step result --referral-reason over_allowance cash_or_gold random_selection"
    "result-referral-identity|--step result --referral-reason presentation_attack_suspected face_mismatch watch_list"
    "gate|--step gate"
    # Timed steps: countdown, "Back / Cancel", live preview with its guide and a hint.
    "passport-countdown|--step passport --countdown 60"
    "declaration-preview|--step declaration --countdown 60 --preview --hint hold_qr_steady"
    "face-preview|--step face --countdown 45 --preview --hint look_at_camera"
    "face-hint-come-closer|--step face --countdown 45 --preview --hint come_closer"
    "face-hint-remove-sunglasses|--step face --countdown 45 --preview --hint remove_sunglasses"
    "face-hint-one-person|--step face --countdown 45 --preview --hint one_person"
    "face-hint-more-light|--step face --countdown 45 --preview --hint more_light"
    "face-hint-hold-still|--step face --countdown 45 --preview --hint hold_still"
    "face-hint-too-bright|--step face --countdown 45 --preview --hint too_bright"
    # Every failure screen (lane::events::failure), the timeout screen, the start after a cancel.
    "fail-chip-unreadable|--step passport --countdown 60 --failure chip_unreadable"
    "fail-document-unknown|--step passport --countdown 60 --failure document_unknown"
    "fail-reader-unavailable|--step passport --countdown 60 --failure reader_unavailable"
    "fail-qr-invalid|--step declaration --countdown 60 --preview --failure qr_invalid"
    "fail-qr-not-yours|--step declaration --countdown 60 --preview --failure qr_not_yours"
    "fail-camera-unavailable|--step face --countdown 45 --failure camera_unavailable"
    "fail-face-not-matched|--step face --countdown 45 --preview --failure face_not_matched"
    "timeout|--step face --failure timed_out"
    "cancelled|--step welcome --failure cancelled"
)

# Exit 0 if the PNG decodes and not every pixel has the same colour.
png_not_blank() {
    python3 - "$1" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG")
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = ihdr
channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
if depth != 8 or channels is None or interlace:
    sys.exit(f"unsupported PNG layout (depth {depth}, colour type {ctype}, interlace {interlace})")
raw, bpp, stride = zlib.decompress(idat), channels, w * channels
prev, first = bytearray(stride), None
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if first is None:
        first = bytes(line[:bpp])
    if bytes(line) != first * w:
        sys.exit(0)
    prev = line
sys.exit(f"blank: every pixel is {first.hex()}")
PY
}

failures=0
start_all=$(date +%s.%N)
for lang in "${LANGS[@]}"; do
    for entry in "${SCREENS[@]}"; do
        name=${entry%%|*}
        read -r -a extra <<<"${entry#*|}"
        out="$OUT_DIR/$name-$lang.png"
        rm -f "$out"
        t0=$(date +%s.%N)
        if ! "${cmd_words[@]}" "${extra[@]}" --lang "$lang" --assets "$ASSETS_DIR" --out "$out" 2>"$log"; then
            echo "FAIL $out: the screenshot command failed:" >&2
            grep -v 'ICU4X data error' "$log" | head -5 >&2
            failures=$((failures + 1))
            continue
        fi
        t1=$(date +%s.%N)
        if [[ ! -s "$out" ]]; then
            echo "FAIL $out: missing" >&2
            failures=$((failures + 1))
        elif ! why=$(png_not_blank "$out" 2>&1); then
            echo "FAIL $out: $why" >&2
            failures=$((failures + 1))
        else
            printf 'ok   %s (%s s)\n' "$out" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
        fi
    done
done
total=$(awk -v a="$start_all" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
count=$((${#LANGS[@]} * ${#SCREENS[@]}))
printf '%d screenshots in %s s, %d failed, in %s\n' "$count" "$total" "$failures" "$OUT_DIR"
[[ $failures -eq 0 ]]
