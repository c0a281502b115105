"""The TRACS API and the review actions: status codes, shapes, permissions, masking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from challan import services
from challan.models import ChallanEvent, ChallanState
from challan.numbers import challan_number_format
from tests.challan.factories import ChallanFactory
from tests.vehicles.factories import OwnerFactory, VehicleFactory

pytestmark = pytest.mark.django_db
S = ChallanState


def issued(**kwargs):
    case = ChallanFactory(state=S.APPROVED, **kwargs)
    return services.challan_issue(challan=case, at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC))


def assert_error(response, status, field):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == status
    assert field in [e["field"] for e in body["errors"]]


# --- Reads.


def test_challan_by_number_for_tracs_with_masked_owner(api, tracs):
    owner = OwnerFactory(
        cnic="4210112345671",
        phone="+923001234567",
        address="House 12, Street 4, Block 7, Gulshan-e-Iqbal, Karachi",
    )
    case = issued(vehicle_obj=VehicleFactory(plate="BKM-1234", owner=owner))

    response = api.as_(tracs).get(f"/api/v1/challans/by-number/{case.number}/")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == case.number
    assert body["state"] == "issued"
    assert body["offence"] == {
        "code": "over_speeding",
        "name": "Over-speeding",
        "demerit_points": 8,
    }
    assert body["plate"]["key"] == "BKM1234"
    assert body["amount_rs"] == 15000
    assert body["owner"] == {
        "name": owner.name,
        "cnic": "42101-*****67-1",
        "phone": "+92300****567",
        "address": "***, Gulshan-e-Iqbal, Karachi",
        "masked": True,
    }
    assert "history" not in body


@pytest.mark.parametrize("persona", ["supervisor", "appeals_officer"])
def test_supervisors_and_appeals_officers_see_personal_data(api, persona, request):
    owner = OwnerFactory(cnic="4210112345671")
    case = issued(vehicle_obj=VehicleFactory(owner=owner))
    response = api.as_(request.getfixturevalue(persona)).get(f"/api/v1/challans/{case.pk}/")
    assert response.json()["owner"]["cnic"] == "4210112345671"
    assert response.json()["owner"]["masked"] is False


def test_reviewers_see_masked_personal_data(api, reviewer):
    case = ChallanFactory()
    body = api.as_(reviewer).get(f"/api/v1/challans/{case.pk}/").json()
    assert body["owner"]["masked"] is True
    assert "*" in body["owner"]["cnic"]


def test_a_mistyped_number_is_a_400_naming_the_field(api, tracs):
    case = issued()
    wrong_check = case.number[:-1] + str((int(case.number[-1]) + 1) % 10)
    assert_error(api.as_(tracs).get(f"/api/v1/challans/by-number/{wrong_check}/"), 400, "number")
    assert_error(api.as_(tracs).get("/api/v1/challans/by-number/nonsense/"), 400, "number")


def test_an_unknown_valid_number_is_a_404(api, tracs):
    number = challan_number_format(prefix="KHI", year=2026, sequence=999)
    assert api.as_(tracs).get(f"/api/v1/challans/by-number/{number}/").status_code == 404


def test_numbers_are_accepted_in_lower_case(api, tracs):
    case = issued()
    response = api.as_(tracs).get(f"/api/v1/challans/by-number/{case.number.lower()}/")
    assert response.status_code == 200


def test_challans_by_plate_only_issued_ones_paginated(api, tracs):
    vehicle = VehicleFactory(plate="BKM-1234")
    first, second = issued(vehicle_obj=vehicle), issued(vehicle_obj=vehicle)
    ChallanFactory(vehicle_obj=vehicle)  # still in review: not for TRACS
    issued()  # another plate

    response = api.as_(tracs).get("/api/v1/challans/by-plate/bkm 1234/?page_size=1")

    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["results"]] == [second.pk]
    assert body["next"]
    rest = api.get(body["next"]).json()
    assert [c["id"] for c in rest["results"]] == [first.pk]


def test_challans_by_plate_rejects_a_non_plate(api, tracs):
    assert_error(api.as_(tracs).get("/api/v1/challans/by-plate/%21%21/"), 400, "plate")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/challans/by-plate/BKM1234/",
        "/api/v1/challans/by-number/KHI-2026-0000001-6/",
        "/api/v1/challans/feed/",
        "/api/v1/challans/review-queue/",
    ],
)
def test_outsiders_get_403_and_anonymous_401(api, outsider, url):
    assert api.get(url).status_code == 401
    assert_error(api.as_(outsider).get(url), 403, None)


def test_tracs_cannot_see_case_details_or_act(api, tracs):
    case = ChallanFactory()
    assert api.as_(tracs).get(f"/api/v1/challans/{case.pk}/").status_code == 403
    assert api.as_(tracs).post(f"/api/v1/challans/{case.pk}/approve/").status_code == 403


def test_case_detail_shows_evidence_candidates_and_history(api, reviewer):
    case = ChallanFactory()
    services.challan_approve(challan=case, actor=reviewer, reason="clear photo")
    body = api.as_(reviewer).get(f"/api/v1/challans/{case.pk}/").json()

    assert [e["event"] for e in body["evidence"]] == [case.event_id]
    assert body["history"][-1] | {"id": 0, "at": ""} == {
        "id": 0,
        "at": "",
        "transition": "approve",
        "from_state": "pending_review",
        "to_state": "approved",
        "actor": reviewer.username,
        "actor_role": "reviewer",
        "reason": "clear photo",
        "data": {"flags": []},
    }


def test_review_queue_filters_on_flags(api, reviewer):
    plain = ChallanFactory()
    flagged = ChallanFactory(state=S.NEEDS_PLATE_CHECK, flag_class_mismatch=True)
    ChallanFactory(state=S.APPROVED)

    everything = api.as_(reviewer).get("/api/v1/challans/review-queue/").json()["results"]
    only = api.as_(reviewer).get("/api/v1/challans/review-queue/?flag=class_mismatch").json()
    assert {c["id"] for c in everything} == {plain.pk, flagged.pk}
    assert [c["id"] for c in only["results"]] == [flagged.pk]
    assert only["results"][0]["flags"] == ["class_mismatch"]
    assert_error(api.get("/api/v1/challans/review-queue/?flag=nonsense"), 400, "flag")


def test_review_queue_query_count_does_not_grow_with_the_page(
    api, reviewer, django_assert_max_num_queries
):
    for _ in range(5):
        ChallanFactory()
    api.as_(reviewer)
    with django_assert_max_num_queries(6):
        api.get("/api/v1/challans/review-queue/")
    for _ in range(10):
        ChallanFactory()
    with django_assert_max_num_queries(6):
        api.get("/api/v1/challans/review-queue/")


@override_settings(ECHALLAN_FEED_LAG_SECONDS=0)
def test_status_feed_since_a_cursor(api, tracs, reviewer):
    a, b = ChallanFactory(), ChallanFactory()
    services.challan_approve(challan=a, actor=reviewer)
    services.challan_approve(challan=b, actor=reviewer)
    services.challan_issue(challan=a)

    api.as_(tracs)
    page = api.get("/api/v1/challans/feed/?limit=2").json()
    assert [(r["challan"], r["to_state"]) for r in page["results"]] == [
        (a.pk, "approved"),
        (b.pk, "approved"),
    ]
    assert page["has_more"] is True
    assert set(page["results"][0]) == {
        "id",
        "challan",
        "number",
        "plate_key",
        "transition",
        "from_state",
        "to_state",
        "actor_role",
        "at",
    }
    rest = api.get(f"/api/v1/challans/feed/?since={page['next_since']}").json()
    assert [(r["challan"], r["to_state"]) for r in rest["results"]] == [(a.pk, "issued")]
    assert rest["results"][0]["number"].startswith("KHI-")
    assert rest["has_more"] is False
    empty = api.get(f"/api/v1/challans/feed/?since={rest['next_since']}").json()
    assert empty == {"results": [], "next_since": rest["next_since"], "has_more": False}


def test_status_feed_holds_back_the_newest_rows(api, tracs, reviewer):
    services.challan_approve(challan=ChallanFactory(), actor=reviewer)
    with override_settings(ECHALLAN_FEED_LAG_SECONDS=60):
        assert api.as_(tracs).get("/api/v1/challans/feed/").json()["results"] == []


def test_status_feed_rejects_a_bad_cursor(api, tracs):
    assert_error(api.as_(tracs).get("/api/v1/challans/feed/?since=-1"), 400, "since")


def test_offence_schedule_at_a_time(api, outsider):
    response = api.as_(outsider).get("/api/v1/offences/")
    assert response.status_code == 200
    speeding = next(o for o in response.json() if o["code"] == "over_speeding")
    assert speeding["demerit_points"] == 8
    assert {f["vehicle_class"]: f["amount_rs"] for f in speeding["fines"]} == {
        "": 15000,
        "bus": 20000,
        "motorcycle": 5000,
        "trailer": 20000,
        "truck": 20000,
    }
    before = api.get("/api/v1/offences/?at=2020-01-01T00:00:00Z").json()
    assert all(o["fines"] == [] for o in before)
    assert_error(api.get("/api/v1/offences/?at=yesterday"), 400, "at")


# --- Actions.


def test_approve_over_the_api(api, reviewer):
    case = ChallanFactory()
    response = api.as_(reviewer).post(
        f"/api/v1/challans/{case.pk}/approve/", {"reason": "ok"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == "approved"
    assert ChallanEvent.objects.get(challan=case, transition="approve").reason == "ok"


def test_a_second_approval_is_a_409(api, reviewer):
    case = ChallanFactory()
    api.as_(reviewer).post(f"/api/v1/challans/{case.pk}/approve/")
    assert_error(api.post(f"/api/v1/challans/{case.pk}/approve/"), 409, "state")


def test_a_forbidden_role_gets_403_and_nothing_changes(api, appeals_officer, reviewer):
    case = ChallanFactory()
    assert_error(
        api.as_(appeals_officer).post(f"/api/v1/challans/{case.pk}/approve/"), 403, "actor"
    )
    case = ChallanFactory(state=S.ISSUED)
    assert_error(
        api.as_(reviewer).post(f"/api/v1/challans/{case.pk}/cancel/", {"reason": "x"}), 403, "actor"
    )
    case.refresh_from_db()
    assert case.state == S.ISSUED


def test_reject_without_reason_is_a_400(api, reviewer):
    case = ChallanFactory()
    assert_error(api.as_(reviewer).post(f"/api/v1/challans/{case.pk}/reject/", {}), 400, "reason")


def test_unknown_case_is_404(api, reviewer):
    assert api.as_(reviewer).post("/api/v1/challans/999999/approve/").status_code == 404


def test_confirm_plate_with_a_candidate_vehicle(api, reviewer):
    vehicle = VehicleFactory(plate="BKM-1234")
    case = ChallanFactory(
        state=S.NEEDS_PLATE_CHECK,
        vehicle=None,
        owner=None,
        ownership=None,
        vehicle_class="",
        plate_key="8KM1234",
        plate_display="8KM-1234",
        amount_rs=None,
    )
    api.as_(reviewer)
    assert_error(api.post(f"/api/v1/challans/{case.pk}/confirm-plate/", {}), 400, "plate_key")
    assert_error(
        api.post(f"/api/v1/challans/{case.pk}/confirm-plate/", {"vehicle": 0}), 400, "plate_key"
    )
    assert_error(
        api.post(f"/api/v1/challans/{case.pk}/confirm-plate/", {"plate_key": "ZZZ-999"}),
        422,
        "plate_key",
    )
    response = api.post(f"/api/v1/challans/{case.pk}/confirm-plate/", {"vehicle": vehicle.pk})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "pending_review"
    assert response.json()["plate"] == {
        "key": "BKM1234",
        "display": "BKM-1234",
        "source": "reviewer",
        "confidence": None,
    }


def test_appeal_flow_over_the_api(api, appeals_officer):
    case = ChallanFactory(state=S.SERVED)
    api.as_(appeals_officer)
    assert (
        api.post(f"/api/v1/challans/{case.pk}/contest/", {"reason": "not me"}).json()["state"]
        == "contested"
    )
    response = api.post(
        f"/api/v1/challans/{case.pk}/decide-contest/", {"upheld": False, "reason": "cloned"}
    )
    assert response.json()["state"] == "cancelled"


def test_supervisor_actions_over_the_api(api, supervisor):
    api.as_(supervisor)
    case = ChallanFactory(state=S.APPROVED)
    assert api.post(f"/api/v1/challans/{case.pk}/issue/").json()["number"].startswith("KHI-")
    assert (
        api.post(f"/api/v1/challans/{case.pk}/waive/", {"reason": "first"}).json()["state"]
        == "waived"
    )
    assert api.post(f"/api/v1/challans/{case.pk}/close/").json()["state"] == "closed"
    rejected = ChallanFactory(state=S.REJECTED)
    assert (
        api.post(f"/api/v1/challans/{rejected.pk}/reopen/", {"reason": "x"}).json()["state"]
        == "pending_review"
    )
    overdue = ChallanFactory(state=S.OVERDUE)
    assert (
        api.post(f"/api/v1/challans/{overdue.pk}/escalate/", {"reason": "x"}).json()["state"]
        == "escalated"
    )
