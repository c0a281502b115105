"""Every transition: its effect, its audit row, who may ask for it, and what a wrong state gets."""

from __future__ import annotations

import datetime as dt

import pytest

from challan import services
from challan.models import Challan, ChallanEvent, ChallanState
from challan.numbers import challan_number_valid
from config.api import Conflict, Forbidden, Unprocessable
from tests.challan.factories import CAPTURED, ChallanFactory
from tests.vehicles.factories import VehicleFactory

pytestmark = pytest.mark.django_db
S = ChallanState
SERVED = dt.datetime(2026, 3, 5, 10, 0, tzinfo=dt.UTC)


def last_event(case: Challan) -> ChallanEvent:
    return ChallanEvent.objects.filter(challan=case).latest("id")


def assert_audited(case, *, transition, from_state, to_state, actor, role):
    row = last_event(case)
    assert (row.transition, row.from_state, row.to_state) == (transition, from_state, to_state)
    assert row.actor == actor
    assert row.actor_role == role
    case.refresh_from_db()
    assert case.state == to_state


def test_confirm_plate_rematches_at_capture_time_and_moves_to_review(reviewer):
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
        flag_candidates=True,
    )
    services.challan_confirm_plate(
        challan=case, actor=reviewer, plate_key="BKM-1234", reason="photo"
    )

    assert_audited(
        case,
        transition="confirm_plate",
        from_state=S.NEEDS_PLATE_CHECK,
        to_state=S.PENDING_REVIEW,
        actor=reviewer,
        role="reviewer",
    )
    assert (case.vehicle, case.plate_key, case.plate_source) == (vehicle, "BKM1234", "reviewer")
    assert case.owner == vehicle.ownerships.get().owner
    assert case.amount_rs == 15000
    assert last_event(case).data["previous"] == {"plate_key": "8KM1234", "source": "anpr"}


def test_confirm_plate_with_no_registry_match_is_refused(reviewer):
    case = ChallanFactory(state=S.NEEDS_PLATE_CHECK)
    with pytest.raises(Unprocessable) as err:
        services.challan_confirm_plate(challan=case, actor=reviewer, plate_key="ZZZ-999")
    assert err.value.field == "plate_key"


def test_approve_by_a_reviewer(reviewer):
    case = ChallanFactory()
    services.challan_approve(challan=case, actor=reviewer)
    assert_audited(
        case,
        transition="approve",
        from_state=S.PENDING_REVIEW,
        to_state=S.APPROVED,
        actor=reviewer,
        role="reviewer",
    )


@pytest.mark.parametrize("flag", ["class_mismatch", "hotlist", "exempt", "sale_pending"])
def test_serious_flags_need_a_supervisor_to_approve(flag, reviewer, supervisor):
    case = ChallanFactory(**{f"flag_{flag}": True})
    with pytest.raises(Forbidden):
        services.challan_approve(challan=case, actor=reviewer)
    services.challan_approve(challan=case, actor=supervisor)
    assert_audited(
        case,
        transition="approve",
        from_state=S.PENDING_REVIEW,
        to_state=S.APPROVED,
        actor=supervisor,
        role="supervisor",
    )


def test_a_case_without_fine_or_owner_cannot_be_approved(reviewer):
    case = ChallanFactory(amount_rs=None)
    with pytest.raises(Conflict):
        services.challan_approve(challan=case, actor=reviewer)


def test_reject_needs_a_reason_and_reopen_needs_a_supervisor(reviewer, supervisor):
    case = ChallanFactory(state=S.NEEDS_PLATE_CHECK)
    with pytest.raises(Unprocessable):
        services.challan_reject(challan=case, actor=reviewer, reason=" ")
    services.challan_reject(challan=case, actor=reviewer, reason="plate unreadable")
    assert_audited(
        case,
        transition="reject",
        from_state=S.NEEDS_PLATE_CHECK,
        to_state=S.REJECTED,
        actor=reviewer,
        role="reviewer",
    )
    assert last_event(case).reason == "plate unreadable"

    with pytest.raises(Forbidden):
        services.challan_reopen(challan=case, actor=reviewer, reason="second look")
    services.challan_reopen(challan=case, actor=supervisor, reason="second look")
    assert_audited(
        case,
        transition="reopen",
        from_state=S.REJECTED,
        to_state=S.PENDING_REVIEW,
        actor=supervisor,
        role="supervisor",
    )


