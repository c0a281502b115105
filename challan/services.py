"""Writes for cases: opening one from a camera event, and every state transition.

Each transition runs in one transaction: the case row is locked
(SELECT ... FOR UPDATE), the actor's role and the current state are checked,
fields are set, the state changes, and a `ChallanEvent` is appended. A caller
that lost a race sees the winner's state after the lock and gets `Conflict`
(HTTP 409); it never makes a second transition.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from anpr.models import ViolationEvent
from challan.models import (
    DUPLICATE_TARGET_STATES,
    Alert,
    AlertKind,
    Challan,
    ChallanEvent,
    ChallanEvidence,
    ChallanState,
    Offence,
    PlateSource,
)
from challan.numbers import challan_number_allocate
from challan.permissions import Actor, Role, actor_role, user_roles
from challan.selectors import offence_fine_at
from config.api import Conflict, Forbidden, Unprocessable
from vehicles.models import HotlistKind, Vehicle, VehicleStatus
from vehicles.selectors import (
    VehicleMatch,
    vehicle_exemption_at,
    vehicle_find,
    vehicle_hotlist_hits,
)

# Flags that a reviewer alone may not approve over: someone senior looks first.
SUPERVISOR_FLAGS = ("class_mismatch", "hotlist", "exempt", "sale_pending")

REASON_NO_OWNER = "no_owner_at_capture"


def _setting_int(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- Opening a case.


def _dedupe_lock(key: str) -> None:
    """Serialize case opening for one vehicle (or plate) and offence across workers.

    A transaction-scoped PostgreSQL advisory lock; SQLite already runs one writer at a time.
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


def _dedupe_key(
    offence: Offence, vehicle: Vehicle | None, plate_key: str | None, event_pk: int
) -> str:
    """What one case per offence is keyed on: the vehicle, else the plate, else the event."""
    if vehicle is not None:
        return f"challan-dedupe:{offence.code}:v{vehicle.pk}"
    if plate_key:
        return f"challan-dedupe:{offence.code}:p{plate_key}"
    return f"challan-dedupe:{offence.code}:e{event_pk}"


def _duplicate_of(
    *,
    offence: Offence,
    vehicle: Vehicle | None,
    plate_key: str | None,
    at: datetime,
    exclude: int | None = None,
) -> Challan | None:
    window = timedelta(minutes=_setting_int("ECHALLAN_DUPLICATE_WINDOW_MINUTES", 10))
    same: Q
    if vehicle is not None:
        same = Q(vehicle=vehicle)
    elif plate_key:
        same = Q(vehicle__isnull=True, plate_key=plate_key)
    else:
        return None
    return (
        Challan.objects.select_for_update()
        .filter(same, offence=offence, state__in=DUPLICATE_TARGET_STATES)
        .exclude(pk=exclude)
        .filter(captured_at__gte=at - window, captured_at__lte=at + window)
        .order_by("captured_at", "id")
        .first()
    )


def _mark_duplicate(challan: Challan, *, reason: str, data: dict[str, Any]) -> None:
    """Flag the surviving case and note in its trail which events joined it."""
    if not challan.flag_duplicate:
        Challan.objects.filter(pk=challan.pk).update(flag_duplicate=True, updated_at=timezone.now())
        challan.flag_duplicate = True
    ChallanEvent.objects.create(
        challan=challan,
        transition="attach_duplicate",
        from_state=challan.state,
        to_state=challan.state,
        actor=None,
        actor_role=Role.SYSTEM,
        reason=reason,
        data=data,
    )


def _hotlist_hit(
    *, vehicle: Vehicle | None, plate_key: str | None, at: datetime
) -> dict[str, Any] | None:
    """What the hotlist (or the registry's stolen status) says about this sighting, or None."""
    hits = (
        vehicle_hotlist_hits(vehicle=vehicle, plate_key=plate_key, at=at)
        if vehicle is not None or plate_key
        else []
    )
    stolen_in_registry = vehicle is not None and vehicle.status == VehicleStatus.STOLEN
    if not hits and not stolen_in_registry:
        return None
    return {
        "hotlist": [
            {"id": h.pk, "kind": h.kind, "source": h.source, "plate_key": h.plate_key} for h in hits
        ],
        "registry_status": vehicle.status if vehicle else None,
    }


