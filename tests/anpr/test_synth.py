"""The synthetic plate generator: determinism, formats, damage and scenes."""

from __future__ import annotations

import numpy as np
import pytest

from anpr.synth import (
    STYLES,
    plate_image,
    random_plate_text,
    render_scene,
    synth_plate,
    synth_plates,
)
from vehicles.plates import plate_normalize


def test_same_seed_same_images():
    a, b = synth_plates(4, seed=42), synth_plates(4, seed=42)
    assert [s.key for s in a] == [s.key for s in b]
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert [s.key for s in synth_plates(4, seed=43)] != [s.key for s in a]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_renders_a_valid_plate(style):
    rng = np.random.default_rng(7)
    for _ in range(3):
        sample = synth_plate(rng, style)
        h, w = sample.image.shape[:2]
        assert sample.image.dtype == np.uint8 and sample.image.ndim == 3
        assert 16 <= h <= 400 and 60 <= w <= 400
        # what the OCR is taught must be a plate the registry accepts, with the same key
        assert plate_normalize(sample.key).key == sample.key
        assert sample.text.display.replace("-", "") == sample.key


def test_punjab_plates_carry_the_year_in_the_key():
    rng = np.random.default_rng(3)
    text = random_plate_text(rng, "punjab")
    assert text.year and text.key == text.series + text.year + text.number
    assert plate_normalize(text.key).display == text.display


def test_damage_goes_down_to_small_crops():
    widths = [s.image.shape[1] for s in synth_plates(40, seed=5)]
    assert min(widths) < 120 and max(widths) > 160


def test_scene_contains_the_plate_at_the_returned_box():
    rng = np.random.default_rng(9)
    plate = plate_image(random_plate_text(rng, "sindh"), rng)
    scene, (x, y, w, h) = render_scene(plate, rng=rng, size=(960, 540), camera_code="KHI-CAM-007")
    assert scene.shape == (540, 960, 3) and scene.dtype == np.uint8
    assert x >= 0 and x + w <= 960 and y >= 0 and y + h <= 540
    assert abs(w / h - plate.shape[1] / plate.shape[0]) < 0.2
    # the plate region is the plate (bright), not the road around it
    assert scene[y : y + h, x : x + w].mean() > 0.8 * plate.mean() * 0.7