def test_issue_allocates_a_valid_number_as_the_system():
    case = ChallanFactory(state=S.APPROVED)
    at = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)
    services.challan_issue(challan=case, at=at)

    assert_audited(
        case,
        transition="issue",
        from_state=S.APPROVED,
        to_state=S.ISSUED,
        actor=None,
        role="system",
    )
    assert case.number == "KHI-2026-0000001-" + case.number[-1]
    assert challan_number_valid(case.number)
    assert case.issued_at == at
    assert last_event(case).data == {"number": case.number}


def test_a_reviewer_may_not_issue(reviewer):
    case = ChallanFactory(state=S.APPROVED)
    with pytest.raises(Forbidden):
        services.challan_issue(challan=case, actor=reviewer)
    assert not ChallanEvent.objects.filter(challan=case).exists()


def test_serve_starts_the_clocks():
    case = ChallanFactory(state=S.ISSUED, number="KHI-2026-0000001-6")
    services.challan_serve(challan=case, served_at=SERVED)

    assert_audited(
        case, transition="serve", from_state=S.ISSUED, to_state=S.SERVED, actor=None, role="system"
    )
    assert case.served_at == SERVED
    assert case.discount_until == SERVED + dt.timedelta(days=14)
    assert case.due_at == SERVED + dt.timedelta(days=21)


def test_pay_records_amount_and_reference():
    case = ChallanFactory(state=S.SERVED)
    services.challan_pay(challan=case, amount_rs=7500, paid_at=SERVED, reference="PSID-1")
    assert_audited(
        case, transition="pay", from_state=S.SERVED, to_state=S.PAID, actor=None, role="system"
    )
    assert (case.paid_amount_rs, case.paid_at) == (7500, SERVED)
    assert last_event(case).data == {
        "amount_rs": 7500,
        "reference": "PSID-1",
        "paid_at": SERVED.isoformat(),
    }

    services.challan_close(challan=case)
    assert_audited(
        case, transition="close", from_state=S.PAID, to_state=S.CLOSED, actor=None, role="system"
    )


def test_people_may_not_record_payments(supervisor):
    case = ChallanFactory(state=S.SERVED)
    with pytest.raises(Forbidden):
        services.challan_pay(
            challan=case, amount_rs=1, paid_at=SERVED, reference="x", actor=supervisor
        )


def test_upheld_contest_resumes_served_with_clocks_moved_by_the_pause(appeals_officer):
    case = ChallanFactory(state=S.ISSUED)
    services.challan_serve(challan=case, served_at=SERVED)
    contested = SERVED + dt.timedelta(days=3)
    services.challan_contest(
        challan=case, actor=appeals_officer, reason="I was in Lahore", at=contested
    )
    assert_audited(
        case,
        transition="contest",
        from_state=S.SERVED,
        to_state=S.CONTESTED,
        actor=appeals_officer,
        role="appeals_officer",
    )

    decided = contested + dt.timedelta(days=10)
    services.challan_decide_contest(
        challan=case, actor=appeals_officer, upheld=True, reason="photo is clear", at=decided
    )
    assert_audited(
        case,
        transition="decide_contest",
        from_state=S.CONTESTED,
        to_state=S.SERVED,
        actor=appeals_officer,
        role="appeals_officer",
    )
    assert case.due_at == SERVED + dt.timedelta(days=21 + 10)
    assert case.discount_until == SERVED + dt.timedelta(days=14 + 10)
    assert case.contested_at is None


def test_allowed_contest_cancels_and_can_be_closed(appeals_officer, reviewer):
    case = ChallanFactory(state=S.SERVED)
    services.challan_contest(challan=case, actor=None, reason="filed on the portal")
    with pytest.raises(Forbidden):
        services.challan_decide_contest(challan=case, actor=reviewer, upheld=False, reason="x")
    services.challan_decide_contest(
        challan=case, actor=appeals_officer, upheld=False, reason="cloned plate"
    )
    assert_audited(
        case,
        transition="decide_contest",
        from_state=S.CONTESTED,
        to_state=S.CANCELLED,
        actor=appeals_officer,
        role="appeals_officer",
    )
    assert last_event(case).data["upheld"] is False
    assert services.challan_close(challan=case).state == S.CLOSED