def _alert_raise(
    *,
    event: ViolationEvent,
    challan: Challan,
    vehicle: Vehicle | None,
    plate_key: str | None,
    hit: dict[str, Any],
) -> None:
    """A command-centre alert per sighting (camera and time), so a stolen car can be followed."""
    Alert.objects.get_or_create(
        kind=AlertKind.HOTLIST,
        event=event,
        defaults={
            "challan": challan,
            "vehicle": vehicle,
            "plate_key": plate_key or (vehicle.plate_key if vehicle else ""),
            "captured_at": event.captured_at,
            "details": {"camera": event.camera.code, **hit},
        },
    )


def case_open(
    *,
    event: ViolationEvent,
    plate_key: str | None,
    plate_display: str | None,
    plate_source: str,
    plate_confidence: float | None,
    manual_check_reasons: list[str],
    observed_class: str | None = None,
    event_locked: bool = False,
) -> Challan:
    """The case for a camera event: matched to the registry at the time of capture, flagged.

    Idempotent: an event belongs to at most one case, and calling again returns it. An
    event of the same vehicle (or, unregistered, the same plate) and offence within
    ECHALLAN_DUPLICATE_WINDOW_MINUTES of an open case joins that case instead.
    `event_locked`: the caller's transaction already holds the event's row lock (and
    loaded its camera), so it is not read again.
    """
    with transaction.atomic():
        # The event row lock makes two deliveries of one event open one case.
        if not event_locked:
            event = (
                ViolationEvent.objects.select_for_update(of=("self",))
                .select_related("camera")
                .get(pk=event.pk)
            )
        existing = ChallanEvidence.objects.filter(event=event).select_related("challan").first()
        if existing is not None:
            return existing.challan

        offence = Offence.objects.filter(code=event.offence_code).first()
        if offence is None:
            raise Unprocessable(
                f"unknown offence code {event.offence_code!r}", field="offence_code"
            )
        at = event.captured_at
        reasons = list(dict.fromkeys(manual_check_reasons))

        match = vehicle_find(plate=plate_key, at=at) if plate_key else None
        vehicle = match.vehicle if match and match.status == "match" else None
        _dedupe_lock(_dedupe_key(offence, vehicle, plate_key, event.pk))

        duplicate_of = _duplicate_of(offence=offence, vehicle=vehicle, plate_key=plate_key, at=at)
        if duplicate_of is not None:
            ChallanEvidence.objects.create(challan=duplicate_of, event=event, is_duplicate=True)
            _mark_duplicate(
                duplicate_of,
                reason="same vehicle and offence within the duplicate window",
                data={
                    "events": [event.pk],
                    "camera": event.camera.code,
                    "captured_at": at.isoformat(),
                },
            )
            hit = _hotlist_hit(vehicle=vehicle, plate_key=plate_key, at=at)
            if hit is not None:
                _alert_raise(
                    event=event, challan=duplicate_of, vehicle=vehicle, plate_key=plate_key, hit=hit
                )
                Challan.objects.filter(pk=duplicate_of.pk).update(
                    flag_hotlist=True, updated_at=timezone.now()
                )
                duplicate_of.flag_hotlist = True
            return duplicate_of

        facts = _match_facts(
            match, offence=offence, at=at, observed_class=observed_class, reasons=reasons
        )
        hit = _hotlist_hit(vehicle=vehicle, plate_key=plate_key, at=at)
        needs_check = bool(reasons) or vehicle is None or facts["flag_class_mismatch"]
        initial = ChallanState.NEEDS_PLATE_CHECK if needs_check else ChallanState.PENDING_REVIEW
        challan = Challan(
            state=initial,  # the state field is protected: set once, at construction
            event=event,
            offence=offence,
            captured_at=at,
            plate_key=plate_key or "",
            plate_display=plate_display or "",
            plate_source=plate_source,
            plate_confidence=plate_confidence,
            observed_class=observed_class or "",
            points=offence.demerit_points,
            manual_check_reasons=reasons,
            flag_manual_check=bool(reasons),
            flag_hotlist=hit is not None,
            **facts,
        )
        challan.save()
        ChallanEvidence.objects.create(challan=challan, event=event)
        if hit is not None:
            _alert_raise(
                event=event, challan=challan, vehicle=vehicle, plate_key=plate_key, hit=hit
            )
        ChallanEvent.objects.create(
            challan=challan,
            transition="open",
            from_state="",
            to_state=initial,
            actor=None,
            actor_role=Role.SYSTEM,
            reason="opened from a camera event",
            data={
                "event": event.pk,
                "camera": event.camera.code,
                "match": match.status if match else "none",
                "flags": challan.flags,
                "manual_check_reasons": reasons,
            },
        )
    return challan


