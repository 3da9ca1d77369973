#!/usr/bin/env python3
"""Reference detections of OpenCV's own FaceDetectorYN (a newer OpenCV than
Debian 12's 4.6, from the PyPI wheel opencv-python-headless) on the test
photos, for kiosk/tests/face_opencv.rs::detections_agree_with_opencv_face_detector_yn.

    python3 -m pip install opencv-python-headless
    python3 scripts/yunet-reference.py > kiosk/tests/data/yunet_reference.json

Each photo is downscaled the way the kiosk's detector does it (longer side at
most 640 px, INTER_AREA) and detected at that size, with the kiosk's score
threshold (0.6) and NMS threshold (0.3); coordinates are mapped back to the
original photo. FaceDetectorYN pads to a multiple of 32 itself.
"""
import json
import os
import sys

import cv2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "assets/models/face_detection_yunet_2023mar.onnx")
PHOTOS = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "astronaut.png"]
MAX_SIDE = 640

out = {"opencv": cv2.__version__, "model": os.path.basename(MODEL), "photos": []}
for name in PHOTOS:
    img = cv2.imread(os.path.join(ROOT, "assets/photos", name), cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    scale = min(MAX_SIDE / max(w, h), 1.0)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = img if (sw, sh) == (w, h) else cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    det = cv2.FaceDetectorYN.create(MODEL, "", (sw, sh), 0.6, 0.3, 5000)
    _, faces = det.detect(small)
    rows = []
    for f in faces if faces is not None else []:
        sx, sy = w / sw, h / sh
        rows.append({
            "box": [float(f[0] * sx), float(f[1] * sy), float(f[2] * sx), float(f[3] * sy)],
            "landmarks": [[float(f[4 + 2 * i] * sx), float(f[5 + 2 * i] * sy)] for i in range(5)],
            "score": float(f[14]),
        })
    out["photos"].append({"photo": name, "size": [w, h], "detected_at": [sw, sh], "faces": rows})
json.dump(out, sys.stdout, indent=1)
print()
