"""Reads for camera events, with their related rows loaded in one go."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from anpr.models import ViolationEvent


def events_visible_to(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[ViolationEvent]:
    """Staff see every event; an ingest client sees the events of its own cameras."""
    events = ViolationEvent.objects.select_related("camera", "plate_read").prefetch_related(
        "images"
    )
    if getattr(user, "is_staff", False):
        return events
    client = getattr(user, "ingest_client", None)
    if client is None:
        return events.none()
    return events.filter(camera__in=client.cameras.all())


def event_case(*, event: ViolationEvent) -> dict[str, Any] | None:
    """The case this event belongs to (number, state, whether it joined as a duplicate)."""
    try:
        from challan.models import ChallanEvidence
    except ImportError:  # the case workflow is not installed
        return None
    link = (
        ChallanEvidence.objects.filter(event=event)
        .select_related("challan")
        .only("is_duplicate", "challan__number", "challan__state")
        .first()
    )
    if link is None:
        return None
    return {
        "number": link.challan.number,
        "state": link.challan.state,
        "duplicate": link.is_duplicate,
    }
