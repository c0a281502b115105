"""Plate rules: every format, bad input messages, properties (hypothesis), OCR confusions."""

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicles.plates import (
    CONFUSABLE_DIGIT_FOR_LETTER,
    CONFUSABLE_LETTERS_FOR_DIGIT,
    PlateFormatError,
    PlateText,
    plate_confusions,
    plate_display,
    plate_key_display,
    plate_normalize,
)


@pytest.mark.parametrize(
    ("text", "key", "display", "hint"),
    [
        # Sindh
        ("AFR-420", "AFR420", "AFR-420", None),
        ("BKM-1234", "BKM1234", "BKM-1234", None),
        ("TD-483C", "TD483C", "TD-483C", "sindh"),
        ("SINDH BKM 1234", "BKM1234", "BKM-1234", "sindh"),
        # Old Karachi
        ("R-8501", "R8501", "R-8501", "karachi"),
        ("C 8649 KARACHI", "C8649", "C-8649", "karachi"),
        # Punjab with year: 2-digit year and 4 or 3 digits
        ("LEA-12-2545", "LEA122545", "LEA-12-2545", "punjab"),
        ("LE-19-4148", "LE194148", "LE-19-4148", "punjab"),
        ("GA-10-124", "GA10124", "GA-10-124", "punjab"),
        # Punjab without year, new one-line Punjab
        ("LWK-4549", "LWK4549", "LWK-4549", None),
        ("ABH-041", "ABH041", "ABH-041", None),
        ("PUNJAB ABH-041", "ABH041", "ABH-041", "punjab"),
        # Islamabad
        ("AMD-868", "AMD868", "AMD-868", None),
        ("ICT-ISLAMABAD AMD-868", "AMD868", "AMD-868", "ict"),
        # Other provinces use the same letter-digit series
        ("PRA-1122", "PRA1122", "PRA-1122", None),
        ("QAH 733", "QAH733", "QAH-733", None),
        # A series that happens to be a region word is still a series
        ("ICT-123", "ICT123", "ICT-123", None),
    ],
)
def test_formats(text, key, display, hint):
    assert plate_normalize(text) == PlateText(key=key, display=display, region_hint=hint)


@pytest.mark.parametrize(
    "text",
    [
        "LEA 12 2545",
        "lea-12-2545",
        "LEA-12\n2545",  # two-line plate, OCR lines concatenated
        "LEA12\r\n2545",
        " lea.12.2545. ",
        "[LEA-12-2545]",
        "LEA—12—2545",  # em dashes
        "ＬＥＡ－１２－２５４５",  # full-width characters
        "Lea/12/2545",
        "LEA122545",
    ],
)
def test_free_text_and_ocr_output(text):
    assert plate_normalize(text).key == "LEA122545"
    assert plate_normalize(text).display == "LEA-12-2545"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "plate is empty"),
        ("  -- . ", "plate is empty"),
        ("12345", "has no letters"),
        ("BKM", "has no digits"),
        ("1BKM234", "starts with a digit"),
        ("ABCD-123", "series 'ABCD' has 4 letters: at most 3"),
        ("LEA-12-25456", "7 digits: at most 4, or a 2-digit year and 3-4 digits"),
        ("TD-483CD", "at most one letter"),
        ("TD-12345C", "only used with numbers of 1-4 digits"),
        ("R-12-345", "a one-letter series takes at most 4 digits"),
        ("AB12C3", "out of order"),
    ],
)
def test_bad_input_says_what_is_wrong(text, message):
    with pytest.raises(PlateFormatError, match=message.replace("(", r"\(")) as caught:
        plate_normalize(text)
    assert isinstance(caught.value, ValueError)


def test_non_text_is_a_format_error():
    with pytest.raises(PlateFormatError, match="must be text"):
        plate_normalize(None)  # type: ignore[arg-type]


# --- Properties -----------------------------------------------------------------------

letters = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=1)


def _series(n_min, n_max):
    return st.text(alphabet=string.ascii_uppercase, min_size=n_min, max_size=n_max)


def _digits(n_min, n_max):
    return st.text(alphabet=string.digits, min_size=n_min, max_size=n_max)


# (display, key) of every format, built from its parts.
plain = st.builds(lambda s, d: (f"{s}-{d}", s + d), _series(1, 3), _digits(1, 4))
suffixed = st.builds(
    lambda s, d, x: (f"{s}-{d}{x}", s + d + x), _series(1, 3), _digits(1, 4), letters
)
with_year = st.builds(
    lambda s, y, d: (f"{s}-{y}-{d}", s + y + d), _series(2, 3), _digits(2, 2), _digits(3, 4)
)
valid_plates = st.one_of(plain, suffixed, with_year)
separators = st.sampled_from(["", " ", "-", ".", "\n", " - ", "/", "  "])


