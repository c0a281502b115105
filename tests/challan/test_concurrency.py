"""Races on PostgreSQL, in real threads: one transition per case, one case per event, unique numbers."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from challan import services
from challan.demo import seed_offences
from challan.models import Challan, ChallanEvent, ChallanEvidence, ChallanState
from challan.numbers import challan_number_valid
from tests.challan.factories import CAPTURED, CameraFactory, ChallanFactory, ViolationEventFactory
from tests.vehicles.factories import VehicleFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) in n threads released together; each result or the exception raised."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def schedule():
    # Transactional tests flush the database afterwards, data migrations included: seed again.
    seed_offences()


def test_fifty_concurrent_approvals_make_one_transition_and_49_clean_409s(schedule, reviewer):
    case = ChallanFactory()
    token = Token.objects.create(user=reviewer).key

    def approve(i: int) -> tuple[int, dict]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.post(f"/api/v1/challans/{case.pk}/approve/", {"reason": f"#{i}"})
        return response.status_code, response.json()

    results = in_threads(50, approve)

    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 409: 49}
    for status, body in results:
        if status == 409:
            assert body["code"] == "conflict"
            assert body["errors"][0]["field"] == "state"
    assert Challan.objects.get(pk=case.pk).state == ChallanState.APPROVED
    assert ChallanEvent.objects.filter(challan=case).count() == 1


def test_one_event_delivered_concurrently_opens_one_case(schedule):
    vehicle = VehicleFactory()
    event = ViolationEventFactory()

    def open_it(i: int) -> int:
        return services.case_open(
            event=event,
            plate_key=vehicle.plate_key,
            plate_display=vehicle.registration,
            plate_source="anpr",
            plate_confidence=0.95,
            manual_check_reasons=[],
        ).pk

    results = in_threads(10, open_it)

    assert len(set(results)) == 1, results
    assert Challan.objects.count() == 1
    assert ChallanEvidence.objects.count() == 1
    assert ChallanEvent.objects.filter(transition="open").count() == 1


def test_a_burst_across_cameras_at_once_becomes_one_case(schedule):
    vehicle = VehicleFactory()
    events = [
        ViolationEventFactory(
            camera=CameraFactory(), captured_at=CAPTURED + dt.timedelta(seconds=20 * i)
        )
        for i in range(12)
    ]

    def open_it(i: int) -> int:
        return services.case_open(
            event=events[i],
            plate_key=vehicle.plate_key,
            plate_display=vehicle.registration,
            plate_source="anpr",
            plate_confidence=0.95,
            manual_check_reasons=[],
        ).pk

    results = in_threads(len(events), open_it)

    assert len(set(results)) == 1, results
    case = Challan.objects.get()
    assert case.flag_duplicate
    assert case.evidence.count() == 12


def test_many_events_each_delivered_twice_concurrently_make_one_case_each(schedule):
    vehicles = [VehicleFactory() for _ in range(15)]
    events = [ViolationEventFactory() for _ in vehicles]

    def open_it(i: int) -> int:
        k = i // 2
        return services.case_open(
            event=events[k],
            plate_key=vehicles[k].plate_key,
            plate_display="",
            plate_source="anpr",
            plate_confidence=0.95,
            manual_check_reasons=[],
        ).pk

    results = in_threads(2 * len(events), open_it)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Challan.objects.count() == len(events)
    assert ChallanEvidence.objects.count() == len(events)


def test_concurrent_issues_get_unique_consecutive_numbers(schedule):
    cases = [ChallanFactory(state=ChallanState.APPROVED) for _ in range(20)]
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

    results = in_threads(
        len(cases), lambda i: services.challan_issue(challan=cases[i], at=at).number
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 20
    assert all(challan_number_valid(n) for n in results)
    assert sorted(int(n.split("-")[2]) for n in results) == list(range(1, 21))
