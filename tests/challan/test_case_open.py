"""case_open: registry matching at the time of capture, flags, duplicates, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from challan.models import Alert, Challan, ChallanEvent, ChallanEvidence, ChallanState
from challan.services import case_open
from config.api import Unprocessable
from tests.challan.factories import CAPTURED, CameraFactory, ViolationEventFactory
from tests.vehicles.factories import (
    ExemptionFactory,
    HotlistFactory,
    OwnerFactory,
    OwnershipFactory,
    VehicleFactory,
)
from vehicles.models import VehicleClass, VehicleStatus

pytestmark = pytest.mark.django_db


def open_case(event, plate_key, *, reasons=(), observed_class=None, confidence=0.97):
    return case_open(
        event=event,
        plate_key=plate_key,
        plate_display=plate_key,
        plate_source="anpr",
        plate_confidence=confidence,
        manual_check_reasons=list(reasons),
        observed_class=observed_class,
    )


def test_a_clean_match_goes_to_review_with_the_fine_and_an_audit_row():
    vehicle = VehicleFactory(plate="BKM-1234")
    case = open_case(ViolationEventFactory(), vehicle.plate_key, observed_class="car")

    assert case.state == ChallanState.PENDING_REVIEW
    assert case.vehicle == vehicle
    assert case.owner == vehicle.ownerships.get().owner
    assert (case.amount_rs, case.points, case.vehicle_class) == (15000, 8, "car")
    assert case.flags == []
    assert case.number is None
    (opened,) = ChallanEvent.objects.filter(challan=case)
    assert (opened.transition, opened.from_state, opened.to_state) == ("open", "", "pending_review")
    assert opened.actor is None and opened.actor_role == "system"


def test_calling_twice_for_one_event_returns_the_same_case():
    vehicle = VehicleFactory()
    event = ViolationEventFactory()
    first = open_case(event, vehicle.plate_key)
    again = open_case(event, vehicle.plate_key)

    assert again.pk == first.pk
    assert Challan.objects.count() == 1
    assert ChallanEvidence.objects.count() == 1


def test_the_owner_is_the_one_at_the_time_of_the_violation_not_today():
    seller, buyer = OwnerFactory(name="Seller"), OwnerFactory(name="Buyer")
    vehicle = VehicleFactory(owner=False)
    sold = CAPTURED + dt.timedelta(days=30)
    OwnershipFactory(
        vehicle=vehicle,
        owner=seller,
        valid_from=dt.datetime(2015, 1, 1, tzinfo=dt.UTC),
        valid_to=sold,
    )
    OwnershipFactory(vehicle=vehicle, owner=buyer, valid_from=sold)

    before_sale = open_case(ViolationEventFactory(captured_at=CAPTURED), vehicle.plate_key)
    after_sale = open_case(
        ViolationEventFactory(captured_at=sold + dt.timedelta(days=1)), vehicle.plate_key
    )

    assert before_sale.owner == seller
    assert after_sale.owner == buyer


def test_no_owner_at_capture_time_goes_to_plate_check():
    vehicle = VehicleFactory(owner=False)
    OwnershipFactory(vehicle=vehicle, valid_from=CAPTURED + dt.timedelta(days=1))

    case = open_case(ViolationEventFactory(), vehicle.plate_key)

    assert case.owner is None
    assert case.state == ChallanState.NEEDS_PLATE_CHECK
    assert "no_owner_at_capture" in case.manual_check_reasons


def test_an_unregistered_plate_is_flagged_no_match_and_needs_a_plate_check():
    case = open_case(ViolationEventFactory(), "XYZ999")

    assert case.state == ChallanState.NEEDS_PLATE_CHECK
    assert case.flag_no_match and case.vehicle is None and case.amount_rs is None


def test_no_plate_at_all_opens_a_case_for_a_plate_check():
    case = open_case(ViolationEventFactory(), None, reasons=["no_plate_found"])

    assert case.state == ChallanState.NEEDS_PLATE_CHECK
    assert case.flag_no_match and case.flag_manual_check


def test_a_confusable_reading_lists_the_candidates_and_picks_none():
    VehicleFactory(plate="BKM-1234")
    case = open_case(ViolationEventFactory(), "8KM1234")

    assert case.state == ChallanState.NEEDS_PLATE_CHECK
    assert case.flag_candidates and case.vehicle is None
    assert [c["plate_key"] for c in case.candidates] == ["BKM1234"]


def test_manual_check_reasons_route_to_plate_check_even_with_a_match():
    vehicle = VehicleFactory()
    case = open_case(
        ViolationEventFactory(), vehicle.plate_key, reasons=["low_confidence"], confidence=0.4
    )

    assert case.state == ChallanState.NEEDS_PLATE_CHECK
    assert case.flag_manual_check and case.manual_check_reasons == ["low_confidence"]
    assert case.vehicle == vehicle


def test_a_class_differing_from_the_registry_is_a_cloned_plate_sign():
    vehicle = VehicleFactory(vehicle_class=VehicleClass.CAR)
    case = open_case(ViolationEventFactory(), vehicle.plate_key, observed_class="motorcycle")

    assert case.flag_class_mismatch
    assert case.state == ChallanState.NEEDS_PLATE_CHECK
    # The fine follows the registry's class, not the photo's.
    assert case.amount_rs == 15000


def test_a_stolen_vehicle_raises_a_command_centre_alert():
    hit = HotlistFactory()
    event = ViolationEventFactory()
    case = open_case(event, hit.vehicle.plate_key)

    assert case.flag_hotlist
    alert = Alert.objects.get()
    assert (alert.event, alert.challan, alert.vehicle) == (event, case, hit.vehicle)
    assert alert.details["hotlist"][0]["kind"] == "stolen"


def test_a_hotlisted_plate_on_an_unregistered_vehicle_still_alerts():
    HotlistFactory(vehicle=None, plate_key="ABC123")
    case = open_case(ViolationEventFactory(), "ABC123")

    assert case.flag_hotlist and case.flag_no_match
    assert Alert.objects.get().vehicle is None


def test_a_cleared_hotlist_entry_does_not_alert():
    hit = HotlistFactory(cleared_at=CAPTURED - dt.timedelta(days=1))
    case = open_case(ViolationEventFactory(), hit.vehicle.plate_key)

    assert not case.flag_hotlist
    assert not Alert.objects.exists()


def test_exempt_vehicle_and_sale_pending_are_flagged():
    exempt = ExemptionFactory().vehicle
    selling = VehicleFactory(status=VehicleStatus.SALE_PENDING)

    assert open_case(ViolationEventFactory(), exempt.plate_key).flag_exempt
    assert open_case(ViolationEventFactory(), selling.plate_key).flag_sale_pending


def test_an_exemption_that_expired_before_the_violation_does_not_count():
    exemption = ExemptionFactory(expires_at=CAPTURED - dt.timedelta(hours=1))
    assert not open_case(ViolationEventFactory(), exemption.vehicle.plate_key).flag_exempt


@override_settings(ECHALLAN_DUPLICATE_WINDOW_MINUTES=10)
def test_same_vehicle_and_offence_across_cameras_within_the_window_is_one_case():
    vehicle = VehicleFactory()
    cameras = [CameraFactory() for _ in range(5)]
    cases = [
        open_case(
            ViolationEventFactory(
                camera=camera, captured_at=CAPTURED + dt.timedelta(minutes=2 * i)
            ),
            vehicle.plate_key,
        )
        for i, camera in enumerate(cameras)
    ]

    assert {c.pk for c in cases} == {cases[0].pk}
    case = Challan.objects.get()
    assert case.flag_duplicate
    assert case.evidence.count() == 5
    assert case.evidence.filter(is_duplicate=True).count() == 4
    assert ChallanEvent.objects.filter(challan=case, transition="attach_duplicate").count() == 4


@override_settings(ECHALLAN_DUPLICATE_WINDOW_MINUTES=10)
def test_outside_the_window_or_another_offence_is_a_new_case():
    vehicle = VehicleFactory()
    first = open_case(ViolationEventFactory(), vehicle.plate_key)
    later = open_case(
        ViolationEventFactory(captured_at=CAPTURED + dt.timedelta(minutes=11)), vehicle.plate_key
    )
    other = open_case(ViolationEventFactory(offence_code="red_light"), vehicle.plate_key)

    assert len({first.pk, later.pk, other.pk}) == 3
    assert not Challan.objects.filter(flag_duplicate=True).exists()


def test_a_rejected_case_does_not_swallow_a_new_event():
    from challan.services import challan_reject

    vehicle = VehicleFactory()
    first = open_case(ViolationEventFactory(), vehicle.plate_key)
    challan_reject(challan=first, actor=None, reason="") if False else None
    Challan.objects.filter(pk=first.pk).update(state=ChallanState.REJECTED)
    second = open_case(
        ViolationEventFactory(captured_at=CAPTURED + dt.timedelta(minutes=1)), vehicle.plate_key
    )
    assert second.pk != first.pk


def test_unregistered_plates_are_deduplicated_by_plate():
    first = open_case(ViolationEventFactory(), "XYZ999")
    second = open_case(
        ViolationEventFactory(captured_at=CAPTURED + dt.timedelta(minutes=1)), "XYZ999"
    )
    assert second.pk == first.pk


def test_an_unknown_offence_code_is_refused():
    with pytest.raises(Unprocessable) as err:
        open_case(ViolationEventFactory(offence_code="jaywalking"), "ABC123")
    assert err.value.field == "offence_code"
    assert not Challan.objects.exists()


def test_every_sighting_of_a_stolen_vehicle_alerts_even_when_it_joins_a_case():
    hit = HotlistFactory()
    first = open_case(ViolationEventFactory(), hit.vehicle.plate_key)
    second = open_case(
        ViolationEventFactory(
            camera=CameraFactory(), captured_at=CAPTURED + dt.timedelta(minutes=4)
        ),
        hit.vehicle.plate_key,
    )

    assert second.pk == first.pk
    assert Alert.objects.filter(challan=first).count() == 2
    assert len({a.details["camera"] for a in Alert.objects.all()}) == 2
