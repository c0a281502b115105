"""Camera scene photos: a vehicle-like shape on a road with a plate, and the overlay
text (time, camera code) that Safe City cameras burn into their frames.

Used by plate-finding tests and by the simulated city. Returns the plate box so callers
know where the plate is.
"""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np

Box = tuple[int, int, int, int]


def _u(rng: np.random.Generator, a: float, b: float) -> float:
    return float(rng.uniform(a, b))


def _color(rng: np.random.Generator) -> tuple[float, float, float]:
    palette = [
        (240, 240, 240),
        (20, 20, 20),
        (180, 180, 185),
        (40, 40, 160),
        (150, 40, 30),
        (60, 60, 60),
        (200, 200, 210),
    ]
    if rng.random() < 0.8:
        base = palette[int(rng.integers(len(palette)))]
    else:
        base = tuple(rng.uniform(0, 255, 3))
    return tuple(float(np.clip(c + rng.normal(0, 10), 0, 255)) for c in base)


def render_scene(
    plate_image: np.ndarray,
    *,
    rng: np.random.Generator | None = None,
    size: tuple[int, int] = (1280, 720),
    plate_width: int | None = None,
    camera_code: str | None = None,
    timestamp: dt.datetime | None = None,
    jpeg_quality: int | None = None,
) -> tuple[np.ndarray, Box]:
    """Paste a plate (BGR) on a car-ish shape in a road scene; returns (scene BGR, plate box)."""
    rng = rng if rng is not None else np.random.default_rng()
    W, H = size
    scene = np.empty((H, W, 3), np.float32)
    # sky/buildings above, road below
    horizon = int(H * _u(rng, 0.15, 0.35))
    scene[:horizon] = np.array(_color(rng)) * 0.6 + 60
    road = np.array([_u(rng, 70, 120)] * 3, np.float32)
    scene[horizon:] = road
    scene[horizon:] *= np.linspace(0.8, 1.1, H - horizon, dtype=np.float32)[:, None, None]
    for _ in range(int(rng.integers(1, 4))):  # lane markings
        x = int(rng.uniform(0, W))
        cv2.line(
            scene,
            (x, horizon),
            (int(x + rng.uniform(-W / 2, W / 2)), H),
            (225, 225, 225),
            int(rng.integers(4, 14)),
        )
    scene += rng.normal(0, 6, (H, W, 1)).astype(np.float32)

    # the vehicle: body, windscreen, lights, wheels, bumper
    cw = int(W * _u(rng, 0.35, 0.6))
    ch = int(cw * _u(rng, 0.6, 0.8))
    cx = int(_u(rng, 0.1, 0.9) * (W - cw))
    cy = int(min(H - ch - 5, max(horizon - ch * 0.3, _u(rng, 0.25, 0.6) * H)))
    body = _color(rng)
    for wx in (cx + cw * 0.1, cx + cw * 0.75):
        cv2.rectangle(
            scene,
            (int(wx), cy + int(ch * 0.8)),
            (int(wx + cw * 0.15), min(H - 1, cy + ch + 10)),
            (15, 15, 15),
            -1,
        )
    cv2.rectangle(scene, (cx, cy + int(ch * 0.35)), (cx + cw, cy + int(ch * 0.9)), body, -1)
    roof = np.array(
        [
            [cx + cw * 0.15, cy + ch * 0.36],
            [cx + cw * 0.25, cy],
            [cx + cw * 0.75, cy],
            [cx + cw * 0.85, cy + ch * 0.36],
        ],
        np.int32,
    )
    cv2.fillConvexPoly(scene, roof, body)
    glass = np.array(
        [
            [cx + cw * 0.2, cy + ch * 0.34],
            [cx + cw * 0.28, cy + ch * 0.06],
            [cx + cw * 0.72, cy + ch * 0.06],
            [cx + cw * 0.8, cy + ch * 0.34],
        ],
        np.int32,
    )
    cv2.fillConvexPoly(scene, glass, tuple(float(v) for v in rng.uniform(20, 70, 3)))
    for lx in (cx + cw * 0.04, cx + cw * 0.8):
        cv2.rectangle(
            scene,
            (int(lx), cy + int(ch * 0.42)),
            (int(lx + cw * 0.16), cy + int(ch * 0.52)),
            (200, 220, 230),
            -1,
        )
    cv2.rectangle(
        scene,
        (cx + int(cw * 0.3), cy + int(ch * 0.45)),
        (cx + int(cw * 0.7), cy + int(ch * 0.55)),
        (30, 30, 30),
        -1,
    )  # grille
    cv2.rectangle(
        scene,
        (cx - 4, cy + int(ch * 0.75)),
        (cx + cw + 4, cy + int(ch * 0.9)),
        tuple(c * 0.7 for c in body),
        -1,
    )

    # the plate, on the bumper, centred under the grille
    pw = plate_width or int(np.clip(cw * _u(rng, 0.2, 0.32), 60, W * 0.3))
    ph = max(8, round(plate_image.shape[0] * pw / plate_image.shape[1]))
    plate = cv2.resize(plate_image, (pw, ph), interpolation=cv2.INTER_AREA).astype(np.float32)
    px = int(cx + cw / 2 - pw / 2 + _u(rng, -0.05, 0.05) * cw)
    py = int(cy + ch * _u(rng, 0.58, 0.68))
    px, py = int(np.clip(px, 0, W - pw)), int(np.clip(py, 0, H - ph))
    scene[py : py + ph, px : px + pw] = plate

    scene = scene * _u(rng, 0.7, 1.15) + rng.standard_normal((H, W, 1), dtype=np.float32) * 3
    out = np.clip(scene, 0, 255).astype(np.uint8)

    # burnt-in camera overlay (OpenCV draws text on 8-bit images only)
    timestamp = timestamp or dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=int(rng.integers(0, 3e7))
    )
    camera_code = camera_code or f"KHI-CAM-{int(rng.integers(1, 999)):03d}"
    overlay = f"{timestamp:%Y-%m-%d %H:%M:%S}  {camera_code}"
    cv2.rectangle(out, (0, 0), (W, 34), (0, 0, 0), -1)
    cv2.putText(
        out, overlay, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA
    )
    cv2.putText(
        out,
        "SAFE CITY KARACHI",
        (W - 260, H - 14),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.7,
        (240, 240, 240),
        2,
        cv2.LINE_AA,
    )

    if jpeg_quality:
        _ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        out = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return out, (px, py, pw, ph)
