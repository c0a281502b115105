"""The Celery application and its one periodic schedule."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("echallan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work is declared here and nowhere else; apps add entries as they need them.
app.conf.beat_schedule = {
    "idempotency-records-purge": {
        "task": "anpr.tasks.idempotency_records_purge",
        "schedule": 3600.0,
    },
    "events-stuck-redispatch": {
        "task": "anpr.tasks.events_stuck_redispatch",
        "schedule": 60.0,
    },
    "challans-mark-overdue": {
        "task": "challan.tasks.challans_mark_overdue",
        "schedule": 3600.0,
    },
}


@app.task(name="config.worker_ping")
def worker_ping() -> dict[str, str]:
    """Answer from inside a worker: proves the broker, the worker and its database link."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"pong": "ok", "database": connection.vendor, "pid": str(os.getpid())}
