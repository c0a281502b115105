"""ANPR worker tasks (queue `anpr`): take ids, load, call the service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from anpr import services
from anpr.models import ViolationEvent

logger = logging.getLogger(__name__)


@shared_task(
    name="anpr.tasks.event_read_plate",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def event_read_plate(event_id: int) -> str:
    """Read one event's plate and hand it to case opening; a second run changes nothing."""
    event = ViolationEvent.objects.filter(pk=event_id).first()
    if event is None:
        logger.warning("event_read_plate: event %s does not exist", event_id)
        return "missing"
    services.event_read_plate(event=event)
    event.refresh_from_db(fields=["status"])
    return event.status


@shared_task(name="anpr.tasks.idempotency_records_purge", time_limit=300)
def idempotency_records_purge() -> int:
    """Periodic: Idempotency-Keys are honoured for INGEST_IDEMPOTENCY_RETENTION_HOURS (24)."""
    from datetime import timedelta

    from django.conf import settings

    hours = getattr(settings, "INGEST_IDEMPOTENCY_RETENTION_HOURS", 24)
    return services.idempotency_records_purge(older_than=timedelta(hours=hours))
