"""Registry reads: which vehicle a plate is, who owned it at an instant, exemptions, hotlist.

vehicle_find is on the hot path of every camera event: one query on PostgreSQL, two elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from django.db import connection
from django.db.models import Q, QuerySet

from config.db import model_columns, prepared
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


_VEHICLE_ATTS, _VEHICLE_SQL = model_columns(Vehicle, "v")
_OWNERSHIP_ATTS, _OWNERSHIP_SQL = model_columns(Ownership, "o")
_OWNER_ATTS, _OWNER_SQL = model_columns(Owner, "w")
# One round trip: the vehicles and, through the (vehicle, -valid_from) index, the ownership
# row covering the instant with its owner.
_FIND_SQL = f"""
    SELECT {_VEHICLE_SQL}, {_OWNERSHIP_SQL}, {_OWNER_SQL}
    FROM vehicles_vehicle v
    LEFT JOIN LATERAL (
        SELECT * FROM vehicles_ownership o
        WHERE o.vehicle_id = v.id AND o.valid_from <= %(at)s
          AND (o.valid_to IS NULL OR o.valid_to > %(at)s)
        ORDER BY o.valid_from DESC LIMIT 1
    ) o ON true
    LEFT JOIN vehicles_owner w ON w.id = o.owner_id
    WHERE v.plate_key = ANY(%(keys)s)
"""  # noqa: S608 - column lists come from the models, values are parameters


def _vehicles_with_ownership(
    keys: list[str], at: datetime
) -> list[tuple[Vehicle, Ownership | None]]:
    """Registered vehicles with these plate keys, each with its ownership at `at` (owner joined)."""
    if connection.vendor != "postgresql":
        vehicles = list(Vehicle.objects.filter(plate_key__in=keys))
        owned = _ownerships_at((v.pk for v in vehicles), at)
        return [(v, owned.get(v.pk)) for v in vehicles]
    # Prepared once per connection: planning this join costs more than running it.
    rows = prepared(_FIND_SQL, {"at": at, "keys": keys})
    nv, no = len(_VEHICLE_ATTS), len(_OWNERSHIP_ATTS)
    db = connection.alias
    out = []
    for row in rows:
        vehicle = Vehicle.from_db(db, _VEHICLE_ATTS, row[:nv])
        ownership = None
        if row[nv] is not None:
            ownership = Ownership.from_db(db, _OWNERSHIP_ATTS, row[nv : nv + no])
            ownership.vehicle = vehicle
            ownership.owner = Owner.from_db(db, _OWNER_ATTS, row[nv + no :])
        out.append((vehicle, ownership))
    return out


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
    found = {v.plate_key: (v, o) for v, o in _vehicles_with_ownership(keys, at)}
    if not found:
        return VehicleMatch(status="none")
    if key in found:
        vehicle, ownership = found[key]
        return VehicleMatch(
            status="match",
            vehicle=vehicle,
            owner=ownership.owner if ownership else None,
            ownership=ownership,
        )
    ranked = sorted(found.items(), key=lambda item: (substitutions[item[0]], item[0]))
    candidates = [
        Candidate(
            vehicle=vehicle,
            owner=ownership.owner if ownership else None,
            plate_key=plate_key,
            substitutions=substitutions[plate_key],
            rank=rank,
        )
        for rank, (plate_key, (vehicle, ownership)) in enumerate(ranked, start=1)
    ]
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
