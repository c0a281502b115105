"""Show as little personal data as needed: admin lists, logs and error messages.

Pure functions; they never raise, whatever they are given.
"""

from __future__ import annotations

__all__ = ["mask_address", "mask_cnic", "mask_name", "mask_phone"]

MASK = "*"


def mask_cnic(cnic: str | None) -> str:
    """'4210112345671' or '42101-1234567-1' -> '42101-*****71-1'."""
    digits = "".join(ch for ch in (cnic or "") if ch.isdigit())
    if len(digits) != 13:
        return _mask_tail(digits or (cnic or ""), keep=2)
    return f"{digits[:5]}-{MASK * 5}{digits[10:12]}-{digits[12]}"


def mask_phone(phone: str | None) -> str:
    """'+923001234567' -> '+92300****567': country and network code, last three digits."""
    text = (phone or "").strip()
    if len(text) < 10:
        return _mask_tail(text, keep=2)
    return text[:6] + MASK * (len(text) - 9) + text[-3:]


def mask_address(address: str | None) -> str:
    """'House 12, Street 4, Block 7, Gulshan-e-Iqbal, Karachi' -> '***, Gulshan-e-Iqbal, Karachi'.

    Keeps the area and city (the last two comma-separated parts), hides house and street.
    """
    parts = [p.strip() for p in (address or "").replace("\n", ",").split(",") if p.strip()]
    if not parts:
        return ""
    if len(parts) <= 2:
        return MASK * 3 + (f", {parts[-1]}" if len(parts) == 2 else "")
    return ", ".join([MASK * 3, *parts[-2:]])


def mask_name(name: str | None) -> str:
    """'Muhammad Ali Khan' -> 'M. A. K.': initials only, for logs."""
    return " ".join(f"{word[0]}." for word in (name or "").split() if word)


def _mask_tail(text: str, *, keep: int) -> str:
    if len(text) <= keep:
        return MASK * len(text)
    return MASK * (len(text) - keep) + text[-keep:]