def _match_facts(
    match: VehicleMatch | None,
    *,
    offence: Offence,
    at: datetime,
    observed_class: str | None,
    reasons: list[str],
) -> dict[str, Any]:
    """Registry facts at capture time -> the case's vehicle, owner, fine and flags (field values)."""
    facts: dict[str, Any] = {
        "vehicle": None,
        "owner": None,
        "ownership": None,
        "vehicle_class": "",
        "candidates": [],
        "flag_no_match": False,
        "flag_candidates": False,
        "flag_class_mismatch": False,
        "flag_exempt": False,
        "flag_sale_pending": False,
        "offence_fine": None,
        "amount_rs": None,
    }
    if match is None or match.status == "none":
        facts["flag_no_match"] = True
        return facts
    if match.status == "candidates":
        facts["flag_candidates"] = True
        facts["candidates"] = [
            {
                "vehicle": c.vehicle.pk,
                "plate_key": c.plate_key,
                "registration": c.vehicle.registration,
                "vehicle_class": c.vehicle.vehicle_class,
                "colour": c.vehicle.colour,
                "substitutions": c.substitutions,
                "rank": c.rank,
            }
            for c in match.candidates
        ]
        return facts
    vehicle = match.vehicle
    assert vehicle is not None
    if match.owner is None and REASON_NO_OWNER not in reasons:
        reasons.append(REASON_NO_OWNER)
    fine = offence_fine_at(offence=offence, vehicle_class=vehicle.vehicle_class, at=at)
    facts.update(
        vehicle=vehicle,
        owner=match.owner,
        ownership=match.ownership,
        vehicle_class=vehicle.vehicle_class,
        flag_class_mismatch=bool(observed_class) and observed_class != vehicle.vehicle_class,
        flag_exempt=vehicle_exemption_at(vehicle=vehicle, at=at) is not None,
        flag_sale_pending=vehicle.status == VehicleStatus.SALE_PENDING,
        offence_fine=fine,
        amount_rs=fine.amount_rs if fine else None,
    )
    return facts


# --- Transitions.


def _transition_roles() -> dict[str, frozenset[str]]:
    field = Challan._meta.get_field("state")
    return {
        t.name: frozenset(getattr(t.permission, "roles", ()))
        for t in field.get_all_transitions(Challan)  # type: ignore[attr-defined]
    }


def _lock(challan: Challan) -> Challan:
    return (
        Challan.objects.select_for_update(of=("self",))
        .select_related("offence", "vehicle", "owner")
        .get(pk=challan.pk)
    )


def _check_role(name: str, actor: Actor) -> str:
    """The role the actor acts in for transition `name`; Forbidden when it has none of them."""
    allowed = _transition_roles()[name]
    if not user_roles(actor) & allowed:
        raise Forbidden(
            f"{name} needs one of the roles {', '.join(sorted(allowed))}", field="actor"
        )
    return actor_role(actor, allowed)


