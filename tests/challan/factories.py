"""factory_boy factories for cases; the registry's come from tests.vehicles.factories.

event = ViolationEventFactory(offence_code="over_speeding", captured_at=T)
case = ChallanFactory(state="approved")   # a case built directly in any state, for API tests
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from anpr.models import Camera, ViolationEvent
from challan.models import Challan, ChallanEvidence, ChallanState, Offence, PlateSource
from tests.vehicles.factories import OwnerFactory, UserFactory, VehicleFactory  # noqa: F401

CAPTURED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


class CameraFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Camera
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"KHI-CAM-{n:04d}")
    name = factory.LazyAttribute(lambda c: f"Camera {c.code}")
    kind = Camera.Kind.SPEED
    latitude = Decimal("24.860700")
    longitude = Decimal("67.001100")
    road = "Shahrah-e-Faisal"
    district = "east"
    speed_limit_kmh = 60


class ViolationEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ViolationEvent

    camera = factory.SubFactory(CameraFactory)
    camera_event_id = factory.Sequence(lambda n: f"ev-{n:06d}")
    captured_at = CAPTURED
    offence_code = "over_speeding"
    speed_kmh = Decimal("92.0")
    speed_limit_kmh = 60
    payload_sha256 = factory.Sequence(lambda n: f"{n:064x}")


class ChallanFactory(factory.django.DjangoModelFactory):
    """A case of a registered car, in `state`, without going through case_open."""

    class Meta:
        model = Challan
        skip_postgeneration_save = True

    class Params:
        vehicle_obj = factory.SubFactory(VehicleFactory)

    state = ChallanState.PENDING_REVIEW
    event = factory.SubFactory(ViolationEventFactory)
    offence = factory.LazyFunction(lambda: Offence.objects.get(code="over_speeding"))
    captured_at = factory.SelfAttribute("event.captured_at")
    vehicle = factory.SelfAttribute("vehicle_obj")
    owner = factory.LazyAttribute(lambda c: c.vehicle.ownerships.get(valid_to=None).owner)
    ownership = factory.LazyAttribute(lambda c: c.vehicle.ownerships.get(valid_to=None))
    vehicle_class = factory.SelfAttribute("vehicle.vehicle_class")
    plate_key = factory.SelfAttribute("vehicle.plate_key")
    plate_display = factory.SelfAttribute("vehicle.registration")
    plate_source = PlateSource.ANPR
    plate_confidence = 0.97
    amount_rs = 15000
    points = 8

    @factory.post_generation
    def evidence(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            ChallanEvidence.objects.create(challan=obj, event=obj.event)
