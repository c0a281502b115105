"""Plate finding on rendered camera scenes."""

from __future__ import annotations

import numpy as np

from anpr.detect import _iou, crop_box, find_plates
from anpr.synth import plate_image, random_plate_text, render_scene


def _scene(seed: int):
    rng = np.random.default_rng(seed)
    return render_scene(plate_image(random_plate_text(rng), rng), rng=rng, jpeg_quality=85)


def test_finds_the_plate_in_rendered_scenes():
    found = 0
    for seed in range(12):
        scene, truth = _scene(seed)
        boxes = find_plates(scene)
        assert len(boxes) <= 3
        if boxes and _iou(boxes[0], truth) > 0.5:
            found += 1
    assert found >= 10, f"best box was the plate in only {found}/12 scenes"


def test_boxes_are_in_image_coordinates_and_croppable():
    scene, truth = _scene(100)
    for x, y, w, h in find_plates(scene, max_plates=2):
        assert 0 <= x < scene.shape[1] and 0 <= y < scene.shape[0]
        crop = crop_box(scene, (x, y, w, h))
        assert crop.shape[0] >= h and crop.shape[1] >= w


def test_no_plate_is_an_empty_list_not_an_error():
    assert find_plates(np.full((480, 640, 3), 90, np.uint8)) == []
    assert find_plates(np.zeros((0, 0, 3), np.uint8)) == []
