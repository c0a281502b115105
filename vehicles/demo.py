"""Demo data: a deterministic synthetic city for `manage.py seed_demo` and `make run`."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from vehicles.models import (
    Exemption,
    Hotlist,
    HotlistKind,
    Owner,
    Ownership,
    Vehicle,
    VehicleStatus,
)
from vehicles.synthetic import SyntheticOwner, SyntheticRegistry

__all__ = ["DEMO_GROUPS", "DemoRegistry", "demo_users_seed", "registry_seed_demo"]

DEMO_GROUPS = ("reviewer", "supervisor", "appeals_officer")
# username -> (password, group); printed by seed_demo. Demo only: never in production.
DEMO_USERS = {
    "reviewer": ("reviewer", "reviewer"),
    "supervisor": ("supervisor", "supervisor"),
    "appeals": ("appeals", "appeals_officer"),
}
EXEMPTION_REASONS = [
    "Ambulance on duty (Edhi Foundation)",
    "Ambulance on duty (Chhipa Welfare)",
    "Fire brigade, KMC",
    "Police patrol vehicle, Karachi South",
    "Rescue 1122 response vehicle",
]


@dataclass
class DemoRegistry:
    owners: int = 0
    vehicles: int = 0
    ownerships: int = 0
    sold: int = 0
    hotlist: int = 0
    exemptions: int = 0
    users: list[str] = field(default_factory=list)  # "username / password (role)" created


def _moment(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz)


def demo_users_seed() -> tuple[list[str], Any]:
    """The role groups, a superuser admin/admin (only if there is no superuser) and one user per role.

    Returns the "username / password (role)" lines of the users created and the supervisor.
    """
    User = get_user_model()
    created = []
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in DEMO_GROUPS}
    if not User.objects.filter(is_superuser=True).exists():
        User.objects.create_superuser("admin", "admin@example.org", "admin")
        created.append("admin / admin (superuser)")
    for username, (password, group) in DEMO_USERS.items():
        user, new = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "email": f"{username}@example.org"}
        )
        if new:
            user.set_password(password)
            user.save(update_fields=["password"])
            created.append(f"{username} / {password} ({group})")
        user.groups.add(groups[group])
    return created, User.objects.get(username="supervisor")


@transaction.atomic
def registry_seed_demo(*, vehicles: int = 5000, seed: int = 42) -> DemoRegistry:
    """Fill an empty registry with `vehicles` synthetic vehicles, owners, sales, hotlist, exemptions.

    Deterministic: the same seed gives the same plates, owners and dates.
    """
    if Vehicle.objects.exists():
        raise ValueError("the registry is not empty: seed_demo fills an empty one")
    report = DemoRegistry()
    users, supervisor = demo_users_seed()
    report.users = users
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    rng = random.Random(seed + 1)
    rows = list(SyntheticRegistry(seed).rows(vehicles))

    people: dict[str, SyntheticOwner] = {}
    for row in rows:
        people.setdefault(row.owner.cnic, row.owner)
        for previous, _ in row.previous_owners:
            people.setdefault(previous.cnic, previous)
    owners = Owner.objects.bulk_create(
        [
            Owner(
                name=p.name,
                cnic=p.cnic,
                phone=p.phone,
                address=p.address,
                preferred_language=p.language,
            )
            for p in people.values()
        ],
        batch_size=500,
    )
    owner_by_cnic = {o.cnic: o for o in owners}
    created = Vehicle.objects.bulk_create(
        [
            Vehicle(
                registration=row.registration,
                plate_key=row.plate_key,
                region=row.region,
                vehicle_class=row.vehicle_class,
                make=row.make,
                model=row.model,
                colour=row.colour,
                engine_cc=row.engine_cc,
                status=row.status,
            )
            for row in rows
        ],
        batch_size=500,
    )
    ownerships = []
    for row, vehicle in zip(rows, created, strict=True):
        since = _moment(row.owned_since, tz)
        for previous, first in row.previous_owners:
            ownerships.append(
                Ownership(
                    vehicle=vehicle,
                    owner=owner_by_cnic[previous.cnic],
                    valid_from=_moment(first, tz),
                    valid_to=since,
                )
            )
            report.sold += 1
        ownerships.append(
            Ownership(vehicle=vehicle, owner=owner_by_cnic[row.owner.cnic], valid_from=since)
        )
    Ownership.objects.bulk_create(ownerships, batch_size=500)

    # Hotlist: every vehicle registered as stolen, some wanted, a cloned plate, a cleared report.
    hotlist = []
    for row, vehicle in zip(rows, created, strict=True):
        if row.status == VehicleStatus.STOLEN:
            hotlist.append(
                Hotlist(
                    vehicle=vehicle,
                    plate_key=vehicle.plate_key,
                    kind=HotlistKind.STOLEN,
                    source="CPLC",
                    since=_moment(row.owned_since, tz) + dt.timedelta(days=rng.randint(30, 300)),
                    note="Reported stolen by the owner",
                )
            )
    for vehicle in rng.sample(created, k=min(5, len(created))):
        hotlist.append(
            Hotlist(
                vehicle=vehicle,
                plate_key=vehicle.plate_key,
                kind=HotlistKind.WANTED,
                source=rng.choice(["Police station Clifton", "Police station Gulshan", "CTD"]),
                since=_moment(dt.date(2025, 9, 1), tz),
                note="Hit-and-run inquiry",
            )
        )
    if created:
        cleared = created[len(created) // 2]
        hotlist.append(
            Hotlist(
                vehicle=cleared,
                plate_key=cleared.plate_key,
                kind=HotlistKind.STOLEN,
                source="CPLC",
                since=_moment(dt.date(2024, 3, 1), tz),
                cleared_at=_moment(dt.date(2024, 4, 15), tz),
                note="Recovered",
            )
        )
    # A plate seen on the road that the registry does not have: a fake or cloned plate.
    hotlist.append(
        Hotlist(
            plate_key="ZZZ9999",
            kind=HotlistKind.WANTED,
            source="CPLC",
            since=_moment(dt.date(2025, 10, 1), tz),
            note="Fake plate seen on Shahrah-e-Faisal",
        )
    )
    Hotlist.objects.bulk_create(hotlist)

    # Exemptions: emergency vehicles, approved by the demo supervisor, each with an expiry.
    candidates = [
        v for v in created if v.vehicle_class in {"van", "jeep", "car"} and v.status == "active"
    ]
    exemptions = [
        Exemption(
            vehicle=vehicle,
            reason=rng.choice(EXEMPTION_REASONS),
            approved_by=supervisor,
            valid_from=_moment(dt.date(2025, 1, 1), tz),
            expires_at=_moment(dt.date(2026, 12, 31), tz),
        )
        for vehicle in rng.sample(candidates, k=min(6, len(candidates)))
    ]
    Exemption.objects.bulk_create(exemptions)

    report.owners = len(owners)
    report.vehicles = len(created)
    report.ownerships = len(ownerships)
    report.hotlist = len(hotlist)
    report.exemptions = len(exemptions)
    return report
