"""Masking for lists, logs and errors; CNIC and phone normalization."""

import pytest

from vehicles.identity import cnic_display, cnic_normalize, phone_normalize
from vehicles.masking import mask_address, mask_cnic, mask_name, mask_phone


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("4210112345671", "42101-*****67-1"),
        ("42101-1234567-1", "42101-*****67-1"),
        ("12345", "***45"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_cnic(value, masked):
    assert mask_cnic(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+923001234567", "+92300****567"),
        ("+922135123456", "+92213****456"),
        ("0300", "**00"),
        ("", ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


def test_mask_address_keeps_area_and_city():
    assert (
        mask_address("House 12, Street 4, Block 7, Gulshan-e-Iqbal, Karachi")
        == "***, Gulshan-e-Iqbal, Karachi"
    )
    assert mask_address("Flat 3B\nClifton Block 5\nKarachi") == "***, Clifton Block 5, Karachi"
    assert mask_address("Karachi") == "***"
    assert mask_address("") == ""


def test_mask_name():
    assert mask_name("Muhammad Ali Khan") == "M. A. K."


@pytest.mark.parametrize("value", ["42101-1234567-1", "4210112345671", " 42101 1234567 1 "])
def test_cnic_normalize(value):
    assert cnic_normalize(value) == "4210112345671"
    assert cnic_display("4210112345671") == "42101-1234567-1"


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "empty"), ("42101-123", "8 digits"), ("4210A12345671", "other than digits")],
)
def test_cnic_normalize_says_what_is_wrong(value, message):
    with pytest.raises(ValueError, match=message):
        cnic_normalize(value)


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("0300-1234567", "+923001234567"),
        ("+92 300 1234567", "+923001234567"),
        ("0092-300-1234567", "+923001234567"),
        ("923001234567", "+923001234567"),
        ("3001234567", "+923001234567"),
        ("021-35123456", "+922135123456"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
    ],
)
def test_phone_normalize(value, e164):
    assert phone_normalize(value) == e164


@pytest.mark.parametrize("value", ["12", "0300-12", "+92 300 12345678901", "abc"])
def test_phone_normalize_rejects(value):
    with pytest.raises(ValueError):
        phone_normalize(value)
