"""A simulated review desk that decides from what an officer can see.

The officer sees the case (plate, registry match, flags) and the photo. The photo's
truth (the plate really on the vehicle, the kind of vehicle) comes from the city's
ground truth; who is liable does not: the reviewer never peeks at the answer.

Policies:
- "careful": read the plate in the photo, compare plate and vehicle class with the
  registry, reject flagged cases (stolen, exempt, sale pending) and approve the rest.
- "rubber_stamp": approve whatever the system lets through, without looking at the
  photo. Auditing it shows what the system's own flags and locks prevent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, User

from challan.models import Challan, ChallanState
from challan.services import (
    challan_approve,
    challan_confirm_plate,
    challan_issue,
    challan_reject,
)
from challan.simulation.city import City, TruthEvent
from config.api import ApplicationError

POLICIES = ("careful", "rubber_stamp")
REVIEW_STATES = (ChallanState.NEEDS_PLATE_CHECK, ChallanState.PENDING_REVIEW)


@dataclass
class ReviewStats:
    approved: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    plates_confirmed: int = 0
    issued: int = 0
    left_in_queue: int = 0


def desk_users() -> tuple[User, User]:
    """A reviewer and a supervisor for the simulated desk."""
    users = []
    for name, role in (("sim-reviewer", "reviewer"), ("sim-supervisor", "supervisor")):
        user, _ = User.objects.get_or_create(username=name, defaults={"is_active": True})
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
        users.append(user)
    return users[0], users[1]


def _reject(challan: Challan, actor: User, reason: str, stats: ReviewStats) -> None:
    challan_reject(challan=challan, actor=actor, reason=reason)
    stats.rejected[reason] += 1


def _careful(
    challan: Challan, truth: TruthEvent, reviewer: User, supervisor: User, stats: ReviewStats
) -> None:
    if challan.state == ChallanState.NEEDS_PLATE_CHECK:
        if challan.plate_key != truth.shown_key or challan.vehicle_id is None:
            try:
                challan = challan_confirm_plate(
                    challan=challan,
                    actor=reviewer,
                    plate_key=truth.shown_key,
                    reason="read from the photo",
                )
            except ApplicationError:
                _reject(challan, reviewer, "plate in the photo has no registered owner", stats)
                return
        else:
            challan = challan_confirm_plate(
                challan=challan,
                actor=reviewer,
                plate_key=challan.plate_key,
                reason="photo matches the reading",
            )
        stats.plates_confirmed += 1
        if challan.state != ChallanState.PENDING_REVIEW:
            stats.rejected["merged into the vehicle's open case for this offence"] += 1
            return
    if challan.plate_key != truth.shown_key:
        _reject(challan, reviewer, "photo shows another plate", stats)
    elif challan.vehicle_class and challan.vehicle_class != truth.observed_class:
        _reject(challan, reviewer, "vehicle in the photo is not the registered one (clone?)", stats)
    elif challan.flag_hotlist:
        _reject(challan, supervisor, "stolen or wanted vehicle: referred to police", stats)
    elif challan.flag_exempt:
        _reject(challan, supervisor, "exempt vehicle on duty", stats)
    elif challan.flag_sale_pending:
        _reject(challan, supervisor, "sale pending: plate in inquiry mode", stats)
    else:
        try:
            challan_approve(challan=challan, actor=reviewer, reason="photo and registry agree")
        except ApplicationError as exc:  # the system refused: the officer records why
            _reject(challan, supervisor, f"system refused: {exc.message}", stats)
            return
        stats.approved += 1


def _rubber_stamp(
    challan: Challan, truth: TruthEvent, reviewer: User, supervisor: User, stats: ReviewStats
) -> None:
    try:
        if challan.state == ChallanState.NEEDS_PLATE_CHECK:
            challan = challan_confirm_plate(
                challan=challan, actor=supervisor, plate_key=challan.plate_key, reason="ok"
            )
            stats.plates_confirmed += 1
            if challan.state != ChallanState.PENDING_REVIEW:
                return
        challan_approve(challan=challan, actor=supervisor, reason="ok")
        stats.approved += 1
    except ApplicationError as exc:
        _reject(challan, supervisor, f"system refused: {exc.message}", stats)


def review_queue(
    city: City, *, policy: str = "careful", progress: Callable[[int], None] | None = None
) -> ReviewStats:
    """Decide every case of this city waiting for review, then issue the approved ones."""
    if policy not in POLICIES:
        raise ValueError(f"unknown review policy {policy!r}: choose from {', '.join(POLICIES)}")
    decide = _careful if policy == "careful" else _rubber_stamp
    reviewer, supervisor = desk_users()
    truths = city.by_event_id()
    stats = ReviewStats()
    cases = (
        Challan.objects.filter(
            state__in=REVIEW_STATES,
            event__camera_event_id__startswith=city.event_prefix,
        )
        .select_related("event__camera")
        .order_by("pk")
    )
    for challan in cases:
        truth = truths[(challan.event.camera.code, challan.event.camera_event_id)]
        decide(challan, truth, reviewer, supervisor, stats)
        if progress:
            progress(1)
    for challan in Challan.objects.filter(
        state=ChallanState.APPROVED,
        event__camera_event_id__startswith=city.event_prefix,
    ).order_by("pk"):
        challan_issue(challan=challan, actor=None)
        stats.issued += 1
    stats.left_in_queue = Challan.objects.filter(
        state__in=REVIEW_STATES,
        event__camera_event_id__startswith=city.event_prefix,
    ).count()
    return stats
