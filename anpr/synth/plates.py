"""Clean renderings of the Pakistani plate styles met in Karachi, with their text.

Each style function draws a flat, undamaged plate (RGB float canvas) from a text; the
damage (perspective, blur, dirt...) is added in `damage.py`. Layouts follow real
plates: Punjab two-line with a green band and emblem, Sindh yellow/white one-line with
SINDH and a small year, old Karachi series, new Punjab one-line, Islamabad, green
commercial and motorcycle plates.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageDraw

from anpr.synth.fonts import font_choices, load_font

LETTERS = string.ascii_uppercase
DIGITS = string.digits
PLATE_W = 320  # render width: camera crops are at most ~320 px wide


@dataclass(frozen=True)
class PlateText:
    style: str
    series: str
    year: str  # two-digit registration year printed on Punjab plates, "" when none
    number: str
    separator: str = "-"

    @property
    def key(self) -> str:
        """What the OCR must read: letters and digits only (Punjab year included)."""
        return f"{self.series}{self.year}{self.number}"

    @property
    def display(self) -> str:
        parts = [self.series, self.year, self.number] if self.year else [self.series, self.number]
        return "-".join(parts)


# ---------------------------------------------------------------------------- text


def _letters(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list(LETTERS), size=n))


def _digits(rng: np.random.Generator, n: int, *, leading_zero: bool = False) -> str:
    first = rng.choice(list(DIGITS if leading_zero else DIGITS[1:]))
    return first + "".join(rng.choice(list(DIGITS), size=n - 1))


def punjab_series(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.5:  # Lahore: LE, LEA..LEH (plain LE is common on the road: 5 of 40 dev photos)
        return "LE" + ("" if rng.random() < 0.4 else str(rng.choice(list("ABCDEFGH"))))
    if r < 0.6:
        return str(
            rng.choice(
                [
                    "GA",
                    "FD",
                    "FDA",
                    "MLK",
                    "LWK",
                    "LRP",
                    "RIR",
                    "GAF",
                    "SGD",
                    "BWP",
                    "MNA",
                    "LOA",
                    "LEJ",
                ]
            )
        )
    return _letters(rng, int(rng.choice([2, 3], p=[0.3, 0.7])))


def sindh_series(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.5:
        return str(rng.choice(list("AB"))) + _letters(rng, 2)
    return _letters(rng, int(rng.choice([2, 3], p=[0.25, 0.75])))


def registration_year(rng: np.random.Generator) -> str:
    """Two-digit year: any of 00..25, but half the time 05..20, the years most cars on the
    road were registered in (the dev photos: 07, 08, 09, 11..14, 19, 20)."""
    if rng.random() < 0.5:
        return f"{int(rng.integers(5, 21)):02d}"
    return f"{int(rng.integers(0, 26)):02d}"


def make_text(style: str, rng: np.random.Generator) -> PlateText:
    year = registration_year(rng)
    if style == "punjab":
        number = _digits(rng, int(rng.choice([1, 2, 3, 4], p=[0.03, 0.07, 0.3, 0.6])))
        return PlateText(style, punjab_series(rng), year, number)
    if style == "punjab_noyear":
        return PlateText(
            style, punjab_series(rng), "", _digits(rng, int(rng.choice([3, 4], p=[0.3, 0.7])))
        )
    if style == "sindh":
        number = _digits(rng, int(rng.choice([3, 4], p=[0.6, 0.4])))
        if rng.random() < 0.08:  # TD-483C style: trailing letter
            return PlateText(style, _letters(rng, 2), "", _digits(rng, 3) + _letters(rng, 1))
        return PlateText(style, sindh_series(rng), "", number)
    if style == "karachi":
        return PlateText(style, _letters(rng, 1), "", _digits(rng, 4))
    if style == "punjab_new":
        return PlateText(
            style, _letters(rng, 3), "", _digits(rng, 3, leading_zero=True), separator=" "
        )
    if style == "islamabad":
        return PlateText(
            style,
            _letters(rng, int(rng.choice([2, 3], p=[0.2, 0.8]))),
            "",
            _digits(rng, int(rng.choice([3, 4]))),
        )
    if style == "commercial":
        if rng.random() < 0.5:
            return PlateText(style, punjab_series(rng), year, _digits(rng, int(rng.choice([3, 4]))))
        return PlateText(style, _letters(rng, 3), "", _digits(rng, int(rng.choice([3, 4]))))
    if style == "motorcycle":
        return PlateText(
            style, _letters(rng, 3), "", _digits(rng, int(rng.choice([3, 4], p=[0.3, 0.7])))
        )
    raise ValueError(f"unknown plate style {style!r}")


STYLES = {
    # style: weight. The dev photos are mostly Punjab two-line and Sindh plates.
    "punjab": 0.36,
    "punjab_noyear": 0.10,
    "sindh": 0.24,
    "karachi": 0.06,
    "punjab_new": 0.06,
    "islamabad": 0.06,
    "commercial": 0.05,
    "motorcycle": 0.07,
}


# ---------------------------------------------------------------------------- drawing


def _text_mask(
    text: str, font_path: str | None, size: int = 110, tracking: float = 0.0
) -> np.ndarray:
    """Tight float mask (0..1) of a text in a font; tracking adds space between letters
    (a fraction of the font size: real plates are often letter-spaced)."""
    font = load_font(font_path, size)
    left, top, right, bottom = font.getbbox(text)
    extra = int(tracking * size)
    w = max(1, int(right - left) + 8 + extra * max(0, len(text) - 1))
    h = max(1, int(bottom - top) + 8)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    if extra <= 0:
        draw.text((4 - left, 4 - top), text, fill=255, font=font)
    else:
        x = 4.0 - left
        for ch in text:
            draw.text((x, 4 - top), ch, fill=255, font=font)
            x += font.getlength(ch) + extra
    mask = np.asarray(img, dtype=np.float32) / 255.0
    ys, xs = np.nonzero(mask > 0.05)
    if len(xs) == 0:
        return np.zeros((4, 4), np.float32)
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


class Painter:
    """A float RGB canvas with the few primitives plates need."""

    def __init__(self, w: int, h: int, color, rng: np.random.Generator, font: str | None):
        self.w, self.h, self.rng, self.font = w, h, rng, font
        self.img = np.empty((h, w, 3), np.float32)
        self.img[:] = color

    def rect(self, x0, y0, x1, y1, color) -> None:
        self.img[int(y0) : int(y1), int(x0) : int(x1)] = color

    def text(
        self,
        text: str,
        box,
        color,
        *,
        emboss: float = 0.0,
        keep_aspect: bool = False,
        font=...,
        tracking: float = 0.0,
        alpha: float = 1.0,
    ) -> None:
        """Draw text stretched into box (x, y, w, h); keep_aspect fits it inside instead.
        alpha below 1 prints it fainter, over whatever is under it."""
        x, y, w, h = (round(v) for v in box)
        mask = _text_mask(text, self.font if font is ... else font, tracking=tracking)
        if keep_aspect:
            mh, mw = mask.shape
            s = min(w / mw, h / mh)
            nw, nh = max(1, int(mw * s)), max(1, int(mh * s))
            x, y, w, h = x + (w - nw) // 2, y + (h - nh) // 2, nw, nh
        if w < 2 or h < 2:
            return
        m = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
        if emboss > 0:  # raised letters: light edge up-left, shadow down-right
            d = max(1, round(h * 0.03))
            self._blend(np.roll(np.roll(m, d, 0), d, 1), x, y, (0, 0, 0), emboss * 0.5)
            self._blend(np.roll(np.roll(m, -d, 0), -d, 1), x, y, (255, 255, 255), emboss * 0.4)
        self._blend(m, x, y, color, alpha)

    def _blend(self, m: np.ndarray, x: int, y: int, color, alpha: float) -> None:
        h, w = m.shape
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.w, x + w), min(self.h, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        a = (m[y0 - y : y1 - y, x0 - x : x1 - x] * alpha)[..., None]
        region = self.img[y0:y1, x0:x1]
        region[:] = region * (1 - a) + np.asarray(color, np.float32) * a

    def ellipse(self, center, axes, angle, color, thickness=-1) -> None:
        cv2.ellipse(
            self.img,
            (int(center[0]), int(center[1])),
            (max(1, int(axes[0])), max(1, int(axes[1]))),
            angle,
            0,
            360,
            color,
            thickness,
            cv2.LINE_AA,
        )

    def circle(self, center, r, color, thickness=-1) -> None:
        cv2.circle(
            self.img,
            (int(center[0]), int(center[1])),
            max(1, int(r)),
            color,
            thickness,
            cv2.LINE_AA,
        )

    def border(self, color, width: int, inset: int = 0, radius: int = 0) -> None:
        x0, y0, x1, y1 = inset, inset, self.w - 1 - inset, self.h - 1 - inset
        if radius <= 0:
            cv2.rectangle(self.img, (x0, y0), (x1, y1), color, width, cv2.LINE_AA)
            return
        for a, b in (
            ((x0 + radius, y0), (x1 - radius, y0)),
            ((x0 + radius, y1), (x1 - radius, y1)),
            ((x0, y0 + radius), (x0, y1 - radius)),
            ((x1, y0 + radius), (x1, y1 - radius)),
        ):
            cv2.line(self.img, a, b, color, width, cv2.LINE_AA)
        for cx, cy, start in (
            (x0 + radius, y0 + radius, 180),
            (x1 - radius, y0 + radius, 270),
            (x1 - radius, y1 - radius, 0),
            (x0 + radius, y1 - radius, 90),
        ):
            cv2.ellipse(
                self.img,
                (cx, cy),
                (radius, radius),
                0,
                start,
                start + 90,
                color,
                width,
                cv2.LINE_AA,
            )


def _jitter(rng: np.random.Generator, color, amount: float = 18.0):
    """Vary a colour mostly in brightness, a little in hue (real plates are not pink)."""
    common = rng.normal(0, amount)
    return tuple(float(np.clip(c + common + rng.normal(0, amount * 0.25), 0, 255)) for c in color)


def _u(rng: np.random.Generator, a: float, b: float) -> float:
    return float(rng.uniform(a, b))


def _emblem(p: Painter, x0: float, y0: float, x1: float, y1: float) -> None:
    """Punjab band emblem: a sheaf of pale leaves/flowers on the green band."""
    rng = p.rng
    cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
    base = (cx + _u(rng, -0.05, 0.05) * w, y0 + 0.72 * h)
    leaf = (
        _jitter(rng, (200, 215, 150), 20)
        if rng.random() < 0.6
        else _jitter(rng, (230, 235, 225), 15)
    )
    flower = _jitter(rng, (225, 200, 60), 20)
    for _ in range(int(rng.integers(5, 9))):
        ang = _u(rng, -55, 55)
        length = _u(rng, 0.25, 0.5) * h
        tip = (
            base[0] + np.sin(np.radians(ang)) * length,
            base[1] - np.cos(np.radians(ang)) * length,
        )
        cv2.line(
            p.img,
            (int(base[0]), int(base[1])),
            (int(tip[0]), int(tip[1])),
            leaf,
            max(1, int(w * 0.04)),
            cv2.LINE_AA,
        )
        p.ellipse(
            tip,
            (w * _u(rng, 0.06, 0.12), h * _u(rng, 0.05, 0.09)),
            ang + 90,
            flower if rng.random() < 0.6 else leaf,
        )
    for _ in range(int(rng.integers(2, 4))):
        p.ellipse(
            (base[0] + _u(rng, -0.25, 0.25) * w, base[1] - _u(rng, 0, 0.25) * h),
            (w * 0.12, h * 0.04),
            _u(rng, -60, 60),
            leaf,
        )


def _screws(p: Painter, positions, r: float) -> None:
    for x, y in positions:
        metal = _jitter(p.rng, (150, 150, 145), 35)
        p.circle((x, y), r, metal)
        p.circle((x, y), r, tuple(c * 0.6 for c in metal), max(1, int(r * 0.2)))
        p.circle((x + r * 0.2, y - r * 0.2), r * 0.35, tuple(min(255, c * 1.3) for c in metal))


@dataclass(frozen=True)
class _YearLayout:
    """Where the small year goes on the series line (widths in plate pixels)."""

    sep: str  # "-": a short thick dash, "·": a small square dot, "•": a round dot, "": nothing
    gap: float  # series -> separator
    sep_w: float
    sep_gap: float  # separator -> digits
    digits_w: float
    digits_h: float

    @property
    def width(self) -> float:
        return self.gap + self.sep_w + self.sep_gap + self.digits_w


def _year_layout(rng: np.random.Generator, line_h: float) -> _YearLayout:
    """What the dev photos show (LEC-13-1940, LEB-07-9664, LE-19-4148): the year is two
    tall, narrow digits (each about half as wide as high, thin strokes), 0.5-0.75 of the
    series height, after a clear gap and a short thick dash or a square dot. The first
    drawings had wide, superscript-like digits after a long thin dash. Some plates
    (LEF-19-5266) have a round dot close to the last series letter instead."""
    sep = str(rng.choice(["-", "-", "-", "·", "•", ""]))
    # all three widths are drawn whichever separator is used (the data depend on it)
    sep_w = {"-": _u(rng, 0.16, 0.32), "·": _u(rng, 0.08, 0.14), "•": _u(rng, 0.1, 0.18), "": 0}
    # measured on the dev photos: 0.64-0.75 of the series height (LE-19, LEB-09, LEE-08,
    # LEF-19, LEC-14, GA-10, LEF-13); drawn 0.5-0.75 until stop 18 (a from-scratch model
    # had misread the year on 4 dev plates in stop 17: 9 as 7, 8 as 0, 0 as 1)
    digits_h = line_h * _u(rng, 0.58, 0.8)
    close = sep == "•" or rng.random() < 0.15  # almost touching the series
    return _YearLayout(
        sep=sep,
        sep_w=sep_w[sep] * line_h,
        gap=line_h * (_u(rng, 0.04, 0.15) if close else _u(rng, 0.2, 0.55)),
        sep_gap=line_h * _u(rng, 0.08, 0.25) if sep else 0.0,
        # two digits at 0.38-0.6 of their height each, plus the space between them
        digits_w=digits_h * _u(rng, 0.38, 0.6) * 2.15,
        digits_h=digits_h,
    )


def _year_font(rng: np.random.Generator, font: str | None) -> str | None:
    """The year is printed in a light condensed face: a regular-weight font most times."""
    fonts, _ = font_choices()
    light = [f for f in fonts if f is not None and "Bold" not in f]
    if light and rng.random() < 0.7:
        return light[int(rng.integers(len(light)))]
    return font


def _year_box(
    p: Painter,
    text: PlateText,
    layout: _YearLayout,
    x: float,
    line_y: float,
    line_h: float,
    color,
    *,
    emboss: float,
) -> None:
    """The small two-digit year after the series, top line right. Mostly on the series'
    baseline (as in the dev photos), sometimes higher up; a screw head sometimes sits on
    top of it."""
    rng = p.rng
    h = layout.digits_h
    if rng.random() < 0.65:  # bottom-aligned with the series letters
        y = line_y + line_h - h + _u(rng, -0.06, 0.03) * line_h
    else:
        y = line_y + _u(rng, -0.05, 1.0) * (line_h - h)
    sx = x + layout.gap
    cy = y + h * _u(rng, 0.4, 0.6)  # the separator sits about mid-height of the digits
    if layout.sep == "-":
        t = line_h * _u(rng, 0.11, 0.2)
        p.rect(sx, cy - t / 2, sx + layout.sep_w, cy + t / 2, color)
    elif layout.sep == "·":
        p.rect(sx, cy - layout.sep_w / 2, sx + layout.sep_w, cy + layout.sep_w / 2, color)
    elif layout.sep == "•":
        r = layout.sep_w / 2
        p.circle((sx + r, cy), r, color)
    dx = sx + layout.sep_w + layout.sep_gap
    # Half the time the digits are printed fainter than the rest, grey on the white, the
    # dash still dark (the dev crops LEC-09-1050, LEB-09-9396, LEB-07-1236): a from-scratch
    # model misread exactly those years (stop 18), drawn until then in full ink.
    alpha = _u(rng, 0.45, 0.85) if rng.random() < 0.5 else 1.0
    p.text(
        text.year,
        (dx, y, layout.digits_w, h),
        color,
        emboss=emboss,
        font=_year_font(rng, p.font),
        alpha=alpha,
    )
    if rng.random() < 0.3:  # a fixing screw just above, or biting into, the year digits
        r = p.h * _u(rng, 0.03, 0.055)
        _screws(
            p,
            [(dx + layout.digits_w * _u(rng, 0.2, 0.8), y - r * _u(rng, -0.2, 1.3))],
            r,
        )


def render_punjab(
    text: PlateText, rng: np.random.Generator, font: str | None, *, commercial: bool = False
) -> np.ndarray:
    W, H = PLATE_W, int(PLATE_W / _u(rng, 1.85, 2.15))
    white = _jitter(rng, (235, 236, 232), 12)
    bg = _jitter(rng, (30, 130, 60), 15) if commercial else white
    ink = _jitter(rng, (250, 250, 250), 5) if commercial else _jitter(rng, (25, 25, 35), 12)
    p = Painter(W, H, bg, rng, font)
    band_w = W * _u(rng, 0.19, 0.25)
    if not commercial:
        green = _jitter(rng, (25, 135, 70), 20)
        p.rect(0, 0, band_w, H, green)
        _emblem(p, 0, 0, band_w, H * 0.8)
        p.text(
            "PUNJAB",
            (band_w * 0.08, H * 0.8, band_w * 0.84, H * 0.09),
            _jitter(rng, (245, 245, 245), 8),
            keep_aspect=True,
            font=font,
        )
    left = band_w + W * _u(rng, 0.03, 0.07)
    right = W * _u(rng, 0.94, 0.98)
    emboss = _u(rng, 0, 0.6)
    # Real plates (the dev photos): the two lines fill about 60 % of the height with clear
    # white between them and around; the year is small, after a short dash, at the top of
    # the series line. Both lines stay inside the plate (never clipped).
    line_h = H * _u(rng, 0.26, 0.36)
    top_y = H * _u(rng, 0.07, 0.15)
    num_h = line_h * _u(rng, 1.0, 1.15)
    gap = H * _u(rng, 0.06, 0.12)
    bot_y = min(top_y + line_h + gap, H * 0.95 - num_h)
    char_w = line_h * _u(rng, 0.58, 0.82)
    series_w = char_w * len(text.series)
    year = _year_layout(rng, line_h) if text.year else None
    year_w = year.width if year else 0.0
    if year and series_w + year_w > right - left:  # squeeze the year group, never overlap
        k = (right - left - series_w) / year_w
        year = replace(
            year,
            gap=year.gap * k,
            sep_w=year.sep_w * k,
            sep_gap=year.sep_gap * k,
            digits_w=year.digits_w * k,
        )
        year_w = year.width
    free = max(0.0, right - left - series_w - year_w)
    series_x = left + _u(rng, 0.0, 0.45) * free
    tracking = _u(rng, 0.0, 0.2) if rng.random() < 0.6 else 0.0
    p.text(text.series, (series_x, top_y, series_w, line_h), ink, emboss=emboss, tracking=tracking)
    if year:
        # mostly right after the series; sometimes pushed out towards the rim (LEB-14-5397)
        yx = series_x + series_w + (_u(rng, 0.0, 0.6) * free if rng.random() < 0.25 else 0.0)
        _year_box(p, text, year, min(yx, right - year_w), top_y, line_h, ink, emboss=emboss)
    num_w = min(right - left, char_w * _u(rng, 0.95, 1.15) * len(text.number))
    num_x = left + (right - left - num_w) * _u(rng, 0.0, 0.4)
    p.text(text.number, (num_x, bot_y, num_w, num_h), ink, emboss=emboss, tracking=tracking)
    if rng.random() < 0.7:  # the pressed rim around the whole plate, light and rounded
        p.border(
            _jitter(rng, (215, 218, 215), 20),
            int(_u(rng, 3, 9)),
            inset=int(_u(rng, 0, 5)),
            radius=int(_u(rng, 6, 26)),
        )
    if commercial:
        p.text("PUNJAB", (W * 0.35, H * 0.02, W * 0.3, H * 0.06), ink, keep_aspect=True)
    _finish(p, rng)
    if not commercial and rng.random() < 0.12:
        # A crop cut inside the plate, the green band partly or wholly off (LEB-09-7545):
        # the text starts at least 3 % of the width past the band, so it stays whole.
        return p.img[:, int(band_w * _u(rng, 0.5, 1.05)) :]
    return p.img


def _sindh_year(p: Painter, rng: np.random.Generator, ink, *, main_top: float) -> None:
    """The registration year a Sindh plate carries top right, which is not part of its
    number: printed small on the plate most times, but often on a sticker (a pale or
    coloured label with its own rim) and, on worn or re-riveted plates, low enough to touch
    the top of the last characters. The reader must learn to leave it out."""
    W, H = p.w, p.h
    yr = str(int(rng.integers(1995, 2026)))
    if rng.random() < 0.25:
        yr = yr[2:]
    yh = H * _u(rng, 0.06, 0.12)
    yw = yh * len(yr) * _u(rng, 0.45, 0.7)
    x = W * _u(rng, 0.62, 0.9) - yw
    # Mostly in the margin above the number; a quarter of them sink up to a third of
    # their own height into it, as on plates where the year was printed on a sticker.
    lowest = main_top - yh * (0.65 if rng.random() < 0.25 else 1.0)
    y = _u(rng, min(H * 0.02, lowest), max(H * 0.02, lowest))
    if rng.random() < 0.4:
        pad = yh * _u(rng, 0.15, 0.35)
        y = min(y, main_top + H * 0.03 - pad - yh)  # an opaque label hides no more than that
        label = _jitter(
            rng,
            [(240, 240, 235), (200, 205, 210), (60, 140, 70), (200, 60, 50)][
                int(rng.choice(4, p=[0.45, 0.25, 0.15, 0.15]))
            ],
            12,
        )
        p.rect(x - pad, y - pad, x + yw + pad, y + yh + pad, label)
        if rng.random() < 0.6:
            rim = (int(x - pad), int(y - pad)), (int(x + yw + pad), int(y + yh + pad))
            cv2.rectangle(p.img, *rim, ink, 1, cv2.LINE_AA)
        text_ink = ink if sum(label) > 360 else _jitter(rng, (245, 245, 245), 8)
    else:
        text_ink = ink
    p.text(yr, (x, y, yw, yh), text_ink, font=_year_font(rng, p.font), alpha=_u(rng, 0.75, 1.0))


def render_sindh(
    text: PlateText,
    rng: np.random.Generator,
    font: str | None,
    *,
    word: str = "SINDH",
    yellow: bool | None = None,
) -> np.ndarray:
    W, H = PLATE_W, int(PLATE_W / _u(rng, 1.9, 2.4))
    if yellow is None:
        yellow = rng.random() < 0.8
    bg = (
        _jitter(rng, (245, int(rng.uniform(160, 205)), 20), 14)
        if yellow
        else _jitter(rng, (238, 238, 232), 10)
    )
    ink = _jitter(rng, (25, 20, 15), 10)
    p = Painter(W, H, bg, rng, font)
    if rng.random() < 0.8:
        p.border(ink, int(_u(rng, 2, 6)), inset=int(_u(rng, 3, 12)), radius=int(_u(rng, 0, 20)))
    main = f"{text.series}{text.separator}{text.number}"
    # The dev photos' Sindh plates are letter-spaced, in a regular or bold condensed sans.
    tracking = _u(rng, 0.05, 0.3) if rng.random() < 0.7 else 0.0
    mh = H * _u(rng, 0.46, 0.56)
    my = H * _u(rng, 0.14, 0.22)
    mw = W * _u(rng, 0.72, 0.9) * min(1.0, len(main) / 7.5 + 0.1)
    p.text(
        main,
        ((W - mw) / 2 + _u(rng, -0.03, 0.03) * W, my, mw, mh),
        ink,
        emboss=_u(rng, 0, 0.5),
        tracking=tracking,
    )
    wh = H * _u(rng, 0.09, 0.13)
    ww = wh * len(word) * _u(rng, 0.75, 0.95)
    p.text(word, ((W - ww) / 2, my + mh + H * _u(rng, 0.04, 0.09), ww, wh), ink)
    if rng.random() < 0.8:  # small registration year, top right (not part of the plate number)
        _sindh_year(p, rng, ink, main_top=my)
    if rng.random() < 0.7:  # small emblem top centre
        p.circle(
            (W / 2 + _u(rng, -0.1, 0.1) * W, H * 0.09), H * 0.05, _jitter(rng, (40, 110, 50), 20)
        )
    _finish(p, rng)
    return p.img


def render_punjab_new(text: PlateText, rng: np.random.Generator, font: str | None) -> np.ndarray:
    W, H = PLATE_W, int(PLATE_W / _u(rng, 1.9, 2.2))
    bg = _jitter(rng, (205, 215, 225), 14)
    ink = _jitter(rng, (25, 30, 40), 10)
    p = Painter(W, H, bg, rng, font)
    p.border(
        _jitter(rng, (60, 60, 70), 20),
        int(_u(rng, 2, 5)),
        inset=int(_u(rng, 2, 8)),
        radius=int(_u(rng, 4, 20)),
    )
    p.circle((W * 0.3, H * 0.17), H * 0.08, _jitter(rng, (60, 120, 70), 20))
    p.text("PUNJAB", (W * 0.36, H * 0.07, W * 0.32, H * 0.17), ink)
    main = f"{text.series} {text.number}"
    p.text(
        main,
        (
            W * _u(rng, 0.06, 0.12),
            H * _u(rng, 0.38, 0.44),
            W * _u(rng, 0.76, 0.86),
            H * _u(rng, 0.42, 0.5),
        ),
        ink,
        emboss=_u(rng, 0, 0.5),
    )
    _finish(p, rng)
    return p.img


def render_islamabad(text: PlateText, rng: np.random.Generator, font: str | None) -> np.ndarray:
    W, H = PLATE_W, int(PLATE_W / _u(rng, 1.9, 2.3))
    bg = _jitter(rng, (238, 238, 235), 10)
    ink = _jitter(rng, (20, 20, 30), 10)
    blue = _jitter(rng, (30, 60, 150), 20)
    p = Painter(W, H, bg, rng, font)
    band = W * _u(rng, 0.13, 0.18)
    p.rect(0, 0, band, H, blue)
    p.text("ICT", (band * 0.12, H * 0.35, band * 0.76, H * 0.2), (245, 245, 245), keep_aspect=True)
    main = f"{text.series}-{text.number}"
    p.text(
        main,
        (
            band + W * 0.05,
            H * _u(rng, 0.12, 0.2),
            (W - band) * _u(rng, 0.82, 0.9),
            H * _u(rng, 0.48, 0.56),
        ),
        ink,
        emboss=_u(rng, 0, 0.5),
    )
    p.text("ICT-ISLAMABAD", (band + W * 0.2, H * 0.8, W * 0.45, H * 0.1), ink, keep_aspect=True)
    _finish(p, rng)
    return p.img


def render_motorcycle(text: PlateText, rng: np.random.Generator, font: str | None) -> np.ndarray:
    W, H = int(PLATE_W * 0.75), int(PLATE_W * 0.75 / _u(rng, 1.4, 1.8))
    yellow = rng.random() < 0.5
    bg = _jitter(rng, (245, 190, 25), 14) if yellow else _jitter(rng, (238, 238, 232), 10)
    ink = _jitter(rng, (25, 20, 15), 10)
    p = Painter(W, H, bg, rng, font)
    p.border(ink, int(_u(rng, 2, 5)), inset=int(_u(rng, 2, 8)))
    word = "SINDH" if yellow else "PUNJAB"
    p.text(word, (W * 0.3, H * 0.05, W * 0.4, H * 0.1), ink, keep_aspect=True)
    p.text(
        text.series,
        (W * _u(rng, 0.15, 0.25), H * 0.18, W * _u(rng, 0.5, 0.65), H * _u(rng, 0.32, 0.36)),
        ink,
        emboss=_u(rng, 0, 0.5),
    )
    p.text(
        text.number,
        (W * _u(rng, 0.08, 0.15), H * 0.57, W * _u(rng, 0.7, 0.82), H * _u(rng, 0.34, 0.38)),
        ink,
        emboss=_u(rng, 0, 0.5),
    )
    _finish(p, rng)
    return p.img


def _finish(p: Painter, rng: np.random.Generator) -> None:
    """Screw heads or holes at the top (and sometimes bottom) of the plate."""
    if rng.random() < 0.75:
        r = p.h * _u(rng, 0.035, 0.06)
        y = p.h * _u(rng, 0.06, 0.12)
        xs = [p.w * _u(rng, 0.25, 0.4), p.w * _u(rng, 0.62, 0.88)]
        pts = [(x, y) for x in xs if rng.random() < 0.85]
        if rng.random() < 0.2:
            pts += [(x, p.h - y) for x in xs]
        _screws(p, pts, r)


def render_plate(text: PlateText, rng: np.random.Generator, font: str | None = None) -> np.ndarray:
    """Flat RGB uint8 rendering of a plate text in its style."""
    if font is None:
        fonts, weights = font_choices()
        font = fonts[int(rng.choice(len(fonts), p=weights))]
    style = text.style
    if style in ("punjab", "punjab_noyear"):
        img = render_punjab(text, rng, font)
    elif style == "commercial":
        img = (
            render_punjab(text, rng, font, commercial=True)
            if text.year or rng.random() < 0.3
            else _render_green_one_line(text, rng, font)
        )
    elif style == "sindh":
        img = render_sindh(text, rng, font)
    elif style == "karachi":
        img = render_sindh(text, rng, font, word="KARACHI", yellow=rng.random() < 0.85)
    elif style == "punjab_new":
        img = render_punjab_new(text, rng, font)
    elif style == "islamabad":
        img = render_islamabad(text, rng, font)
    elif style == "motorcycle":
        img = render_motorcycle(text, rng, font)
    else:
        raise ValueError(f"unknown plate style {style!r}")
    return np.clip(img, 0, 255).astype(np.uint8)


def _render_green_one_line(
    text: PlateText, rng: np.random.Generator, font: str | None
) -> np.ndarray:
    W, H = PLATE_W, int(PLATE_W / _u(rng, 2.0, 2.4))
    p = Painter(W, H, _jitter(rng, (30, 125, 60), 15), rng, font)
    ink = _jitter(rng, (248, 248, 248), 5)
    p.border(ink, int(_u(rng, 2, 5)), inset=int(_u(rng, 3, 10)))
    main = f"{text.series}-{text.number}"
    p.text(main, (W * 0.08, H * 0.18, W * 0.84, H * 0.52), ink, emboss=_u(rng, 0, 0.4))
    p.text(
        str(rng.choice(["SINDH", "PUNJAB", "GOVT"])),
        (W * 0.38, H * 0.76, W * 0.24, H * 0.12),
        ink,
        keep_aspect=True,
    )
    _finish(p, rng)
    return p.img


def random_style(rng: np.random.Generator) -> str:
    names = list(STYLES)
    weights = np.array([STYLES[n] for n in names])
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]