def test_cancel_by_a_supervisor_only(reviewer, supervisor):
    case = ChallanFactory(state=S.ISSUED)
    with pytest.raises(Forbidden):
        services.challan_cancel(challan=case, actor=reviewer, reason="duplicate")
    services.challan_cancel(challan=case, actor=supervisor, reason="duplicate")
    assert_audited(
        case,
        transition="cancel",
        from_state=S.ISSUED,
        to_state=S.CANCELLED,
        actor=supervisor,
        role="supervisor",
    )


def test_overdue_only_after_the_due_date_then_escalate():
    case = ChallanFactory(state=S.ISSUED)
    services.challan_serve(challan=case, served_at=SERVED)
    with pytest.raises(Conflict):
        services.challan_mark_overdue(challan=case, at=SERVED + dt.timedelta(days=20))
    services.challan_mark_overdue(challan=case, at=SERVED + dt.timedelta(days=22))
    assert_audited(
        case,
        transition="mark_overdue",
        from_state=S.SERVED,
        to_state=S.OVERDUE,
        actor=None,
        role="system",
    )
    services.challan_escalate(challan=case, reason="unpaid 3 months")
    assert_audited(
        case,
        transition="escalate",
        from_state=S.OVERDUE,
        to_state=S.ESCALATED,
        actor=None,
        role="system",
    )


def test_waive_by_a_supervisor(supervisor, appeals_officer):
    case = ChallanFactory(state=S.SERVED)
    with pytest.raises(Forbidden):
        services.challan_waive(challan=case, actor=appeals_officer, reason="first challan")
    services.challan_waive(
        challan=case, actor=supervisor, reason="first challan, applied in 10 days"
    )
    assert_audited(
        case,
        transition="waive",
        from_state=S.SERVED,
        to_state=S.WAIVED,
        actor=supervisor,
        role="supervisor",
    )


def test_a_wrong_state_is_a_conflict_and_writes_nothing(reviewer):
    case = ChallanFactory(state=S.ISSUED)
    with pytest.raises(Conflict) as err:
        services.challan_approve(challan=case, actor=reviewer)
    assert err.value.field == "state"
    assert not ChallanEvent.objects.filter(challan=case).exists()


def test_a_stale_instance_cannot_transition_twice(reviewer):
    case = ChallanFactory()
    stale = Challan.objects.get(pk=case.pk)
    services.challan_approve(challan=case, actor=reviewer)
    with pytest.raises(Conflict):
        services.challan_approve(challan=stale, actor=reviewer)
    assert ChallanEvent.objects.filter(challan=case, transition="approve").count() == 1


def test_outsiders_and_inactive_users_have_no_role(outsider, reviewer):
    case = ChallanFactory()
    with pytest.raises(Forbidden):
        services.challan_approve(challan=case, actor=outsider)
    reviewer.is_active = False
    reviewer.save()
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)
    with pytest.raises(Forbidden):
        services.challan_approve(challan=case, actor=reviewer)


def test_the_state_cannot_be_assigned_directly():
    case = ChallanFactory()
    with pytest.raises(AttributeError):
        case.state = S.PAID


def test_audit_rows_cannot_be_changed_or_deleted(reviewer):
    case = ChallanFactory()
    services.challan_approve(challan=case, actor=reviewer)
    row = last_event(case)
    row.reason = "rewritten"
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        ChallanEvent.objects.filter(pk=row.pk).update(reason="x")
    with pytest.raises(TypeError):
        ChallanEvent.objects.filter(pk=row.pk).delete()


@pytest.mark.postgres
def test_postgres_refuses_raw_updates_of_the_audit_trail(reviewer):
    from django.db import DatabaseError, connection, transaction

    case = ChallanFactory()
    services.challan_approve(challan=case, actor=reviewer)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE challan_challanevent SET reason = 'x'")


def test_full_happy_path_leaves_a_complete_trail(reviewer):
    case = ChallanFactory(state=S.NEEDS_PLATE_CHECK)
    services.challan_confirm_plate(challan=case, actor=reviewer, plate_key=case.plate_key)
    services.challan_approve(challan=case, actor=reviewer)
    services.challan_issue(challan=case, at=CAPTURED)
    services.challan_serve(challan=case, served_at=SERVED)
    services.challan_pay(challan=case, amount_rs=7500, paid_at=SERVED, reference="r")
    services.challan_close(challan=case)
    trail = list(ChallanEvent.objects.filter(challan=case).values_list("from_state", "to_state"))
    assert trail == [
        (S.NEEDS_PLATE_CHECK, S.PENDING_REVIEW),
        (S.PENDING_REVIEW, S.APPROVED),
        (S.APPROVED, S.ISSUED),
        (S.ISSUED, S.SERVED),
        (S.SERVED, S.PAID),
        (S.PAID, S.CLOSED),
    ]


