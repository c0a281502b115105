"""Untrusted camera images: every kind of bad input is one clear ImageError."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from anpr.imaging import ImageError, ImageInfo, image_decode, image_probe

MAX_PIXELS = 40_000_000


def _encode(ext: str, shape=(60, 120, 3)) -> bytes:
    image = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height: the header of a decompression bomb, no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("ext", "fmt"), [(".jpg", "jpeg"), (".png", "png")])
def test_probe_and_decode_good_images(ext, fmt):
    data = _encode(ext)
    assert image_probe(data, max_pixels=MAX_PIXELS) == ImageInfo(format=fmt, width=120, height=60)
    image = image_decode(data, max_pixels=MAX_PIXELS)
    assert image.shape == (60, 120, 3)
    assert image.dtype == np.uint8


def test_grayscale_png_decodes_to_bgr():
    image = image_decode(_encode(".png", (30, 50)), max_pixels=MAX_PIXELS)
    assert image.shape == (30, 50, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is not an image at all" * 10, "not a recognised image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, None),  # JPEG magic, garbage after
        (b"GIF89a" + b"\x00" * 64, None),
    ],
    ids=["empty", "text", "corrupt-jpeg", "gif-garbage"],
)
def test_non_images_and_corrupt_headers(data, message):
    with pytest.raises(ImageError, match=message):
        image_decode(data, max_pixels=MAX_PIXELS)


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_truncated_files(ext):
    data = _encode(ext, (200, 300, 3))
    with pytest.raises(ImageError):
        image_decode(data[: len(data) // 2], max_pixels=MAX_PIXELS)


def test_unsupported_format():
    ok, buf = cv2.imencode(".bmp", np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ImageError, match="unsupported image format BMP"):
        image_probe(buf.tobytes(), max_pixels=MAX_PIXELS)


def test_decompression_bomb_is_refused_from_the_header():
    bomb = _png_header_only(50_000, 50_000)
    assert len(bomb) < 200
    with pytest.raises(ImageError, match="too large"):
        image_probe(bomb, max_pixels=MAX_PIXELS)
    with pytest.raises(ImageError, match="too large"):
        image_decode(bomb, max_pixels=MAX_PIXELS)


def test_pixel_limit_is_ours_not_pillows():
    header = _png_header_only(8_000, 6_000)  # 48 MP: under Pillow's limit, over ours
    with pytest.raises(ImageError, match="48000000 pixels, limit 40000000"):
        image_probe(header, max_pixels=MAX_PIXELS)


def test_corrupt_pixel_data_in_png():
    data = bytearray(_encode(".png", (50, 80, 3)))
    idat = data.find(b"IDAT")
    data[idat + 10 : idat + 60] = b"\x00" * 50
    with pytest.raises(ImageError):
        image_decode(bytes(data), max_pixels=MAX_PIXELS)


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)
