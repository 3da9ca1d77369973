#!/usr/bin/env bash
# The main job: the simulated airport demo on embedded defaults (staff console,
# N lanes with a kiosk and a gate simulator each, a passenger generator; live
# summary, final report in data/demo/airport-report.json).
#   bash scripts/demo.sh                                  # 2 lanes, 16 passengers, lane 1 in a UI window if a display exists
#   bash scripts/demo.sh --headless
#   bash scripts/demo.sh --lanes 3 --passengers 18 --headless
#   cargo xtask demo --help                               # every option
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
exec cargo xtask demo "$@"
