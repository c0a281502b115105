"""ANPR worker tasks (queue `anpr`): take ids, load, call the service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from anpr import services

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
    """Read one event's plate (and a batch of waiting ones) and open the cases.

    A second run changes nothing. Under a backlog the events taken along are already
    done when their own tasks arrive, which then cost one short transaction. If a task
    fails midway, the events it took along are taken over once their claim is stale.
    """
    statuses = services.events_read_plates(
        event_ids=[event_id], take_waiting=max(settings.ANPR_BATCH_SIZE - 1, 0)
    )
    if event_id not in statuses:
        logger.warning("event_read_plate: event %s does not exist", event_id)
        return "missing"
    return statuses[event_id]


@shared_task(name="anpr.tasks.events_stuck_redispatch", time_limit=60)
def events_stuck_redispatch() -> int:
    """Periodic: events a lost message or a dead worker left unread are queued again."""
    stuck = services.events_stuck(older_than=timedelta(seconds=settings.ANPR_STUCK_AFTER_SECONDS))
    for event_id in stuck:
        event_read_plate.delay(event_id)
    if stuck:
        logger.warning("re-dispatched %d unread events", len(stuck))
    return len(stuck)


@shared_task(name="anpr.tasks.idempotency_records_purge", time_limit=300)
def idempotency_records_purge() -> int:
    """Periodic: Idempotency-Keys are honoured for INGEST_IDEMPOTENCY_RETENTION_HOURS (24)."""
    hours = settings.INGEST_IDEMPOTENCY_RETENTION_HOURS
    return services.idempotency_records_purge(older_than=timedelta(hours=hours))
