"""A deterministic synthetic city: the registry changes and camera events, with ground truth.

`city_build` picks vehicles from the registry (seed_demo's), makes the changes each
scenario needs (a sale before or after the violation, a stolen vehicle on the hotlist,
an exempt ambulance, a look-alike plate one confusable character away...) and returns
the events the cameras will send, each with the truth an auditor needs: which plate is
really in the photo, which class of vehicle, and who (if anyone) must get the challan.

Same registry + same seed -> same city.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from anpr.models import Camera
from vehicles.models import (
    Exemption,
    Hotlist,
    HotlistKind,
    Owner,
    Ownership,
    Region,
    Vehicle,
    VehicleClass,
    VehicleStatus,
)
from vehicles.plates import plate_confusions, plate_normalize

# Share of violations per scenario. A burst is one violation seen by several cameras.
SCENARIOS: dict[str, float] = {
    "ordinary": 0.44,
    "hard_read": 0.10,
    "confusable": 0.06,
    "cloned": 0.05,
    "sold_before": 0.05,
    "sold_after": 0.05,
    "stolen": 0.03,
    "exempt": 0.03,
    "sale_pending": 0.03,
    "burst": 0.08,
    "unregistered": 0.04,
    "out_of_province": 0.04,
}
# Who is liable in each scenario: the owner at capture time, or nobody.
NOBODY_LIABLE = {"cloned", "stolen", "exempt", "sale_pending", "unregistered", "out_of_province"}

# What each kind of camera detects; the helmet/seatbelt analytics depend on the vehicle.
CAMERA_OFFENCES: dict[str, str] = {
    Camera.Kind.SPEED: "over_speeding",
    Camera.Kind.RED_LIGHT: "red_light",
    Camera.Kind.LANE: "lane_violation",
    Camera.Kind.WRONG_WAY: "wrong_way",
}
TWO_WHEELERS = {VehicleClass.MOTORCYCLE}


@dataclass
class TruthEvent:
    """One camera event and what really happened."""

    camera_code: str
    camera_event_id: str
    captured_at: dt.datetime
    offence_code: str
    scenario: str
    violation_id: int  # events of one violation (a burst) share it
    shown_key: str  # the plate physically on the vehicle in the photo
    shown_display: str
    shown_style: str  # how the plate looks (anpr.synth style)
    observed_class: str  # the vehicle in the photo
    liable_owner_id: int | None  # who must get the challan; None: nobody
    registry_vehicle_id: int | None  # registry row of the plate shown, if any
    speed_kmh: float | None = None
    speed_limit_kmh: int | None = None
    hard: bool = False
    send_crop: bool = False
    camera_reading: str = ""
    expected_flags: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, object]:
        return {
            "camera": self.camera_code,
            "camera_event_id": self.camera_event_id,
            "captured_at": self.captured_at.isoformat(),
            "offence_code": self.offence_code,
            "scenario": self.scenario,
            "violation_id": self.violation_id,
            "shown_plate": self.shown_display,
            "observed_class": self.observed_class,
            "liable_owner_id": self.liable_owner_id,
            "hard": self.hard,
            "expected_flags": sorted(self.expected_flags),
        }


@dataclass
class City:
    seed: int
    events: list[TruthEvent]
    started_at: dt.datetime

    @property
    def event_prefix(self) -> str:
        return f"SIM{self.seed}-"

    def by_event_id(self) -> dict[tuple[str, str], TruthEvent]:
        return {(e.camera_code, e.camera_event_id): e for e in self.events}


def _style_for(vehicle_class: str, region: str, display: str) -> str:
    """The plate style a registry vehicle carries, for the synthetic renderer."""
    parts = display.split("-")
    if vehicle_class in TWO_WHEELERS:
        return "motorcycle"
    if len(parts) == 3:
        return "punjab"
    if region == Region.ICT:
        return "islamabad"
    if len(parts[0]) == 1:
        return "karachi"
    if region == Region.PUNJAB:
        return "punjab_noyear"
    return "sindh"


class _Builder:
    def __init__(self, *, seed: int, now: dt.datetime) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.now = now
        self.events: list[TruthEvent] = []
        self.violations = 0
        cameras = list(Camera.objects.filter(status=Camera.Status.ACTIVE).order_by("code"))
        if not cameras:
            raise RuntimeError("no active cameras: run `manage.py seed_demo` first")
        self.cameras = cameras
        self.taken: set[int] = set()
        self.pool = list(
            Vehicle.objects.filter(status=VehicleStatus.ACTIVE, ownerships__valid_to__isnull=True)
            # Vehicles the registry already exempts or hotlists would blur the scenarios' truth.
            .exclude(pk__in=Exemption.objects.values("vehicle_id"))
            .exclude(pk__in=Hotlist.objects.filter(vehicle__isnull=False).values("vehicle_id"))
            .exclude(plate_key__in=Hotlist.objects.values("plate_key"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(self.pool) < 100:
            raise RuntimeError("the registry is too small: run `manage.py seed_demo` first")
        self.known_keys = set(Vehicle.objects.values_list("plate_key", flat=True))
        self.approver, _ = get_user_model().objects.get_or_create(username="sim-exemptions")

    # --- picking
    def vehicle(self, *, classes: set[str] | None = None) -> Vehicle:
        for _ in range(2000):
            pk = self.rng.choice(self.pool)
            if pk in self.taken:
                continue
            vehicle = Vehicle.objects.get(pk=pk)
            if classes and vehicle.vehicle_class not in classes:
                continue
            self.taken.add(pk)
            return vehicle
        raise RuntimeError("ran out of unused registry vehicles: use a larger registry")

    def camera_and_offence(self, vehicle_class: str) -> tuple[Camera, str]:
        camera = self.rng.choice(self.cameras)
        offence = CAMERA_OFFENCES.get(camera.kind)
        if offence is None:  # helmet/seatbelt analytics and ANPR-only cameras
            offence = "no_helmet" if vehicle_class in TWO_WHEELERS else "no_seatbelt"
        return camera, offence

    def moment(self) -> dt.datetime:
        # Violations over the last week, at least a day ago (so a "sold after" date fits).
        seconds = self.rng.uniform(1.2 * 86400, 7 * 86400)
        return (self.now - dt.timedelta(seconds=seconds)).replace(microsecond=0)

    def owner_at(self, vehicle: Vehicle, at: dt.datetime) -> int | None:
        row = (
            Ownership.objects.filter(vehicle=vehicle, valid_from__lte=at)
            .exclude(valid_to__lte=at)
            .values_list("owner_id", flat=True)
            .first()
        )
        return row

    def new_owner(self) -> Owner:
        n = self.rng.randrange(10**12)
        return Owner.objects.create(
            name=f"Simulated Buyer {n % 100000:05d}",
            cnic=f"42{n:011d}"[:13],
            phone=f"+92300{n % 10**7:07d}",
            address="House 1, Street 2, Block 3, Gulshan-e-Iqbal, Karachi",
        )

    def transfer(self, vehicle: Vehicle, at: dt.datetime) -> Owner:
        """The vehicle changed hands at `at` (the registry shows the transfer)."""
        buyer = self.new_owner()
        Ownership.objects.filter(vehicle=vehicle, valid_to__isnull=True).update(valid_to=at)
        Ownership.objects.create(vehicle=vehicle, owner=buyer, valid_from=at)
        return buyer

    def unregistered_key(self, region: str) -> tuple[str, str]:
        for _ in range(1000):
            if region == "kp":
                text = f"{self.rng.choice(['PR', 'MN', 'AB', 'KT'])}-{self.rng.randint(100, 9999)}"
            elif region == "balochistan":
                text = f"{self.rng.choice(['QA', 'QB', 'BA'])}-{self.rng.randint(100, 9999)}"
            else:
                series = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
                text = f"{series}-{self.rng.randint(100, 9999)}"
            plate = plate_normalize(text)
            if plate.key not in self.known_keys:
                self.known_keys.add(plate.key)
                return plate.key, plate.display
        raise RuntimeError("could not find an unregistered plate")

    # --- events
    def add(
        self,
        *,
        scenario: str,
        vehicle: Vehicle | None,
        shown_key: str,
        shown_display: str,
        observed_class: str,
        at: dt.datetime,
        liable: int | None,
        flags: set[str],
        camera: Camera | None = None,
        offence: str | None = None,
        violation_id: int | None = None,
        hard: bool = False,
        region: str = "",
    ) -> TruthEvent:
        if camera is None or offence is None:
            camera, offence = self.camera_and_offence(observed_class)
        if violation_id is None:
            self.violations += 1
            violation_id = self.violations
        speed = limit = None
        if offence == "over_speeding":
            limit = camera.speed_limit_kmh or 60
            speed = round(limit * self.rng.uniform(1.15, 1.8), 1)
        style = _style_for(
            observed_class, region or (vehicle.region if vehicle else ""), shown_display
        )
        event = TruthEvent(
            camera_code=camera.code,
            camera_event_id=f"SIM{self.seed}-{len(self.events) + 1:06d}",
            captured_at=at,
            offence_code=offence,
            scenario=scenario,
            violation_id=violation_id,
            shown_key=shown_key,
            shown_display=shown_display,
            shown_style=style,
            observed_class=observed_class,
            liable_owner_id=liable,
            registry_vehicle_id=vehicle.pk if vehicle else None,
            speed_kmh=speed,
            speed_limit_kmh=limit,
            hard=hard,
            send_crop=not hard and self.rng.random() < 0.5,
            # Camera readings are not trusted evidence; about half the cameras send one.
            camera_reading=shown_display if self.rng.random() < 0.5 else "",
            expected_flags=flags,
        )
        self.events.append(event)
        return event

    def registered(
        self, scenario: str, *, classes: set[str] | None = None, hard: bool = False
    ) -> None:
        vehicle = self.vehicle(classes=classes)
        at = self.moment()
        flags: set[str] = set()
        liable: int | None
        since = Ownership.objects.get(vehicle=vehicle, valid_to__isnull=True).valid_from
        if scenario in ("sold_before", "sold_after") and (at - since).days < 2:
            # Bought too recently to be sold on around the violation: an ordinary case then.
            scenario = "ordinary"
        if scenario == "sold_before":
            # Sold between the current owner's purchase and the violation.
            span = (at - since).total_seconds()
            at_sale = since + dt.timedelta(seconds=span * self.rng.uniform(0.2, 0.9))
            liable = self.transfer(vehicle, at_sale).pk
        elif scenario == "sold_after":
            liable = self.owner_at(vehicle, at)
            self.transfer(vehicle, at + dt.timedelta(hours=self.rng.randint(2, 20)))
        elif scenario == "stolen":
            Vehicle.objects.filter(pk=vehicle.pk).update(status=VehicleStatus.STOLEN)
            Hotlist.objects.create(
                vehicle=vehicle,
                plate_key=vehicle.plate_key,
                kind=HotlistKind.STOLEN,
                source="CPLC (simulated)",
                since=at - dt.timedelta(days=self.rng.randint(1, 60)),
            )
            liable, flags = None, {"hotlist"}
        elif scenario == "exempt":
            Exemption.objects.create(
                vehicle=vehicle,
                approved_by=self.approver,
                reason=self.rng.choice(["Ambulance (Edhi)", "Fire tender", "Police on duty"]),
                valid_from=at - dt.timedelta(days=30),
                expires_at=at + dt.timedelta(days=300),
            )
            liable, flags = None, {"exempt"}
        elif scenario == "sale_pending":
            Vehicle.objects.filter(pk=vehicle.pk).update(status=VehicleStatus.SALE_PENDING)
            liable, flags = None, {"sale_pending"}
        else:
            liable = self.owner_at(vehicle, at)
        self.add(
            scenario=scenario,
            vehicle=vehicle,
            shown_key=vehicle.plate_key,
            shown_display=vehicle.registration,
            observed_class=vehicle.vehicle_class,
            at=at,
            liable=liable,
            flags=flags,
            hard=hard,
        )

    def confusable(self) -> None:
        """A registered vehicle whose plate is one confusable character from another's."""
        for _ in range(200):
            original = self.vehicle()
            twins = [k for k, n in plate_confusions(original.plate_key) if n == 1]
            twins = [k for k in twins if k not in self.known_keys]
            if twins:
                break
        else:
            raise RuntimeError("no confusable plate found")
        key = self.rng.choice(twins)
        display = plate_normalize(key).display
        twin = Vehicle.objects.create(
            registration=display,
            plate_key=key,
            region=original.region,
            vehicle_class=original.vehicle_class,
            make=original.make,
            model=original.model,
            colour=original.colour,
        )
        self.known_keys.add(key)
        at = self.moment()
        owner = self.new_owner()
        Ownership.objects.create(vehicle=twin, owner=owner, valid_from=at - dt.timedelta(days=400))
        # Half the time the photo shows the original, half the look-alike.
        shown = original if self.rng.random() < 0.5 else twin
        self.add(
            scenario="confusable",
            vehicle=shown,
            shown_key=shown.plate_key,
            shown_display=shown.registration,
            observed_class=shown.vehicle_class,
            at=at,
            liable=self.owner_at(shown, at),
            flags=set(),
        )

    def cloned(self) -> None:
        """A registered plate on a vehicle of another class: the owner was not there."""
        vehicle = self.vehicle(classes={VehicleClass.CAR, VehicleClass.JEEP, VehicleClass.VAN})
        at = self.moment()
        other = self.rng.choice(
            [VehicleClass.MOTORCYCLE, VehicleClass.RICKSHAW, VehicleClass.TRUCK]
        )
        self.add(
            scenario="cloned",
            vehicle=vehicle,
            shown_key=vehicle.plate_key,
            shown_display=vehicle.registration,
            observed_class=other,
            at=at,
            liable=None,
            flags={"class_mismatch"},
        )

    def burst(self) -> None:
        """One violation on a corridor, seen by several cameras of the same kind within minutes."""
        vehicle = self.vehicle()
        at = self.moment()
        camera, offence = self.camera_and_offence(vehicle.vehicle_class)
        same_kind = [c for c in self.cameras if c.kind == camera.kind]
        self.violations += 1
        for index in range(self.rng.randint(2, 4)):
            cam = same_kind[(same_kind.index(camera) + index) % len(same_kind)]
            self.add(
                scenario="burst",
                vehicle=vehicle,
                shown_key=vehicle.plate_key,
                shown_display=vehicle.registration,
                observed_class=vehicle.vehicle_class,
                at=at + dt.timedelta(seconds=index * self.rng.randint(20, 150)),
                liable=self.owner_at(vehicle, at),
                flags={"duplicate"} if index else set(),
                camera=cam,
                offence=offence,
                violation_id=self.violations,
            )

    def unregistered(self, scenario: str) -> None:
        region = self.rng.choice(["kp", "balochistan"]) if scenario == "out_of_province" else ""
        key, display = self.unregistered_key(region)
        vehicle_class = self.rng.choice([VehicleClass.CAR, VehicleClass.MOTORCYCLE])
        self.add(
            scenario=scenario,
            vehicle=None,
            shown_key=key,
            shown_display=display,
            observed_class=vehicle_class,
            at=self.moment(),
            liable=None,
            flags={"no_match"},
            region="sindh",
        )


def _scenario_plan(n: int, rng: random.Random) -> Iterator[str]:
    names = list(SCENARIOS)
    weights = [SCENARIOS[s] for s in names]
    # Every scenario at least once, even in a small city.
    yield from names
    for _ in range(max(0, n - len(names))):
        yield rng.choices(names, weights)[0]


def city_build(*, events: int, seed: int, now: dt.datetime | None = None) -> City:
    """Make the registry changes and the camera events of a city of about `events` events."""
    now = now or timezone.now()
    builder = _Builder(seed=seed, now=now)
    with transaction.atomic():
        for scenario in _scenario_plan(events, builder.rng):
            if len(builder.events) >= events:
                break
            if scenario in {
                "ordinary",
                "sold_before",
                "sold_after",
                "stolen",
                "exempt",
                "sale_pending",
            }:
                builder.registered(scenario)
            elif scenario == "hard_read":
                builder.registered(scenario, hard=True)
            elif scenario == "confusable":
                builder.confusable()
            elif scenario == "cloned":
                builder.cloned()
            elif scenario == "burst":
                builder.burst()
            else:
                builder.unregistered(scenario)
    return City(seed=seed, events=builder.events, started_at=now)
