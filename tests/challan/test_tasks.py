import datetime as dt

import pytest

from challan.models import ChallanState
from challan.tasks import challans_mark_overdue
from config.celery import app
from tests.challan.factories import ChallanFactory

pytestmark = pytest.mark.django_db


def test_the_overdue_sweep_task_marks_only_served_challans_past_due():
    past = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    overdue = ChallanFactory(state=ChallanState.SERVED, due_at=past)
    not_due = ChallanFactory(
        state=ChallanState.SERVED, due_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
    )

    assert challans_mark_overdue.delay().get() == 1
    assert challans_mark_overdue.delay().get() == 0  # idempotent

    overdue.refresh_from_db()
    not_due.refresh_from_db()
    assert (overdue.state, not_due.state) == (ChallanState.OVERDUE, ChallanState.SERVED)


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
