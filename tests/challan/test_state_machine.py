"""Properties of the state machine over random sequences of requests by random roles."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from challan import services
from challan.models import Challan, ChallanEvent, ChallanState
from config.api import Conflict, Forbidden, Unprocessable
from tests.challan.factories import ChallanFactory

AT = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(days=60)

ACTIONS = {
    "approve": lambda c, a: services.challan_approve(challan=c, actor=a),
    "reject": lambda c, a: services.challan_reject(challan=c, actor=a, reason="r"),
    "reopen": lambda c, a: services.challan_reopen(challan=c, actor=a, reason="r"),
    "issue": lambda c, a: services.challan_issue(challan=c, actor=a, at=AT),
    "serve": lambda c, a: services.challan_serve(challan=c, actor=a, served_at=AT),
    "pay": lambda c, a: services.challan_pay(
        challan=c, actor=a, amount_rs=1, paid_at=AT, reference="r"
    ),
    "contest": lambda c, a: services.challan_contest(challan=c, actor=a, reason="r", at=AT),
    "decide_upheld": lambda c, a: services.challan_decide_contest(
        challan=c, actor=a, upheld=True, reason="r", at=AT
    ),
    "decide_allowed": lambda c, a: services.challan_decide_contest(
        challan=c, actor=a, upheld=False, reason="r", at=AT
    ),
    "cancel": lambda c, a: services.challan_cancel(challan=c, actor=a, reason="r"),
    "overdue": lambda c, a: services.challan_mark_overdue(challan=c, actor=a, at=LATER),
    "escalate": lambda c, a: services.challan_escalate(challan=c, actor=a),
    "waive": lambda c, a: services.challan_waive(challan=c, actor=a, reason="r"),
    "close": lambda c, a: services.challan_close(challan=c, actor=a),
}
ACTORS = ["system", "reviewer", "supervisor", "appeals_officer", "outsider"]


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(ACTIONS)), st.sampled_from(ACTORS)), max_size=15
    )
)
def test_any_sequence_leaves_a_gapless_trail_matching_the_state(
    steps, reviewer, supervisor, appeals_officer, outsider
):
    people = {
        "system": None,
        "reviewer": reviewer,
        "supervisor": supervisor,
        "appeals_officer": appeals_officer,
        "outsider": outsider,
    }
    case = ChallanFactory()
    succeeded = 0
    for action, who in steps:
        before = Challan.objects.get(pk=case.pk).state
        try:
            ACTIONS[action](case, people[who])
        except (Conflict, Forbidden, Unprocessable):
            assert Challan.objects.get(pk=case.pk).state == before  # a refusal changes nothing
        else:
            succeeded += 1

    trail = list(ChallanEvent.objects.filter(challan=case).order_by("id"))
    assert len(trail) == succeeded
    state = ChallanState.PENDING_REVIEW
    for row in trail:
        assert row.from_state == state
        assert row.actor_role != "" and (row.actor_role == "system") == (row.actor is None)
        state = row.to_state
    assert Challan.objects.get(pk=case.pk).state == state
    if Challan.objects.get(pk=case.pk).number is None:
        assert not any(r.transition == "issue" for r in trail)
