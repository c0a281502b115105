import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.vehicles.factories import (
    ExemptionFactory,
    HotlistFactory,
    OwnerFactory,
    OwnershipFactory,
    VehicleFactory,
)
from vehicles.selectors import (
    ownership_at,
    vehicle_exemption_at,
    vehicle_find,
    vehicle_hotlist_hits,
)

pytestmark = pytest.mark.django_db

SALE = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
BEFORE = SALE - dt.timedelta(days=30)
AFTER = SALE + dt.timedelta(days=30)


@pytest.fixture
def sold_vehicle():
    """LEA-12-2545: owned by the seller until SALE, then by the buyer."""
    vehicle = VehicleFactory(plate="LEA-12-2545", region="punjab", owner=False)
    seller = OwnerFactory(name="Seller")
    buyer = OwnerFactory(name="Buyer")
    OwnershipFactory(
        vehicle=vehicle,
        owner=seller,
        valid_from=dt.datetime(2012, 1, 1, tzinfo=dt.UTC),
        valid_to=SALE,
    )
    OwnershipFactory(vehicle=vehicle, owner=buyer, valid_from=SALE)
    return vehicle, seller, buyer


def test_exact_match_gives_owner_at_the_instant(sold_vehicle):
    vehicle, seller, buyer = sold_vehicle
    before = vehicle_find(plate="lea 12 2545", at=BEFORE)
    after = vehicle_find(plate="LEA-12\n2545", at=AFTER)
    assert before.status == after.status == "match"
    assert before.vehicle == after.vehicle == vehicle
    assert before.owner == seller
    assert after.owner == buyer
    assert before.ownership.valid_to == SALE
    assert after.ownership.valid_to is None
    assert before.candidates == []


def test_the_sale_instant_belongs_to_the_buyer(sold_vehicle):
    _, _, buyer = sold_vehicle
    assert vehicle_find(plate="LEA-12-2545", at=SALE).owner == buyer


def test_before_the_first_owner_there_is_a_vehicle_but_no_owner(sold_vehicle):
    match = vehicle_find(plate="LEA-12-2545", at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert match.status == "match"
    assert match.owner is None and match.ownership is None


def test_ownership_at(sold_vehicle):
    vehicle, seller, buyer = sold_vehicle
    assert ownership_at(vehicle=vehicle, at=BEFORE).owner == seller
    assert ownership_at(vehicle=vehicle, at=AFTER).owner == buyer


def test_misread_gives_candidates_with_owners_at_the_instant(sold_vehicle):
    vehicle, _, _ = sold_vehicle
    other = VehicleFactory(plate="LEB-12-2545")
    # "LE8-12-2545" is no valid plate (a digit in the series); LEB-12-2545 is one swap away.
    match = vehicle_find(plate="LE8-12-2545", at=BEFORE)
    assert match.status == "candidates"
    assert match.vehicle is None and match.owner is None
    assert [c.plate_key for c in match.candidates] == ["LEB122545"]
    assert match.candidates[0].rank == 1 and match.candidates[0].substitutions == 1
    assert match.candidates[0].vehicle == other
    assert match.candidates[0].owner == other.ownerships.get().owner
    assert vehicle.plate_key not in [c.plate_key for c in match.candidates]


def test_candidates_ranked_by_fewest_substitutions():
    two_away = VehicleFactory(plate="ABI-234")
    one_away = VehicleFactory(plate="AB-1234")
    VehicleFactory(plate="AB-1235")  # a different plate, not a confusion
    match = vehicle_find(plate="AB-1Z34", at=AFTER)
    assert match.status == "candidates"
    assert [(c.vehicle, c.substitutions, c.rank) for c in match.candidates] == [
        (one_away, 1, 1),
        (two_away, 2, 2),
    ]


def test_a_valid_read_that_is_not_registered_still_gets_candidates():
    registered = VehicleFactory(plate="ABI-234")
    match = vehicle_find(plate="AB-1234", at=AFTER)  # valid, but only ABI-234 exists
    assert match.status == "candidates"
    assert [c.vehicle for c in match.candidates] == [registered]


def test_exact_match_wins_over_candidates():
    exact = VehicleFactory(plate="AB-1234")
    VehicleFactory(plate="ABI-234")
    match = vehicle_find(plate="ab 1234", at=AFTER)
    assert match.status == "match" and match.vehicle == exact and match.candidates == []


def test_nothing_near_is_none():
    VehicleFactory(plate="AFR-420")
    assert vehicle_find(plate="XYZ-999", at=AFTER).status == "none"


@pytest.mark.parametrize("text", ["", "---", "hello world this is not a plate", "12345678901234"])
def test_invalid_text_is_none(text):
    VehicleFactory(plate="AFR-420")
    match = vehicle_find(plate=text, at=AFTER)
    assert match.status == "none" and match.candidates == [] and match.vehicle is None


def test_lookup_takes_at_most_two_queries(sold_vehicle):
    VehicleFactory(plate="LEB-12-2545")
    for plate in ("LEA-12-2545", "LE8-12-2545"):
        with CaptureQueriesContext(connection) as ctx:
            match = vehicle_find(plate=plate, at=AFTER)
            _ = [c.owner.name for c in match.candidates] + [match.owner and match.owner.name]
        # One round trip on PostgreSQL (a LATERAL join), two on SQLite.
        assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 2), plate
    with CaptureQueriesContext(connection) as ctx:
        vehicle_find(plate="XYZ-999", at=AFTER)
    assert len(ctx.captured_queries) == 1


def test_exemption_at():
    exemption = ExemptionFactory(valid_from=BEFORE, expires_at=AFTER)
    vehicle = exemption.vehicle
    assert vehicle_exemption_at(vehicle=vehicle, at=SALE) == exemption
    assert vehicle_exemption_at(vehicle=vehicle, at=BEFORE - dt.timedelta(seconds=1)) is None
    assert vehicle_exemption_at(vehicle=vehicle, at=AFTER) is None


def test_hotlist_hits_by_vehicle_and_by_cloned_plate():
    entry = HotlistFactory(since=BEFORE, cleared_at=AFTER)
    vehicle = entry.vehicle
    plate_only = HotlistFactory(vehicle=None, plate_key="AFR420", kind="wanted", since=BEFORE)
    assert vehicle_hotlist_hits(vehicle=vehicle, at=SALE) == [entry]
    assert vehicle_hotlist_hits(plate_key=vehicle.plate_key, at=SALE) == [entry]
    assert vehicle_hotlist_hits(vehicle=vehicle, at=AFTER) == []
    assert vehicle_hotlist_hits(plate_key="AFR420", at=SALE) == [plate_only]
    assert vehicle_hotlist_hits(plate_key="AFR420", at=BEFORE - dt.timedelta(days=1)) == []
    with pytest.raises(ValueError):
        vehicle_hotlist_hits(at=SALE)
