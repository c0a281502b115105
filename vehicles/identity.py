"""CNIC and phone numbers as they arrive in registry exports, to the stored forms.

Pure Python, no Django. Errors are ValueError with a message fit for a reject file.
"""

from __future__ import annotations

import re

__all__ = ["cnic_display", "cnic_normalize", "phone_normalize"]

_SEPARATORS_RE = re.compile(r"[\s\-./()]+")
E164_RE = re.compile(r"\+[1-9][0-9]{7,14}")


def cnic_normalize(text: str) -> str:
    """'42101-1234567-1' or '4210112345671' -> '4210112345671' (13 digits)."""
    digits = _SEPARATORS_RE.sub("", text or "")
    if not digits:
        raise ValueError("CNIC is empty")
    if not digits.isdigit():
        raise ValueError(f"CNIC has characters other than digits and dashes: {len(digits)} chars")
    if len(digits) != 13:
        raise ValueError(f"CNIC has {len(digits)} digits: expected 13 (#####-#######-#)")
    return digits


def cnic_display(cnic: str) -> str:
    """'4210112345671' -> '42101-1234567-1'."""
    return f"{cnic[:5]}-{cnic[5:12]}-{cnic[12:]}" if len(cnic) == 13 else cnic


def phone_normalize(text: str, *, default_country: str = "92") -> str:
    """Pakistani phone numbers as people write them, to E.164: '0300-1234567' -> '+923001234567'.

    Accepts '+92 300 1234567', '0092...', '92300...', '0300...', '021-35123456'. Empty stays empty.
    """
    raw = _SEPARATORS_RE.sub("", text or "")
    if not raw:
        return ""
    if raw.startswith("+"):
        number = raw
    elif raw.startswith("00"):
        number = "+" + raw[2:]
    elif raw.startswith("0"):
        number = f"+{default_country}{raw[1:]}"
    elif raw.startswith(default_country) and len(raw) >= 11:
        number = "+" + raw
    elif raw.startswith("3") and len(raw) == 10:  # mobile without the trunk 0
        number = f"+{default_country}{raw}"
    else:
        raise ValueError("phone number has no country or trunk prefix (expected +92... or 0...)")
    if not E164_RE.fullmatch(number):
        raise ValueError(
            f"phone number is not valid E.164 after normalization ({len(number) - 1} digits)"
        )
    if number.startswith("+92") and not 11 <= len(number) - 1 <= 12:
        raise ValueError(f"Pakistani number has {len(number) - 3} digits after +92: expected 9-10")
    return number
