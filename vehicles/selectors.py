"""Registry reads: which vehicle a plate is, who owned it at an instant, exemptions, hotlist.

vehicle_find is on the hot path of every camera event: two indexed queries at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from django.db.models import Q, QuerySet

from vehicles.models import Exemption, Hotlist, Owner, Ownership, Vehicle
from vehicles.plates import PlateFormatError, plate_confusions, plate_normalize

__all__ = [
    "Candidate",
    "VehicleMatch",
    "ownership_at",
    "vehicle_exemption_at",
    "vehicle_find",
    "vehicle_hotlist_hits",
]


@dataclass(frozen=True)
class Candidate:
    """A registered vehicle whose plate is `substitutions` OCR confusions from the read."""

    vehicle: Vehicle
    owner: Owner | None  # owner at the instant asked about
    plate_key: str
    substitutions: int
    rank: int  # 1 is the likeliest


@dataclass(frozen=True)
class VehicleMatch:
    status: Literal["match", "candidates", "none"]
    vehicle: Vehicle | None = None
    owner: Owner | None = None
    ownership: Ownership | None = None
    candidates: list[Candidate] = field(default_factory=list)


def _ownerships_at(vehicle_ids: Iterable[int], at: datetime) -> dict[int, Ownership]:
    """One query: the ownership row covering `at` for each vehicle (owner joined)."""
    ids = list(vehicle_ids)
    if not ids:
        return {}
    rows = (
        Ownership.objects.filter(vehicle_id__in=ids, valid_from__lte=at)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))
        .select_related("owner")
    )
    return {row.vehicle_id: row for row in rows}


def ownership_at(*, vehicle: Vehicle, at: datetime) -> Ownership | None:
    """The ownership (owner joined) covering instant `at`, or None before the first owner."""
    return _ownerships_at([vehicle.pk], at).get(vehicle.pk)


def _plate_keys(plate: str) -> tuple[str | None, list[tuple[str, int]]]:
    """(exact key or None when the text is no valid plate, confusable keys)."""
    try:
        key: str | None = plate_normalize(plate).key
    except PlateFormatError:
        key = None
    # Invalid OCR text such as "8KM-1234" still has valid neighbours ("BKM-1234").
    return key, plate_confusions(key or plate)


def vehicle_find(*, plate: str, at: datetime) -> VehicleMatch:
    """The vehicle a plate reading refers to, and its owner at instant `at`.

    "match": the normalized key is registered. "candidates": it is not, but registered
    plates are a few OCR confusions away (ranked, fewest substitutions first); they are
    for a reviewer to choose, never to be used automatically. "none": neither.
    """
    key, confusions = _plate_keys(plate)
    substitutions = dict(confusions)
    keys = ([key] if key else []) + list(substitutions)
    if not keys:
        return VehicleMatch(status="none")
    vehicles = {v.plate_key: v for v in Vehicle.objects.filter(plate_key__in=keys)}
    if not vehicles:
        return VehicleMatch(status="none")
    exact = vehicles.get(key) if key else None
    if exact is not None:
        ownership = _ownerships_at([exact.pk], at).get(exact.pk)
        return VehicleMatch(
            status="match",
            vehicle=exact,
            owner=ownership.owner if ownership else None,
            ownership=ownership,
        )
    found = sorted(vehicles.values(), key=lambda v: (substitutions[v.plate_key], v.plate_key))
    owned = _ownerships_at((v.pk for v in found), at)
    candidates = []
    for rank, vehicle in enumerate(found, start=1):
        ownership = owned.get(vehicle.pk)
        candidates.append(
            Candidate(
                vehicle=vehicle,
                owner=ownership.owner if ownership else None,
                plate_key=vehicle.plate_key,
                substitutions=substitutions[vehicle.plate_key],
                rank=rank,
            )
        )
    return VehicleMatch(status="candidates", candidates=candidates)


def vehicle_exemption_at(*, vehicle: Vehicle, at: datetime) -> Exemption | None:
    """The exemption covering `at` (valid_from <= at < expires_at), latest first, or None."""
    return (
        Exemption.objects.filter(vehicle=vehicle, valid_from__lte=at, expires_at__gt=at)
        .select_related("approved_by")
        .order_by("-valid_from", "-id")
        .first()
    )


def vehicle_hotlist_hits(
    *, vehicle: Vehicle | None = None, plate_key: str | None = None, at: datetime
) -> list[Hotlist]:
    """Hotlist rows active at `at` for the vehicle or for the plate key (cloned plates hit too)."""
    match = Q()
    if vehicle is not None:
        match |= Q(vehicle=vehicle) | Q(plate_key=vehicle.plate_key)
    if plate_key:
        match |= Q(plate_key=plate_key)
    if not match:
        raise ValueError("vehicle_hotlist_hits needs a vehicle or a plate_key")
    rows: QuerySet[Hotlist] = (
        Hotlist.objects.filter(match, since__lte=at)
        .filter(Q(cleared_at__isnull=True) | Q(cleared_at__gt=at))
        .order_by("-since", "-id")
    )
    return list(rows)
