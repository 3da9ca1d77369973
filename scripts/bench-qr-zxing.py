#!/usr/bin/env python3
"""zxing-cpp (PyPI wheel) over the QR benchmark frames of examples/qr_frames.rs.

    python3 scripts/bench-qr-zxing.py FRAMES_DIR [--out zxing.jsonl] [--repeat 3]
                                      [--ours ours.jsonl]

Decodes every frame of FRAMES_DIR/manifest.json with zxingcpp.read_barcodes
(QR codes only, the library's defaults otherwise: try_rotate, try_downscale,
try_invert, LocalAverage binariser) and prints the decode rate and median /
p95 latency per condition, per resolution and overall. A frame counts as
decoded when a QR code with exactly the manifest's text is returned; its
latency is the median of --repeat runs of read_barcodes on the RGB array
(PNG loading excluded, as for our reader).

With --ours (the per-frame JSON lines written by benches/qr_decode.rs --out),
prints both side by side on the same frames.

zxing-cpp, numpy and pillow are installed with pip when missing.
"""
import argparse
import importlib
import json
import statistics
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path


def ensure_packages():
    missing = []
    for module, package in (("zxingcpp", "zxing-cpp"), ("numpy", "numpy"), ("PIL", "pillow")):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    if missing:
        print(f"installing {' '.join(missing)} with pip", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *missing])


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[round((len(s) - 1) * p)]


def groups(frames):
    """(section, key) -> list of frame indices."""
    out = OrderedDict()
    for section, key in (("condition", lambda f: f["condition"]),
                         ("resolution", lambda f: f"{f['width']}x{f['height']}"),
                         ("size", lambda f: f["size"])):
        for k in sorted({key(f) for f in frames}):
            out[(section, k)] = [i for i, f in enumerate(frames) if key(f) == k]
    out[("overall", "overall")] = list(range(len(frames)))
    return out


def stats(results, idx):
    decoded = sum(1 for i in idx if results[i]["decoded"])
    ms = [results[i]["ms"] for i in idx]
    return decoded, len(idx), percentile(ms, 0.5), percentile(ms, 0.95)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("frames", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ours", type=Path)
    args = ap.parse_args()
    ensure_packages()
    import numpy as np
    import zxingcpp
    from PIL import Image

    manifest = json.loads((args.frames / "manifest.json").read_text())
    frames = manifest["frames"]
    results = []
    for f in frames:
        img = np.asarray(Image.open(args.frames / f["file"]).convert("RGB"))
        # zxing-cpp takes BGR or grey arrays: hand it BGR, as from a camera.
        bgr = np.ascontiguousarray(img[:, :, ::-1])
        times, codes = [], []
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            codes = zxingcpp.read_barcodes(bgr, formats=zxingcpp.BarcodeFormat.QRCode)
            times.append((time.perf_counter() - t0) * 1e3)
        decoded = any(c.text == f["expected"] for c in codes)
        results.append({"file": f["file"], "decoded": decoded, "ms": statistics.median(times)})
    if args.out:
        with args.out.open("w") as o:
            for r in results:
                o.write(json.dumps(r) + "\n")

    try:
        from importlib.metadata import version as package_version
        version = package_version("zxing-cpp")
    except Exception:
        version = getattr(zxingcpp, "__version__", "?")
    header = f"{'':<22} {'decoded':>9} {'rate':>8} {'median ms':>9} {'p95 ms':>9}"
    if not args.ours:
        print(f"zxing-cpp {version}, {len(frames)} frames, median of {args.repeat} runs each")
        print(header)
        section = None
        for (sec, key), idx in groups(frames).items():
            if sec != section and sec != "overall":
                print(f"-- by {sec}")
            section = sec
            d, n, med, p95 = stats(results, idx)
            print(f"{key:<22} {d:>4}/{n:<4} {100 * d / n:>6.1f} % {med:>9.2f} {p95:>9.2f}")
        return

    ours_by_file = {}
    for line in args.ours.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            ours_by_file[r["file"]] = r
    ours = [ours_by_file[f["file"]] for f in frames]
    print(f"{len(frames)} frames; latency: median / p95 of the per-frame median of {args.repeat} runs, ms")
    print(f"{'':<16} | {'kiosk::qr::Reader':^33} | {'zxing-cpp ' + version:^33}")
    print(f"{'':<16} | {'rate':>13} {'median':>9} {'p95':>9} | {'rate':>13} {'median':>9} {'p95':>9}")
    section = None
    for (sec, key), idx in groups(frames).items():
        if sec != section:
            print("-" * 16 + "-+-" + "-" * 33 + "-+-" + "-" * 33)
        section = sec
        cols = []
        for res in (ours, results):
            d, n, med, p95 = stats(res, idx)
            cols.append(f"{d:>3}/{n:<3} {100 * d / n:>5.1f}% {med:>9.2f} {p95:>9.2f}")
        print(f"{key:<16} | {cols[0]} | {cols[1]}")
    both = sum(1 for a, b in zip(ours, results) if a["decoded"] and b["decoded"])
    only_ours = sum(1 for a, b in zip(ours, results) if a["decoded"] and not b["decoded"])
    only_zx = sum(1 for a, b in zip(ours, results) if b["decoded"] and not a["decoded"])
    print(f"decoded by both: {both}; only ours: {only_ours}; only zxing-cpp: {only_zx}")


if __name__ == "__main__":
    main()
