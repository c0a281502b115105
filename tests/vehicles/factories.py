"""factory_boy factories for the registry; other apps' tests import these.

vehicle = VehicleFactory()                       # with a current owner (OwnershipFactory)
vehicle = VehicleFactory(owner=False)            # no owner at all
vehicle = VehicleFactory(plate="LEA-12-2545", owner=OwnerFactory(name="Ali"))
OwnershipFactory(vehicle=v, owner=o, valid_from=..., valid_to=...)
"""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from vehicles.models import (
    Exemption,
    Hotlist,
    HotlistKind,
    Language,
    Owner,
    Ownership,
    Region,
    Vehicle,
    VehicleClass,
    VehicleStatus,
)
from vehicles.plates import plate_normalize

LONG_AGO = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("password")


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner

    name = factory.Sequence(lambda n: f"Owner {n}")
    cnic = factory.Sequence(lambda n: f"42101{n:07d}1")
    phone = factory.Sequence(lambda n: f"+92300{n:07d}")
    address = factory.Sequence(lambda n: f"House {n}, Street 4, Block 7, Gulshan-e-Iqbal, Karachi")
    preferred_language = Language.URDU


class VehicleFactory(factory.django.DjangoModelFactory):
    """A registered Sindh car; `plate=` sets registration and key, `owner=` the current owner."""

    class Meta:
        model = Vehicle
        skip_postgeneration_save = True

    class Params:
        plate = factory.Sequence(
            lambda n: (
                f"B{'KLMNPQRTUVWXY'[n // 10000 % 13]}{'ABCEFHJK'[n // 130000 % 8]}-{n % 10000:04d}"
            )
        )

    registration = factory.LazyAttribute(lambda v: plate_normalize(v.plate).display)
    plate_key = factory.LazyAttribute(lambda v: plate_normalize(v.plate).key)
    region = Region.SINDH
    vehicle_class = VehicleClass.CAR
    make = "Suzuki"
    model = "Mehran"
    colour = "White"
    engine_cc = 800
    status = VehicleStatus.ACTIVE

    @factory.post_generation
    def owner(obj, create, extracted, **kwargs):  # noqa: N805
        """Current owner since LONG_AGO: a new OwnerFactory unless given; owner=False for none."""
        if not create or extracted is False:
            return
        OwnershipFactory(vehicle=obj, owner=extracted or OwnerFactory(), valid_from=LONG_AGO)


class OwnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ownership

    vehicle = factory.SubFactory(VehicleFactory, owner=False)
    owner = factory.SubFactory(OwnerFactory)
    valid_from = LONG_AGO
    valid_to = None


class ExemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exemption

    vehicle = factory.SubFactory(VehicleFactory)
    reason = "Ambulance on duty (Edhi Foundation)"
    approved_by = factory.SubFactory(UserFactory, username="supervisor-approver")
    valid_from = LONG_AGO
    expires_at = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


class HotlistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hotlist

    vehicle = factory.SubFactory(VehicleFactory)
    plate_key = factory.LazyAttribute(lambda h: h.vehicle.plate_key if h.vehicle else "")
    kind = HotlistKind.STOLEN
    source = "CPLC"
    since = LONG_AGO
    cleared_at = None
    note = ""
