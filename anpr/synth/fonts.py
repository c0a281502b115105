"""Find TrueType fonts that install here, with fallbacks that always exist.

Every font of FONT_FILES found in the system font directories is drawn with its weight;
DejaVu comes from the system (Debian fonts-dejavu-core) or with matplotlib (in
.venv-train), and Pillow's built-in scalable font is the last resort. Plate fonts are
plain condensed sans-serifs; the DIN-like Roboto Condensed is the closest Debian has to
the Punjab plate font, and `make train-ocr` installs the others it lists.
"""

from __future__ import annotations

import functools
import glob
import os
import sys

from PIL import ImageFont

# Relative weights. Sindh plates are printed in a condensed bold sans; Punjab plates (most
# of what the dev photos show) in a regular-weight sans with thin even strokes: both kinds.
FONT_FILES = {
    "DejaVuSansCondensed-Bold.ttf": 2,
    "DejaVuSansCondensed.ttf": 3,
    "DejaVuSans-Bold.ttf": 1,
    "DejaVuSansMono-Bold.ttf": 1,
    "DejaVuSans.ttf": 2,
    "LiberationSansNarrow-Bold.ttf": 2,
    "LiberationSansNarrow-Regular.ttf": 3,
    "LiberationSans-Bold.ttf": 1,
    "LiberationSans-Regular.ttf": 3,
    "FreeSansBold.ttf": 1,
    "FreeSans.ttf": 3,
    # DIN-like faces, the closest Debian has to the Punjab plate font (rounded, even
    # strokes, flagged 1): Roboto Condensed (fonts-roboto-unhinted), B612 (fonts-b612),
    # Nimbus Sans Narrow (fonts-urw-base35), Noto Sans Display (fonts-noto-core).
    "RobotoCondensed-Regular.ttf": 4,
    "RobotoCondensed-Medium.ttf": 3,
    "RobotoCondensed-Light.ttf": 2,
    "RobotoCondensed-Bold.ttf": 1,
    "B612-Regular.otf": 2,
    "B612-Bold.otf": 1,
    "NimbusSansNarrow-Regular.otf": 2,
    "NimbusSansNarrow-Bold.otf": 1,
    "NotoSansDisplay-Regular.ttf": 2,
    # Faces whose 9 and 6 have the straight diagonal stroke of the Punjab plate font (none
    # of the above has it but B612; the dev photos' 9s were read as 0 or 2): Dosis
    # (fonts-dosis, narrow and rounded), Clear Sans (fonts-clear-sans), M+ 1
    # (fonts-mplus), Play (fonts-play), Jura (fonts-jura).
    "Dosis-Medium.otf": 3,
    "Dosis-SemiBold.otf": 2,
    "Dosis-Book.otf": 1,
    "ClearSans-Regular.ttf": 2,
    "ClearSans-Medium.ttf": 2,
    "Mplus1-Regular.otf": 2,
    "Mplus1-Medium.otf": 2,
    "Play-Regular.ttf": 1,
    "Jura-Medium.otf": 1,
}

SEARCH_DIRS = [
    "/usr/share/fonts/truetype",
    "/usr/share/fonts/opentype",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts",
    "/usr/local/share/fonts",
]


def _candidate_dirs() -> list[str]:
    dirs = list(SEARCH_DIRS)
    extra = os.environ.get("ANPR_FONT_DIR")
    if extra:
        dirs.insert(0, extra)
    for path in sys.path:
        mpl = os.path.join(path, "matplotlib", "mpl-data", "fonts", "ttf")
        if os.path.isdir(mpl):
            dirs.append(mpl)
    return dirs


@functools.cache
def available_fonts() -> tuple[tuple[str, int], ...]:
    """(path, weight) of every known plate-like font found; sorted for determinism."""
    found: dict[str, str] = {}
    for directory in _candidate_dirs():
        if not os.path.isdir(directory):
            continue
        for name in FONT_FILES:
            if name in found:
                continue
            hits = sorted(glob.glob(os.path.join(directory, "**", name), recursive=True))
            if hits:
                found[name] = hits[0]
    return tuple((found[name], FONT_FILES[name]) for name in sorted(found))


@functools.cache
def load_font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        # Pillow >= 10.1 ships a scalable default font when FreeType is available.
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


def font_choices() -> tuple[list[str | None], list[float]]:
    fonts = available_fonts()
    if not fonts:
        return [None], [1.0]
    total = sum(w for _, w in fonts)
    return [p for p, _ in fonts], [w / total for _, w in fonts]
