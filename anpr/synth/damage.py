"""Turn a clean plate rendering into what a roadside camera crop looks like.

Surface wear (dirt, glare, shadow), a frame, the car around it, perspective and
rotation, a detector-like crop with uneven margins, then the camera: low resolution,
blur or motion blur, noise, exposure, colour casts and JPEG artefacts.
"""

from __future__ import annotations

import cv2
import numpy as np


def _u(rng: np.random.Generator, a: float, b: float) -> float:
    return float(rng.uniform(a, b))


def _soft_blob_mask(h: int, w: int, rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    mask = np.zeros((h, w), np.float32)
    for _ in range(n):
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (
            max(1, int(w * scale * rng.uniform(0.3, 1))),
            max(1, int(h * scale * rng.uniform(0.3, 1))),
        )
        cv2.ellipse(mask, c, axes, _u(rng, 0, 180), 0, 360, float(rng.uniform(0.3, 1)), -1)
    k = max(3, int(min(h, w) * 0.08) | 1)
    return cv2.GaussianBlur(mask, (k, k), 0)


def surface(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dirt, fading, glare and shadow on the plate itself (RGB float in, float out)."""
    out = img.astype(np.float32)
    h, w = out.shape[:2]
    if rng.random() < 0.5:  # dirt / grime
        dirt = _soft_blob_mask(h, w, rng, int(rng.integers(2, 12)), 0.15) * _u(rng, 0.15, 0.55)
        tint = np.array([_u(rng, 70, 120), _u(rng, 60, 100), _u(rng, 40, 80)], np.float32)
        out = out * (1 - dirt[..., None]) + tint * dirt[..., None]
    if rng.random() < 0.3:  # speckles
        n = int(rng.integers(20, 200))
        ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
        out[ys, xs] *= rng.uniform(0.3, 0.8, (n, 1))
    if rng.random() < 0.35:  # faded / washed out
        out = out * _u(rng, 0.75, 0.95) + _u(rng, 10, 50)
    if rng.random() < 0.3:  # glare: bright soft ellipse
        glare = _soft_blob_mask(h, w, rng, 1, _u(rng, 0.2, 0.5)) * _u(rng, 0.3, 0.9)
        out = out + (255 - out) * glare[..., None]
    if rng.random() < 0.35:  # shadow across part of the plate
        pts = np.array(
            [
                [rng.uniform(0, w), 0],
                [rng.uniform(0, w), 0],
                [rng.uniform(0, w), h],
                [rng.uniform(0, w), h],
            ],
            np.int32,
        )
        if rng.random() < 0.5:
            pts = np.array(
                [[0, rng.uniform(0, h)], [w, rng.uniform(0, h)], [w, h], [0, h]], np.int32
            )
        shadow = np.zeros((h, w), np.float32)
        cv2.fillConvexPoly(shadow, cv2.convexHull(pts), 1.0)
        k = max(3, int(min(h, w) * _u(rng, 0.02, 0.15)) | 1)
        shadow = cv2.GaussianBlur(shadow, (k, k), 0) * _u(rng, 0.25, 0.6)
        out = out * (1 - shadow[..., None])
    if rng.random() < 0.5:  # uneven illumination gradient
        gx = np.linspace(_u(rng, 0.7, 1.1), _u(rng, 0.7, 1.1), w, dtype=np.float32)
        gy = np.linspace(_u(rng, 0.8, 1.1), _u(rng, 0.8, 1.1), h, dtype=np.float32)
        out = out * (gy[:, None] * gx[None, :])[..., None]
    return np.clip(out, 0, 255)


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Car body / bumper / dark surround around the plate."""
    kind = rng.random()
    if kind < 0.35:
        base = np.array([_u(rng, 0, 60)] * 3, np.float32) + rng.normal(0, 6, 3)
    elif kind < 0.7:
        base = rng.uniform(20, 230, 3).astype(np.float32)
    else:
        base = np.array([_u(rng, 90, 200)] * 3, np.float32)
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = base
    grad = np.linspace(_u(rng, 0.6, 1.2), _u(rng, 0.6, 1.2), h, dtype=np.float32)
    bg *= grad[:, None, None]
    if rng.random() < 0.5:  # bumper lines / grille
        for _ in range(int(rng.integers(1, 6))):
            y = int(rng.uniform(0, h))
            cv2.line(
                bg,
                (0, y),
                (w, y + int(rng.uniform(-10, 10))),
                tuple(float(v) for v in rng.uniform(0, 255, 3)),
                int(rng.integers(1, 6)),
            )
    bg += rng.standard_normal((h, w, 1), dtype=np.float32) * _u(rng, 2, 12)
    return np.clip(bg, 0, 255)


def frame(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Optional plastic/chrome frame around the plate, as the dev photos often show."""
    if rng.random() > 0.5:
        return img
    h, w = img.shape[:2]
    t = int(max(2, min(h, w) * _u(rng, 0.02, 0.08)))
    color = [_u(rng, 5, 50)] * 3 if rng.random() < 0.75 else [_u(rng, 150, 220)] * 3
    out = cv2.copyMakeBorder(img, t, t, t, t, cv2.BORDER_CONSTANT, value=color)
    return out


def place(plate: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Warp the plate with perspective/rotation onto a background; returns (image, corners)."""
    ph, pw = plate.shape[:2]
    pad = int(max(ph, pw) * 0.22)
    H, W = ph + 2 * pad, pw + 2 * pad
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    persp = _u(rng, 0.0, 0.07)
    jitter = rng.uniform(-persp, persp, (4, 2)) * np.array([pw, ph])
    ang = np.radians(rng.normal(0, 2.5))
    cx, cy = pw / 2, ph / 2
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    shear = _u(rng, -0.08, 0.08)
    dst = []
    for (x, y), j in zip(src, jitter, strict=True):
        x2, y2 = x + shear * (y - cy), y
        v = rot @ np.array([x2 - cx, y2 - cy])
        dst.append([v[0] + cx + pad + j[0], v[1] + cy + pad + j[1]])
    dst = np.float32(dst)
    M = cv2.getPerspectiveTransform(src, dst)
    bg = _background(H, W, rng)
    warped = cv2.warpPerspective(
        plate, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), M, (W, H), flags=cv2.INTER_LINEAR)
    out = bg * (1 - mask[..., None]) + warped * mask[..., None]
    return out, dst


def detector_crop(img: np.ndarray, corners: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Crop around the plate's corners with uneven margins, like a plate detector's box."""
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    w, h = x1 - x0, y1 - y0
    tight = rng.random() < 0.35  # the dev crops are mostly tight to the plate
    lo, hi = (-0.02, 0.03) if tight else (-0.02, 0.12)
    ml, mr = _u(rng, lo, hi) * w, _u(rng, lo, hi) * w
    mt, mb = _u(rng, lo, hi) * h * 1.3, _u(rng, lo, hi) * h * 1.3
    H, W = img.shape[:2]
    a, b = int(max(0, x0 - ml)), int(min(W, x1 + mr))
    c, d = int(max(0, y0 - mt)), int(min(H, y1 + mb))
    return img[c:d, a:b]


def camera(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Resolution, optics, sensor and compression (RGB float in, RGB uint8 out)."""
    out = img.astype(np.float32)
    h, w = out.shape[:2]
    # low resolution: final width 80..320 px (plates as small as ~80x40)
    target_w = int(np.exp(rng.uniform(np.log(80), np.log(320))))
    target_h = max(16, round(h * target_w / w))
    if rng.random() < 0.3:  # blur before downscale (defocus)
        k = int(rng.integers(1, 4)) * 2 + 1
        out = cv2.GaussianBlur(out, (k, k), 0)
    if rng.random() < 0.25:  # motion blur
        k = int(rng.integers(3, 11))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0
        M = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), _u(rng, -30, 30), 1.0)
        kernel = cv2.warpAffine(kernel, M, (k, k))
        out = cv2.filter2D(out, -1, kernel / max(kernel.sum(), 1e-6))
    interp = int(
        rng.choice([cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_NEAREST], p=[0.6, 0.3, 0.1])
    )
    out = cv2.resize(out, (target_w, target_h), interpolation=interp)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (3, 3), _u(rng, 0.3, 1.0))
    # exposure, contrast, gamma, colour cast
    out = out * _u(rng, 0.55, 1.25) + _u(rng, -35, 30)
    if rng.random() < 0.4:
        mean = out.mean()
        out = (out - mean) * _u(rng, 0.45, 1.0) + mean
    out = np.clip(out, 0, 255)
    out = 255.0 * (out / 255.0) ** _u(rng, 0.7, 1.5)
    out = out * rng.uniform(0.92, 1.08, 3).astype(np.float32)
    if rng.random() < 0.15:  # washed-out, nearly grey photo (night IR, overcast)
        gray = out.mean(axis=2, keepdims=True)
        out = out * 0.3 + gray * 0.7
    out += rng.standard_normal(out.shape, dtype=np.float32) * _u(rng, 0, 9)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.8:
        _ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 95))])
        out = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED)
    return out


def damage(plate_rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Full pipeline: clean RGB plate -> camera-like RGB uint8 crop."""
    img = surface(plate_rgb, rng)
    img = frame(img, rng)
    placed, corners = place(img, rng)
    crop = detector_crop(placed, corners, rng)
    return camera(crop, rng)