def test_the_overdue_sweep_marks_only_past_due_served_challans():
    due = ChallanFactory(state=S.ISSUED)
    services.challan_serve(challan=due, served_at=SERVED)
    not_yet = ChallanFactory(state=S.ISSUED)
    services.challan_serve(challan=not_yet, served_at=SERVED + dt.timedelta(days=5))
    ChallanFactory(state=S.PAID)

    at = SERVED + dt.timedelta(days=22)
    assert services.challans_mark_overdue(at=at) == 1
    assert services.challans_mark_overdue(at=at) == 0
    assert Challan.objects.get(pk=due.pk).state == S.OVERDUE
    assert Challan.objects.get(pk=not_yet.pk).state == S.SERVED


def test_confirming_a_misread_case_onto_a_vehicle_with_an_open_case_merges_them(reviewer):
    from challan.models import ChallanEvidence
    from tests.challan.factories import ViolationEventFactory

    vehicle = VehicleFactory(plate="BKM-1234")
    survivor = ChallanFactory(vehicle_obj=vehicle)
    misread = ChallanFactory(
        state=S.NEEDS_PLATE_CHECK,
        event=ViolationEventFactory(captured_at=CAPTURED + dt.timedelta(minutes=3)),
        vehicle=None,
        owner=None,
        ownership=None,
        vehicle_class="",
        plate_key="8KM1234",
        plate_display="8KM-1234",
        amount_rs=None,
    )

    result = services.challan_confirm_plate(challan=misread, actor=reviewer, plate_key="BKM1234")

    assert result.state == S.REJECTED
    assert last_event(result).data["duplicate_of"] == survivor.pk
    survivor.refresh_from_db()
    assert survivor.flag_duplicate
    assert set(
        ChallanEvidence.objects.filter(challan=survivor).values_list("event_id", flat=True)
    ) == {
        survivor.event_id,
        misread.event_id,
    }


def test_confirm_plate_checks_the_role_before_the_plate(outsider):
    case = ChallanFactory(state=S.NEEDS_PLATE_CHECK)
    with pytest.raises(Forbidden):
        services.challan_confirm_plate(challan=case, actor=outsider, plate_key="nonsense")


def test_a_vehicle_stolen_at_the_time_is_never_approved(supervisor):
    from tests.vehicles.factories import HotlistFactory

    stolen = HotlistFactory(kind="stolen").vehicle
    case = ChallanFactory(vehicle_obj=stolen, flag_hotlist=True)
    with pytest.raises(Conflict) as err:
        services.challan_approve(challan=case, actor=supervisor)
    assert err.value.field == "flags"


def test_a_theft_reported_after_the_violation_still_blocks_approval(supervisor):
    from tests.vehicles.factories import HotlistFactory

    case = ChallanFactory()
    HotlistFactory(vehicle=case.vehicle, kind="stolen", since=CAPTURED - dt.timedelta(hours=2))
    with pytest.raises(Conflict):
        services.challan_approve(challan=case, actor=supervisor)


def test_a_wanted_vehicle_can_be_approved_by_a_supervisor(supervisor):
    from tests.vehicles.factories import HotlistFactory

    wanted = HotlistFactory(kind="wanted").vehicle
    case = ChallanFactory(vehicle_obj=wanted, flag_hotlist=True)
    assert services.challan_approve(challan=case, actor=supervisor).state == S.APPROVED


def test_confirming_a_misread_plate_onto_a_stolen_vehicle_flags_it_and_alerts(reviewer):
    from challan.models import Alert
    from vehicles.models import Hotlist, HotlistKind

    stolen = VehicleFactory(plate="BKM-1234")
    Hotlist.objects.create(
        vehicle=stolen,
        plate_key=stolen.plate_key,
        kind=HotlistKind.STOLEN,
        source="CPLC",
        since=CAPTURED - dt.timedelta(days=3),
    )
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

    case = services.challan_confirm_plate(challan=case, actor=reviewer, plate_key="BKM-1234")

    assert case.flag_hotlist is True
    assert Alert.objects.filter(event=case.event).count() == 1
    with pytest.raises(Conflict, match="stolen"):  # never approved, whoever asks
        services.challan_approve(challan=case, actor=reviewer)
