"""Challan numbers: format, Luhn check digit, allocation per year."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from challan.models import ChallanNumberCounter
from challan.numbers import (
    challan_number_allocate,
    challan_number_format,
    challan_number_normalize,
    challan_number_valid,
    luhn_check_digit,
)

sequences = st.integers(min_value=1, max_value=9_999_999)
years = st.integers(min_value=2025, max_value=2099)


def test_the_documented_example_shape():
    number = challan_number_format(prefix="KHI", year=2026, sequence=1234)
    assert number.startswith("KHI-2026-0001234-")
    assert challan_number_valid(number)


def test_luhn_matches_the_reference_value():
    # 7992739871 -> 3 is the textbook Luhn example.
    assert luhn_check_digit("7992739871") == 3


@given(year=years, sequence=sequences)
def test_every_formatted_number_is_valid(year, sequence):
    assert challan_number_valid(challan_number_format(prefix="KHI", year=year, sequence=sequence))


@given(year=years, sequence=sequences, position=st.integers(0, 10), delta=st.integers(1, 9))
def test_any_single_digit_typo_is_caught(year, sequence, position, delta):
    number = challan_number_format(prefix="KHI", year=year, sequence=sequence)
    digit_positions = [i for i, c in enumerate(number[:-2]) if c.isdigit()]
    i = digit_positions[position]
    typo = number[:i] + str((int(number[i]) + delta) % 10) + number[i + 1 :]
    assert not challan_number_valid(typo)


@given(year=years, sequence=sequences, position=st.integers(0, 5))
def test_adjacent_transpositions_in_the_sequence_are_caught_except_09_90(year, sequence, position):
    number = challan_number_format(prefix="KHI", year=year, sequence=sequence)
    i = 9 + position  # inside the 7-digit sequence
    a, b = number[i], number[i + 1]
    if a == b or {a, b} == {"0", "9"}:
        return
    swapped = number[:i] + b + a + number[i + 2 :]
    assert not challan_number_valid(swapped)


@pytest.mark.parametrize(
    "text",
    ["", "KHI-2026-0001234", "KHI-2026-001234-7", "KHI/2026/0001234/7", "KHI-2026-0001234-77"],
)
def test_malformed_numbers_are_invalid(text):
    assert not challan_number_valid(text)


def test_normalize_then_validate_what_people_type():
    number = challan_number_format(prefix="KHI", year=2026, sequence=42)
    assert challan_number_valid(challan_number_normalize(f" {number.lower()} "))


@pytest.mark.django_db
def test_allocation_counts_per_year_in_local_time():
    # 31 Dec 2026 20:00 UTC is already 1 Jan 2027 in Karachi (UTC+5).
    first = challan_number_allocate(at=dt.datetime(2026, 12, 31, 12, 0, tzinfo=dt.UTC))
    second = challan_number_allocate(at=dt.datetime(2026, 12, 31, 12, 5, tzinfo=dt.UTC))
    new_year = challan_number_allocate(at=dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC))

    assert first.startswith("KHI-2026-0000001-")
    assert second.startswith("KHI-2026-0000002-")
    assert new_year.startswith("KHI-2027-0000001-")
    assert ChallanNumberCounter.objects.get(prefix="KHI", year=2026).last == 2
