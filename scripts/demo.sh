#!/usr/bin/env bash
# The main job: the simulated airport demo on embedded defaults.
#   bash scripts/demo.sh                  # 8 passengers, UI window if a display exists
#   bash scripts/demo.sh --passengers 3   # run 3 passengers and exit
#   bash scripts/demo.sh --headless
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
exec cargo xtask demo "$@"
