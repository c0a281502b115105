"""Synthetic Pakistani number plates and camera scenes, for training and tests.

    rng = numpy.random.default_rng(7)
    sample = synth_plate(rng)            # damaged crop (BGR) + its text
    clean = plate_image(sample.text, rng)
    scene, box = render_scene(clean, rng=rng)

Everything is drawn with Pillow, OpenCV and numpy from a seeded generator, so the same
seed gives the same images on the same fonts.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from anpr.synth.damage import damage
from anpr.synth.plates import STYLES, PlateText, make_text, random_style, render_plate
from anpr.synth.scene import render_scene

__all__ = [
    "STYLES",
    "PlateSample",
    "PlateText",
    "make_text",
    "plate_image",
    "random_plate_text",
    "render_scene",
    "synth_plate",
    "synth_plates",
]


@dataclass(frozen=True)
class PlateSample:
    image: np.ndarray  # BGR uint8, a camera-like crop around the plate
    text: PlateText

    @property
    def key(self) -> str:
        return self.text.key


def random_plate_text(rng: np.random.Generator, style: str | None = None) -> PlateText:
    return make_text(style or random_style(rng), rng)


def plate_image(text: PlateText, rng: np.random.Generator) -> np.ndarray:
    """A clean, flat plate (BGR uint8) for a text: what a scene renderer pastes on a car."""
    return cv2.cvtColor(render_plate(text, rng), cv2.COLOR_RGB2BGR)


def synth_plate(
    rng: np.random.Generator, style: str | None = None, *, clean: bool = False
) -> PlateSample:
    """One synthetic plate crop with its text; clean=True skips the damage."""
    text = random_plate_text(rng, style)
    rgb = render_plate(text, rng)
    if not clean:
        rgb = damage(rgb, rng)
    return PlateSample(image=cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), text=text)


def synth_plates(
    n: int, *, seed: int, style: str | None = None, clean: bool = False
) -> list[PlateSample]:
    rng = np.random.default_rng(seed)
    return [synth_plate(rng, style, clean=clean) for _ in range(n)]
