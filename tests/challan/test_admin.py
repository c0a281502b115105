"""Admin: the schedule is editable; cases and the audit trail are read-only."""

from __future__ import annotations

import pytest

from challan import services
from challan.models import ChallanEvent, Offence
from tests.challan.factories import ChallanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


def test_challan_and_audit_pages_render(staff, reviewer):
    case = ChallanFactory()
    services.challan_approve(challan=case, actor=reviewer)
    row = ChallanEvent.objects.get(challan=case)

    assert staff.get("/admin/challan/challan/").status_code == 200
    assert staff.get("/admin/challan/challan/?flag_hotlist__exact=1").status_code == 200
    page = staff.get(f"/admin/challan/challan/{case.pk}/change/")
    assert page.status_code == 200
    assert b"approve" in page.content
    assert staff.get(f"/admin/challan/challanevent/{row.pk}/change/").status_code == 200


def test_audit_rows_cannot_be_edited_or_deleted_in_the_admin(staff, reviewer):
    case = ChallanFactory()
    services.challan_approve(challan=case, actor=reviewer)
    row = ChallanEvent.objects.get(challan=case)

    staff.post(f"/admin/challan/challanevent/{row.pk}/change/", {"reason": "rewritten"})
    assert staff.get(f"/admin/challan/challanevent/{row.pk}/delete/").status_code == 403
    assert staff.get("/admin/challan/challanevent/add/").status_code == 403
    row.refresh_from_db()
    assert row.reason == ""


def test_the_schedule_is_editable(staff):
    offence = Offence.objects.get(code="no_helmet")
    assert staff.get(f"/admin/challan/offence/{offence.pk}/change/").status_code == 200
    assert staff.get("/admin/challan/offencefine/add/").status_code == 200
