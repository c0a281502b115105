"""Pakistani number plates: free text or OCR output to a canonical key and display form.

Pure Python, no Django: the ANPR workers, the importer and the review screens all
call the same two functions.

A key is the plate's letters and digits, uppercase, nothing else ("LEA122545").
Its grammar is one series of 1-3 letters, then digits, then at most one letter:

    series  digits      suffix  display        seen on
    R       8501                R-8501         old Karachi (one letter)
    AFR     420                 AFR-420        Sindh, new Punjab (ABH-041), Islamabad (AMD-868)
    BKM     1234                BKM-1234       Sindh, Punjab without year (LWK-4549), KP, ...
    TD      483         C       TD-483C        Sindh with a suffix letter
    LEA     12|2545             LEA-12-2545    Punjab: 2-digit year + 4-digit number
    GA      10|124              GA-10-124      Punjab: 2-digit year + 3-digit number

Five or six digits are always a year and a number, so the display is a function
of the key alone; separators in the input never change the key.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "CONFUSABLE_DIGIT_FOR_LETTER",
    "CONFUSABLE_LETTERS_FOR_DIGIT",
    "PlateFormatError",
    "PlateText",
    "plate_confusions",
    "plate_display",
    "plate_key_display",
    "plate_normalize",
]


class PlateFormatError(ValueError):
    """The text is not a plate in any known format; the message says why."""


@dataclass(frozen=True)
class PlateText:
    key: str  # uppercase letters+digits only, e.g. "LEA122545"
    display: str  # "LEA-12-2545"
    region_hint: str | None  # "punjab" | "sindh" | "karachi" | "ict" | None when ambiguous


# OCR confusions, all between a letter and a digit (O/0, I/1, B/8, S/5, Z/2, G/6, D/0).
CONFUSABLE_DIGIT_FOR_LETTER: dict[str, str] = {
    "O": "0",
    "D": "0",
    "I": "1",
    "B": "8",
    "S": "5",
    "Z": "2",
    "G": "6",
}
CONFUSABLE_LETTERS_FOR_DIGIT: dict[str, tuple[str, ...]] = {
    "0": ("O", "D"),
    "1": ("I",),
    "8": ("B",),
    "5": ("S",),
    "2": ("Z",),
    "6": ("G",),
}

MAX_SERIES = 3
MAX_KEY_LENGTH = MAX_SERIES + 6  # the longest form is series + year + 4 digits
_KEY_RE = re.compile(r"([A-Z]+)([0-9]+)([A-Z]*)")
# Valid keys only: the two shapes (a number of 1-4 digits, or a year and 3-4 digits).
_PLAIN_RE = re.compile(r"([A-Z]{1,3})([0-9]{1,4})([A-Z]?)")
_YEAR_RE = re.compile(r"([A-Z]{2,3})([0-9]{2})([0-9]{3,4})")
_NON_ALNUM_RE = re.compile(r"[^A-Z0-9]+")
# Words printed on plates that OCR picks up next to the number.
_REGION_WORDS: dict[str, str] = {
    "SINDH": "sindh",
    "KARACHI": "karachi",
    "PUNJAB": "punjab",
    "ISLAMABAD": "ict",
    "ICT": "ict",
}


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).upper()
    return [t for t in _NON_ALNUM_RE.split(folded) if t]


def _check_key(key: str) -> tuple[str, str, str]:
    """Split a key into (series, digits, suffix) or say what is wrong with it."""
    if not key:
        raise PlateFormatError("plate is empty: no letters or digits")
    match = _KEY_RE.fullmatch(key)
    if match is None:
        if key.isdigit():
            raise PlateFormatError(
                f"{key!r} has no letters: a plate starts with a 1-3 letter series"
            )
        if key.isalpha():
            raise PlateFormatError(f"{key!r} has no digits: a plate has a number after the series")
        if key[0].isdigit():
            raise PlateFormatError(
                f"{key!r} starts with a digit: a plate starts with a 1-3 letter series"
            )
        raise PlateFormatError(
            f"{key!r} mixes letters and digits out of order: expected series, number, "
            "and at most one letter after the number"
        )
    series, digits, suffix = match.groups()
    if len(series) > MAX_SERIES:
        raise PlateFormatError(f"series {series!r} has {len(series)} letters: at most {MAX_SERIES}")
    if len(suffix) > 1:
        raise PlateFormatError(f"{suffix!r} after the number: at most one letter (as in TD-483C)")
    n = len(digits)
    if n > 6:
        raise PlateFormatError(
            f"number {digits!r} has {n} digits: at most 4, or a 2-digit year and 3-4 digits"
        )
    if n >= 5:
        if suffix:
            raise PlateFormatError(
                f"{key!r}: a letter after the number is only used with numbers of 1-4 digits"
            )
        if len(series) < 2:
            raise PlateFormatError(
                f"{key!r}: a one-letter series takes at most 4 digits (as in R-8501)"
            )
    return series, digits, suffix


def plate_display(key: str) -> str:
    """The printed form of a valid key: 'LEA122545' -> 'LEA-12-2545'."""
    return _display(*_check_key(key))


def _display(series: str, digits: str, suffix: str) -> str:
    if len(digits) >= 5:
        return f"{series}-{digits[:2]}-{digits[2:]}"
    return f"{series}-{digits}{suffix}"


def _structural_hint(series: str, digits: str, suffix: str) -> str | None:
    if len(digits) >= 5:
        return "punjab"
    if suffix:
        return "sindh"
    if len(series) == 1:
        return "karachi"
    return None


def _from_tokens(tokens: list[str], word_hint: str | None) -> PlateText:
    key = "".join(tokens)
    series, digits, suffix = _check_key(key)
    return PlateText(
        key=key,
        display=_display(series, digits, suffix),
        region_hint=word_hint or _structural_hint(series, digits, suffix),
    )


def plate_normalize(text: str) -> PlateText:
    """Free text or OCR output ("lea-12 2545", "LEA-12\\n2545", "ICT-ISLAMABAD AMD 868") to a plate.

    Case, spaces, dashes, dots and stray punctuation are ignored; region words printed on
    the plate (SINDH, KARACHI, PUNJAB, ICT, ISLAMABAD) are dropped and kept as the hint.
    Raises PlateFormatError with a message saying what is wrong.
    """
    if not isinstance(text, str):
        raise PlateFormatError(f"plate must be text, not {type(text).__name__}")
    fast = _usual(text)
    if fast is not None:
        return PlateText(*fast)
    return _general(text)


def plate_key_display(text: str) -> tuple[str, str]:
    """`plate_normalize(text)`'s key and display, without building a PlateText.

    For the registry import's million rows; the same answer (or PlateFormatError).
    """
    fast = _usual(text)
    if fast is not None:
        return fast[0], fast[1]
    plate = _general(text)
    return plate.key, plate.display


def _usual(text: str) -> tuple[str, str, str | None] | None:
    """The usual "LEA-12-2545" / "bkm 1234" as (key, display, hint), sooner; None: not usual.

    The general path's answer for every text it accepts (tests/vehicles/test_plates.py).
    """
    if not text.isascii():
        return None
    key = text.upper().replace("-", "").replace(" ", "")
    match = _PLAIN_RE.fullmatch(key)
    if match:
        series, digits, suffix = match.groups()
        hint = "sindh" if suffix else "karachi" if len(series) == 1 else None
        return key, f"{series}-{digits}{suffix}", hint
    match = _YEAR_RE.fullmatch(key)
    if match:
        series, year, number = match.groups()
        return key, f"{series}-{year}-{number}", "punjab"
    return None


def _general(text: str) -> PlateText:
    tokens = _tokens(text)
    plate_tokens = [t for t in tokens if t not in _REGION_WORDS]
    word_hints = [_REGION_WORDS[t] for t in tokens if t in _REGION_WORDS]
    if plate_tokens and word_hints:
        try:
            return _from_tokens(plate_tokens, word_hints[-1])
        except PlateFormatError:
            pass  # the "word" was part of the plate after all (e.g. series ICT): try it whole
    return _from_tokens(tokens, None)


def _is_valid_key(key: str) -> bool:
    try:
        _check_key(key)
    except PlateFormatError:
        return False
    return True


def _layouts(length: int) -> list[tuple[int, int, int]]:
    """(series, digits, suffix) lengths a key of this length can take."""
    out = []
    for series in range(1, MAX_SERIES + 1):
        for suffix in (0, 1):
            digits = length - series - suffix
            if digits < 1 or digits > 6:
                continue
            if digits >= 5 and (suffix or series < 2):
                continue
            out.append((series, digits, suffix))
    return out


def plate_confusions(key: str, *, max_substitutions: int = 3) -> list[tuple[str, int]]:
    """Valid keys one or more OCR confusions away from `key`, fewest substitutions first.

    Position-aware: each possible layout of the key's length expects letters in the
    series and suffix and digits in the number, and only a character of the wrong kind
    is swapped for its confusable partner. `key` may itself be invalid OCR output
    ("8KM1234" gives "BKM1234"); it is never in the result.
    """
    raw = "".join(_tokens(key))
    if not raw or len(raw) > MAX_KEY_LENGTH:
        return []
    best: dict[str, int] = {}
    for series, digits, _suffix in _layouts(len(raw)):
        options: list[tuple[str, ...]] = []
        forced = 0
        for i, ch in enumerate(raw):
            want_letter = i < series or i >= series + digits
            if ch.isalpha() == want_letter:
                options.append((ch,))
                continue
            swaps = (
                CONFUSABLE_LETTERS_FOR_DIGIT.get(ch, ())
                if want_letter
                else tuple(CONFUSABLE_DIGIT_FOR_LETTER.get(ch, ""))
            )
            if not swaps:
                break
            options.append(swaps)
            forced += 1
            if forced > max_substitutions:
                break
        else:
            if forced == 0:
                continue  # the key itself
            for chars in itertools.product(*options):
                candidate = "".join(chars)
                if _is_valid_key(candidate) and forced < best.get(candidate, max_substitutions + 1):
                    best[candidate] = forced
    return sorted(best.items(), key=lambda item: (item[1], item[0]))