def _authorize(challan: Challan, name: str, actor: Actor) -> str:
    """Role first (403), then state (409), on the locked row."""
    role = _check_role(name, actor)
    if not can_proceed(getattr(challan, name)):
        raise Conflict(
            f"a case in state {challan.state} cannot {name.replace('_', ' ')}", field="state"
        )
    return role


def _record(
    challan: Challan,
    name: str,
    *,
    actor: Actor,
    role: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Challan:
    """Run the transition, save, and append the audit row (inside the caller's transaction)."""
    from_state = challan.state
    getattr(challan, name)(**kwargs)
    challan.save()
    ChallanEvent.objects.create(
        challan=challan,
        transition=name,
        from_state=from_state,
        to_state=challan.state,
        actor=actor if isinstance(actor, User) else None,
        actor_role=role,
        reason=reason,
        data=data or {},
    )
    return challan


def challan_confirm_plate(
    *,
    challan: Challan,
    actor: Actor,
    plate_key: str,
    vehicle: Vehicle | None = None,
    reason: str = "",
) -> Challan:
    """A reviewer read the plate in the photo: match it again at capture time, then review.

    When the vehicle turns out to have another open case for the same offence within the
    duplicate window (a misread first event, a correct second one), this case's evidence
    joins that case and this one is rejected as its duplicate: one offence, one challan.
    """
    _check_role("confirm_plate", actor)
    with transaction.atomic():
        current = Challan.objects.select_related("offence").get(pk=challan.pk)
        match = vehicle_find(
            plate=vehicle.plate_key if vehicle else plate_key, at=current.captured_at
        )
        if match.status != "match" or (vehicle is not None and match.vehicle != vehicle):
            raise Unprocessable(
                "the plate has no unique registry match; reject the case or pick a candidate",
                field="plate_key",
            )
        if match.owner is None:
            raise Unprocessable(
                "the vehicle had no registered owner at the time", field="plate_key"
            )
        found = match.vehicle
        assert found is not None
        # Same lock order as case_open: the vehicle's dedupe lock, then the case row.
        _dedupe_lock(_dedupe_key(current.offence, found, None, current.event_id))
        challan = _lock(challan)
        role = _authorize(challan, "confirm_plate", actor)
        reasons: list[str] = []
        facts = _match_facts(
            match,
            offence=challan.offence,
            at=challan.captured_at,
            observed_class=challan.observed_class,
            reasons=reasons,
        )
        for name, value in facts.items():
            setattr(challan, name, value)
        # The plate first read may have been another vehicle's: the hotlist is asked again.
        hit = _hotlist_hit(vehicle=found, plate_key=found.plate_key, at=challan.captured_at)
        challan.flag_hotlist = hit is not None
        if hit is not None:
            _alert_raise(
                event=challan.event,
                challan=challan,
                vehicle=found,
                plate_key=found.plate_key,
                hit=hit,
            )
        previous = {"plate_key": challan.plate_key, "source": challan.plate_source}
        challan.plate_key = found.plate_key
        challan.plate_display = found.registration
        challan.plate_source = PlateSource.REVIEWER
        challan.plate_confidence = None
        data: dict[str, Any] = {
            "previous": previous,
            "plate_key": challan.plate_key,
            "vehicle": found.pk,
        }

        survivor = _duplicate_of(
            offence=challan.offence,
            vehicle=found,
            plate_key=None,
            at=challan.captured_at,
            exclude=challan.pk,
        )
        if survivor is None:
            return _record(
                challan, "confirm_plate", actor=actor, role=role, reason=reason, data=data
            )
        evidence = ChallanEvidence.objects.filter(challan=challan)
        moved = list(evidence.values_list("event_id", flat=True))
        evidence.update(challan=survivor, is_duplicate=True)
        _mark_duplicate(survivor, reason=f"merged from case {challan.pk}", data={"events": moved})
        return _record(
            challan,
            "reject",
            actor=actor,
            role=_check_role("reject", actor),
            reason=f"duplicate of case {survivor.pk} (same vehicle and offence)",
            data={**data, "duplicate_of": survivor.pk, "events": moved},
        )


def challan_approve(*, challan: Challan, actor: Actor, reason: str = "") -> Challan:
    with transaction.atomic():
        challan = _lock(challan)
        role = _authorize(challan, "approve", actor)
        if challan.owner_id is None or challan.amount_rs is None:
            raise Conflict("the case has no owner or no fine yet", field="state")
        # Checked again now: a theft is often reported after the violation, dated before it.
        hit = _hotlist_hit(
            vehicle=challan.vehicle, plate_key=challan.plate_key, at=challan.captured_at
        )
        if hit and (
            hit["registry_status"] == VehicleStatus.STOLEN
            or any(h["kind"] == HotlistKind.STOLEN for h in hit["hotlist"])
        ):
            raise Conflict(
                "the vehicle was reported stolen at the time: the owner was not driving; "
                "reject the case and refer the sighting to the police",
                field="flags",
            )
        flagged = [f for f in SUPERVISOR_FLAGS if getattr(challan, f"flag_{f}")]
        if flagged and Role.SUPERVISOR not in user_roles(actor):
            raise Forbidden(
                f"a supervisor approves cases flagged {', '.join(flagged)}", field="flags"
            )
        return _record(
            challan, "approve", actor=actor, role=role, reason=reason, data={"flags": challan.flags}
        )


def _transition(
    challan: Challan, name: str, *, actor: Actor, reason: str, why: str | None = None
) -> Challan:
    """A transition that only changes the state: lock, authorize, audit. `why` makes a reason
    mandatory ("say why the <why>")."""
    if why is not None and not reason.strip():
        raise Unprocessable(f"say why the {why}", field="reason")
    with transaction.atomic():
        challan = _lock(challan)
        role = _authorize(challan, name, actor)
        return _record(challan, name, actor=actor, role=role, reason=reason)


def challan_reject(*, challan: Challan, actor: Actor, reason: str) -> Challan:
    return _transition(challan, "reject", actor=actor, reason=reason, why="case is rejected")


def challan_reopen(*, challan: Challan, actor: Actor, reason: str) -> Challan:
    return _transition(challan, "reopen", actor=actor, reason=reason, why="case is reopened")


def challan_issue(*, challan: Challan, actor: Actor = None, at: datetime | None = None) -> Challan:
    """Give the case its challan number; notices follow from the audit row."""
    at = at or timezone.now()
    with transaction.atomic():
        challan = _lock(challan)
        role = _authorize(challan, "issue", actor)
        challan.number = challan_number_allocate(at=at)
        challan.issued_at = at
        return _record(challan, "issue", actor=actor, role=role, data={"number": challan.number})


def challan_serve(
    *, challan: Challan, served_at: datetime, actor: Actor = None, channel: str = "post"
) -> Challan:
    """The notice reached the owner: the payment and discount clocks start now."""
    with transaction.atomic():
        challan = _lock(challan)
        role = _authorize(challan, "serve", actor)
        _start_clocks(challan, served_at)
        data = {
            "channel": channel,
            "served_at": served_at.isoformat(),
            "due_at": challan.due_at.isoformat() if challan.due_at else None,
        }
        return _record(challan, "serve", actor=actor, role=role, data=data)


def _start_clocks(challan: Challan, served_at: datetime) -> None:
    challan.served_at = served_at
    challan.discount_until = served_at + timedelta(days=_setting_int("ECHALLAN_DISCOUNT_DAYS", 14))
    challan.due_at = served_at + timedelta(days=_setting_int("ECHALLAN_PAYMENT_DAYS", 21))


def challan_pay(
    *, challan: Challan, amount_rs: int, paid_at: datetime, reference: str, actor: Actor = None
) -> Challan:
    """Minimal: record that it was paid. Amount rules (discount, doubling) belong to payments."""
    with transaction.atomic():
        challan = _lock(challan)
        role = _authorize(challan, "pay", actor)
        challan.paid_at = paid_at
        challan.paid_amount_rs = amount_rs
        data = {"amount_rs": amount_rs, "reference": reference, "paid_at": paid_at.isoformat()}
        return _record(challan, "pay", actor=actor, role=role, data=data)


def challan_contest(
    *, challan: Challan, actor: Actor, reason: str, at: datetime | None = None
) -> Challan:
    """The owner disputes the challan: clocks pause, nothing escalates until it is decided."""
    if not reason.strip():
        raise Unprocessable("give the grounds of the contest", field="reason")
    at = at or timezone.now()
    with transaction.atomic():
        challan = _lock(challan)
        role = _authorize(challan, "contest", actor)
        challan.contested_at = at
        data = {"contested_at": at.isoformat()}
        return _record(challan, "contest", actor=actor, role=role, reason=reason, data=data)


def challan_decide_contest(
    *, challan: Challan, actor: Actor, upheld: bool, reason: str, at: datetime | None = None
) -> Challan:
    """Upheld: back to served with the clocks moved by the time paused. Allowed: cancelled."""
    if not reason.strip():
        raise Unprocessable("give the reasons of the decision", field="reason")
    at = at or timezone.now()
    with transaction.atomic():
        challan = _lock(challan)
        role = _authorize(challan, "decide_contest", actor)
        if upheld:
            if challan.served_at is None:
                _start_clocks(challan, at)
            elif challan.contested_at is not None and challan.due_at and challan.discount_until:
                paused = at - challan.contested_at
                challan.due_at += paused
                challan.discount_until += paused
        challan.contested_at = None
        data = {"upheld": upheld, "decided_at": at.isoformat()}
        return _record(
            challan,
            "decide_contest",
            actor=actor,
            role=role,
            reason=reason,
            data=data,
            upheld=upheld,
        )


def challan_cancel(*, challan: Challan, actor: Actor, reason: str) -> Challan:
    return _transition(challan, "cancel", actor=actor, reason=reason, why="challan is cancelled")


def challan_mark_overdue(
    *, challan: Challan, at: datetime | None = None, actor: Actor = None
) -> Challan:
    at = at or timezone.now()
    with transaction.atomic():
        challan = _lock(challan)
        role = _authorize(challan, "mark_overdue", actor)
        if challan.due_at is None or at < challan.due_at:
            raise Conflict("the challan is not due yet", field="due_at")
        data = {"at": at.isoformat(), "due_at": challan.due_at.isoformat()}
        return _record(challan, "mark_overdue", actor=actor, role=role, data=data)


def challan_escalate(
    *, challan: Challan, actor: Actor = None, reason: str = "", at: datetime | None = None
) -> Challan:
    """Unpaid long after the due date: licence and CNIC blocks follow from the audit row."""
    return _transition(challan, "escalate", actor=actor, reason=reason)


def challan_waive(*, challan: Challan, actor: Actor, reason: str) -> Challan:
    return _transition(challan, "waive", actor=actor, reason=reason, why="challan is waived")


def challan_close(*, challan: Challan, actor: Actor = None, reason: str = "") -> Challan:
    return _transition(challan, "close", actor=actor, reason=reason)


def challans_mark_overdue(*, at: datetime | None = None) -> int:
    """The daily sweep: every served challan past its due date becomes overdue; how many did."""
    at = at or timezone.now()
    due = Challan.objects.filter(state=ChallanState.SERVED, due_at__lte=at).values_list(
        "pk", flat=True
    )
    done = 0
    for pk in list(due):
        try:
            challan_mark_overdue(challan=Challan(pk=pk), at=at)
        except Conflict:  # paid or contested meanwhile
            continue
        done += 1
    return done
