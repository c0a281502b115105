"""Safe image probing and decoding for camera uploads.

Camera payloads are untrusted: a corrupt, truncated or oversized file must give a
clear `ImageError` for that one event, never a crash or a multi-gigabyte allocation.
The header is read first (Pillow, no pixel decode) and the size checked against
`max_pixels` before any pixel is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

SUPPORTED_FORMATS = {"JPEG": "jpeg", "PNG": "png"}


class ImageError(ValueError):
    """The bytes are not a usable image: corrupt, truncated, unsupported or too large."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "jpeg" | "png"
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def image_probe(data: bytes, *, max_pixels: int) -> ImageInfo:
    """Read the image header only; raise ImageError unless it is a JPEG/PNG within max_pixels."""
    if not data:
        raise ImageError("empty file: no image data")
    try:
        with warnings.catch_warnings():
            # We enforce our own limit below; Pillow's bomb warning is noise here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                pil_format = img.format or ""
                width, height = img.size
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image too large (decompression bomb): {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageError("not a recognised image (corrupt header or not an image file)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"corrupt image header: {exc}") from exc

    fmt = SUPPORTED_FORMATS.get(pil_format)
    if fmt is None:
        raise ImageError(f"unsupported image format {pil_format or 'unknown'}: only JPEG and PNG")
    if width <= 0 or height <= 0:
        raise ImageError(f"invalid image size {width}x{height}")
    if width * height > max_pixels:
        raise ImageError(
            f"image too large: {width}x{height} = {width * height} pixels, limit {max_pixels}"
        )
    return ImageInfo(format=fmt, width=width, height=height)


def image_decode(data: bytes, *, max_pixels: int) -> np.ndarray:
    """Decode JPEG/PNG bytes to a BGR uint8 array (H, W, 3); raise ImageError on bad input."""
    info = image_probe(data, max_pixels=max_pixels)
    _check_complete(data, info)
    buf = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if image is None or image.shape[0] != info.height or image.shape[1] != info.width:
        raise ImageError(f"corrupt {info.format} data: the pixels cannot be decoded")
    return image


def _check_complete(data: bytes, info: ImageInfo) -> None:
    # OpenCV silently returns a half-grey picture for a truncated file; a truncated
    # evidence photo must be an error, so check that the stream ends properly.
    if info.format == "jpeg":
        tail = data[-64:].rstrip(b"\x00\r\n ")
        if not tail.endswith(b"\xff\xd9"):
            raise ImageError("truncated jpeg: no end-of-image marker")
    elif info.format == "png" and b"IEND" not in data[-32:]:
        raise ImageError("truncated png: no IEND chunk")
