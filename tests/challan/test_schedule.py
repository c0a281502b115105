"""The offence schedule: data with effective dates; a new fine never rewrites old challans."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from challan.demo import load_schedule, seed_offences
from challan.models import Offence, OffenceFine
from challan.selectors import offence_fine_at
from challan.services import case_open
from tests.challan.factories import CAPTURED, ViolationEventFactory
from tests.vehicles.factories import VehicleFactory
from vehicles.models import VehicleClass

pytestmark = pytest.mark.django_db


def fine(code, vehicle_class, at=CAPTURED):
    row = offence_fine_at(
        offence=Offence.objects.get(code=code), vehicle_class=vehicle_class, at=at
    )
    return row.amount_rs if row else None


def test_the_amended_sindh_schedule_is_seeded():
    assert fine("over_speeding", "motorcycle") == 5000
    assert fine("over_speeding", "car") == 15000
    assert fine("over_speeding", "truck") == 20000
    assert fine("wrong_way", "motorcycle") == 25000
    assert fine("wrong_way", "car") == 30000
    assert fine("wrong_way", "jeep") == 50000
    assert fine("wrong_way", "truck") == 100000
    assert fine("no_helmet", "motorcycle") == 5000
    assert fine("no_seatbelt", "car") == 10000
    assert fine("no_licence", "car") == 50000
    assert fine("careless_driving", "car") == 25000
    points = dict(Offence.objects.values_list("code", "demerit_points"))
    assert points["over_speeding"] == 8
    assert points["no_licence"] == 6
    assert points["careless_driving"] == 8
    assert {"red_light", "lane_violation", "mobile_phone"} <= set(points)


def test_every_seeded_class_is_a_registry_class():
    classes = {c for o in load_schedule()["offences"] for c in o["fines"]} - {""}
    assert classes <= set(VehicleClass.values)


def test_seeding_again_changes_nothing():
    OffenceFine.objects.filter(offence__code="no_helmet").update(amount_rs=6000)
    assert seed_offences() == (0, 0)
    assert fine("no_helmet", "motorcycle") == 6000


def test_no_fine_before_the_schedule_took_effect():
    assert fine("over_speeding", "car", at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)) is None


def test_a_new_fine_applies_from_its_date_and_old_challans_keep_theirs():
    vehicle = VehicleFactory()
    before = case_open(
        event=ViolationEventFactory(),
        plate_key=vehicle.plate_key,
        plate_display="",
        plate_source="anpr",
        plate_confidence=0.9,
        manual_check_reasons=[],
    )
    change = CAPTURED + dt.timedelta(days=10)
    old = OffenceFine.objects.get(offence__code="over_speeding", vehicle_class="")
    old.effective_to = change
    old.save()
    OffenceFine.objects.create(
        offence=old.offence, vehicle_class="", amount_rs=18000, effective_from=change
    )
    after = case_open(
        event=ViolationEventFactory(captured_at=change + dt.timedelta(hours=1)),
        plate_key=vehicle.plate_key,
        plate_display="",
        plate_source="anpr",
        plate_confidence=0.9,
        manual_check_reasons=[],
    )

    before.refresh_from_db()
    assert (before.amount_rs, after.amount_rs) == (15000, 18000)
    assert fine("over_speeding", "car", at=change - dt.timedelta(seconds=1)) == 15000


def test_no_fine_below_the_minimum():
    row = OffenceFine(
        offence=Offence.objects.get(code="no_helmet"),
        vehicle_class="rickshaw",
        amount_rs=2500,
        effective_from=CAPTURED,
    )
    with pytest.raises(ValidationError) as err:
        row.full_clean()
    assert "5,000" in str(err.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_overlapping_periods_for_one_class_are_refused():
    offence = Offence.objects.get(code="over_speeding")
    row = OffenceFine(
        offence=offence,
        vehicle_class="car",
        amount_rs=16000,
        effective_from=CAPTURED,
        effective_to=CAPTURED + dt.timedelta(days=1),
    )
    row.full_clean()  # "car" has no row of its own yet
    row.save()
    clash = OffenceFine(
        offence=offence,
        vehicle_class="car",
        amount_rs=17000,
        effective_from=CAPTURED + dt.timedelta(hours=12),
    )
    with pytest.raises(ValidationError) as err:
        clash.full_clean()
    assert "effective_from" in err.value.message_dict
