"""Reads for cases, the offence schedule and the TRACS status feed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from challan.models import Challan, ChallanEvent, Offence, OffenceFine


def offence_fine_at(*, offence: Offence, vehicle_class: str, at: datetime) -> OffenceFine | None:
    """The fine in force at `at` for the class; the offence's any-class fine when none is listed."""
    fines = (
        OffenceFine.objects.filter(offence=offence, effective_from__lte=at)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at))
        .filter(Q(vehicle_class=vehicle_class) | Q(vehicle_class=""))
        .order_by("-vehicle_class", "-effective_from")  # the class's own row before the "" row
    )
    return fines.first()


def offence_schedule(*, at: datetime | None = None) -> QuerySet[Offence]:
    """Active offences with the fines in force at `at` (now by default) prefetched as `fines_now`."""
    at = at or timezone.now()
    in_force = (
        OffenceFine.objects.filter(effective_from__lte=at)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at))
        .order_by("vehicle_class")
    )
    return Offence.objects.filter(active=True).prefetch_related(
        Prefetch("fines", queryset=in_force, to_attr="fines_now")
    )


def offence_codes_active() -> set[str]:
    """For ingest: offence codes a camera may send."""
    return set(Offence.objects.filter(active=True).values_list("code", flat=True))


def challan_list() -> QuerySet[Challan]:
    return Challan.objects.select_related("offence", "vehicle", "owner", "event__camera").order_by(
        "-captured_at", "-id"
    )


def challan_get(*, pk: int) -> Challan:
    return challan_list().get(pk=pk)


def challan_get_by_number(*, number: str) -> Challan:
    return challan_list().get(number=number)


def challans_for_plate(*, plate_key: str) -> QuerySet[Challan]:
    """Issued challans (numbered) of a plate: what TRACS and its clients may see."""
    return challan_list().filter(plate_key=plate_key, number__isnull=False)


def review_queue(*, flags: list[str] | None = None) -> QuerySet[Challan]:
    qs = challan_list().filter(state__in=["needs_plate_check", "pending_review"])
    for flag in flags or []:
        qs = qs.filter(**{f"flag_{flag}": True})
    return qs.order_by("captured_at", "id")


def challan_history(*, challan: Challan) -> QuerySet[ChallanEvent]:
    return ChallanEvent.objects.filter(challan=challan).select_related("actor").order_by("id")


def status_feed(*, since: int, limit: int) -> list[ChallanEvent]:
    """State changes with id > since, oldest first.

    Rows younger than ECHALLAN_FEED_LAG_SECONDS are held back: ids are handed out
    when a row is inserted, not when its transaction commits, so a reader that
    moved its cursor past a young id could skip an older id committed later.
    """
    lag = timedelta(seconds=float(getattr(settings, "ECHALLAN_FEED_LAG_SECONDS", 2)))
    return list(
        ChallanEvent.objects.filter(id__gt=since, at__lte=timezone.now() - lag)
        .exclude(from_state=F("to_state"))
        .select_related("challan")
        .order_by("id")[:limit]
    )
