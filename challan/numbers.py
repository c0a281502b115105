"""Challan numbers: `KHI-2026-0001234-7`.

Prefix (the city), the year of issue, a 7-digit sequence per prefix and year,
and a Luhn check digit computed over the 11 digits of year + sequence, so a
typo in either is caught. Luhn catches every single-digit error and every
adjacent transposition except 09 <-> 90; that is what a citizen typing a
number from a postal notice gets wrong.

Sequences come from a per-(prefix, year) counter row locked with
SELECT ... FOR UPDATE inside the issuing transaction: two issuers never get
the same number, and a rolled-back issue leaves no gap owner behind it (the
counter increment rolls back with it).
"""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from challan.models import ChallanNumberCounter

NUMBER_RE = re.compile(r"^(?P<prefix>[A-Z]{2,5})-(?P<year>\d{4})-(?P<seq>\d{7})-(?P<check>\d)$")


def luhn_check_digit(digits: str) -> int:
    """The digit that makes `digits + check` pass the Luhn test."""
    total = 0
    # Double every second digit from the right, counting the check digit's place as the first.
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def challan_number_format(*, prefix: str, year: int, sequence: int) -> str:
    body = f"{year:04d}{sequence:07d}"
    return f"{prefix}-{year:04d}-{sequence:07d}-{luhn_check_digit(body)}"


def challan_number_normalize(number: str) -> str:
    """What a person typed -> the canonical form (upper case, no spaces, dashes kept)."""
    return re.sub(r"\s+", "", number).upper()


def challan_number_valid(number: str) -> bool:
    """True when the number is well-formed and its check digit matches."""
    match = NUMBER_RE.match(number)
    if not match:
        return False
    body = match["year"] + match["seq"]
    return luhn_check_digit(body) == int(match["check"])


def number_prefix() -> str:
    return str(getattr(settings, "ECHALLAN_NUMBER_PREFIX", "KHI"))


def challan_number_allocate(*, at: datetime | None = None, prefix: str | None = None) -> str:
    """The next number for the year of `at` (local time). Call inside the issuing transaction."""
    prefix = prefix or number_prefix()
    year = timezone.localtime(at or timezone.now()).year
    with transaction.atomic():
        counter = (
            ChallanNumberCounter.objects.select_for_update()
            .filter(prefix=prefix, year=year)
            .first()
        )
        if counter is None:
            try:
                # The first number of a year: two issuers may race to create the row.
                with transaction.atomic():
                    ChallanNumberCounter.objects.create(prefix=prefix, year=year, last=0)
            except IntegrityError:
                pass
            counter = ChallanNumberCounter.objects.select_for_update().get(prefix=prefix, year=year)
        counter.last += 1
        if counter.last > 9_999_999:
            raise OverflowError(f"challan numbers for {prefix}-{year} are exhausted")
        counter.save(update_fields=["last"])
    return challan_number_format(prefix=prefix, year=year, sequence=counter.last)
