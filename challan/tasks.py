"""Periodic work for cases: thin tasks that call services (scheduled in config/celery.py)."""

from __future__ import annotations

from celery import shared_task

from challan.services import challans_mark_overdue as _challans_mark_overdue


@shared_task(name="challan.tasks.challans_mark_overdue", acks_late=True, time_limit=600)
def challans_mark_overdue() -> int:
    """Served challans past their due date become overdue; safe to run any number of times."""
    return _challans_mark_overdue()