@st.composite
def messy(draw):
    """A valid plate as people and OCR write it: any case, any separators, stray punctuation."""
    display, key = draw(valid_plates)
    out = []
    for i, ch in enumerate(key):
        if i and draw(st.booleans()):
            out.append(draw(separators))
        out.append(ch.lower() if draw(st.booleans()) else ch)
    text = (
        draw(st.sampled_from(["", " ", "(", "'"]))
        + "".join(out)
        + draw(st.sampled_from(["", " ", ".", ")"]))
    )
    return display, key, text


@given(valid_plates)
def test_every_generated_plate_normalizes_to_its_parts(plate):
    display, key = plate
    result = plate_normalize(display)
    assert result.key == key
    assert result.display == display


@given(messy())
def test_messy_text_normalizes_to_the_same_plate(sample):
    display, key, text = sample
    result = plate_normalize(text)
    assert (result.key, result.display) == (key, display)


@given(st.one_of(messy().map(lambda m: m[2]), st.text(max_size=14)))
@settings(max_examples=150)
def test_normalization_is_idempotent(text):
    try:
        first = plate_normalize(text)
    except PlateFormatError:
        return
    for again in (plate_normalize(first.display), plate_normalize(first.key)):
        assert (again.key, again.display) == (first.key, first.display)


@given(valid_plates)
def test_display_and_key_round_trip(plate):
    display, key = plate
    assert plate_display(key) == display
    assert display.replace("-", "") == key
    assert plate_normalize(display).key == key


@given(st.text(max_size=20))
def test_keys_are_uppercase_letters_and_digits(text):
    try:
        result = plate_normalize(text)
    except PlateFormatError:
        return
    assert result.key.isascii() and result.key.isalnum() and result.key == result.key.upper()


@given(
    st.one_of(messy().map(lambda m: m[2]), valid_plates.map(lambda p: p[0]), st.text(max_size=14))
)
@settings(max_examples=300)
def test_the_fast_path_gives_the_general_paths_answer(text):
    from vehicles.plates import _general, _usual

    fast = _usual(text)
    if fast is not None:
        general = _general(text)
        assert fast == (general.key, general.display, general.region_hint)
    try:
        plate = plate_normalize(text)
    except PlateFormatError as exc:
        with pytest.raises(PlateFormatError, match=re.escape(str(exc))):
            plate_key_display(text)
        return
    assert plate_key_display(text) == (plate.key, plate.display)


# --- Confusions -----------------------------------------------------------------------


def test_confusions_swap_only_characters_of_the_wrong_kind():
    # A digit in the series is read as its confusable letter; a letter in the number as its digit.
    assert plate_confusions("8KM1234") == [("BKM1234", 1)]
    assert plate_confusions("LEA12254S") == [("LEA122545", 1)]
    assert plate_confusions("BKMI23O") == [("BKM123O", 1), ("BKM1230", 2)]  # O may be a suffix


def test_confusions_ranked_by_fewest_substitutions_then_key():
    result = plate_confusions("AB1Z34")
    assert result == [("AB1234", 1), ("ABI234", 2)]
    assert [n for _, n in result] == sorted(n for _, n in result)


def test_zero_is_both_o_and_d():
    assert ("DB1234", 1) in plate_confusions("0B1234")
    assert ("OB1234", 1) in plate_confusions("0B1234")


def test_confusions_of_a_valid_key_never_include_itself():
    assert all(key != "AFR420" for key, _ in plate_confusions("AFR420"))


def test_confusions_are_bounded():
    assert plate_confusions("") == []
    assert plate_confusions("A" * 30) == []
    assert all(n <= 1 for _, n in plate_confusions("0000000", max_substitutions=1))


_PAIRS = {(a, b) for a, b in CONFUSABLE_DIGIT_FOR_LETTER.items()} | {
    (d, letter) for d, ls in CONFUSABLE_LETTERS_FOR_DIGIT.items() for letter in ls
}


@given(st.one_of(valid_plates.map(lambda p: p[1]), st.text(alphabet="ABDGIOSZ0125683", max_size=9)))
@settings(max_examples=150)
def test_every_confusion_is_valid_and_counts_its_substitutions(key):
    results = plate_confusions(key)
    assert len({k for k, _ in results}) == len(results)
    for candidate, n in results:
        assert candidate != key and len(candidate) == len(key)
        assert plate_display(candidate)  # a valid key
        swaps = [(a, b) for a, b in zip(key, candidate, strict=True) if a != b]
        assert len(swaps) == n >= 1
        assert all(pair in _PAIRS for pair in swaps)
    assert results == sorted(results, key=lambda r: (r[1], r[0]))
