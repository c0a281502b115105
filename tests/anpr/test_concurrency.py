"""Concurrency on PostgreSQL, in real threads: duplicates become one event and one case."""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from anpr import services
from anpr.models import EvidenceImage, IdempotencyRecord, ViolationEvent
from challan.models import Challan, ChallanEvidence
from config.api import Conflict
from tests.anpr.conftest import jpeg

EVENTS = 1000
THREADS = 4
T0 = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def _run_in_threads(jobs, work):
    """Run `work(job)` for every job on THREADS threads, each with its own DB connection."""
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    results: list = []
    errors: list = []

    def worker():
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results.append((job, work(job)))
                except Exception as exc:  # collected and asserted on below
                    errors.append((job, exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_1000_events_each_posted_3_times_two_copies_concurrently(tracs, settings):
    client, _ = tracs
    # No plate model: each case opens on the camera's plate (distinct per event, so no two
    # events are merged as duplicates of one offence).
    settings.ANPR_READER = "tests.anpr.conftest.BrokenReader"
    image = services.ImageUpload(name="scene", kind="scene", data=jpeg(16, 16))

    def post(job):
        index, _copy = job
        data = services.ViolationInput(
            camera="KHI-SOU-002",
            camera_event_id=f"ev-{index:05d}",
            captured_at=T0 + timedelta(seconds=index),
            offence_code="over_speeding",
            camera_plate_text=f"BKM-{1000 + index}",
        )
        key = f"key-{index}" if index % 2 else None  # half also send an Idempotency-Key
        try:
            return services.violation_ingest(
                client=client, data=data, images=[image], idempotency_key=key
            ).event_id
        except Conflict:
            return "409"

    # Copies 1 and 2 of each event are adjacent in the queue: they run at the same time.
    first, errors = _run_in_threads([(i, c) for i in range(EVENTS) for c in (1, 2)], post)
    third, errors3 = _run_in_threads([(i, 3) for i in range(EVENTS)], post)

    assert errors == errors3 == []
    ids = defaultdict(set)
    for (index, _copy), answer in first + third:
        if answer != "409":  # the key's other copy was still in flight: a clean 409
            ids[index].add(answer)
    assert all(len(answers) == 1 for answers in ids.values())
    assert len(ids) == EVENTS
    assert all(answer != "409" for _job, answer in third)  # once done, every retry replays
    assert ViolationEvent.objects.count() == EVENTS
    assert EvidenceImage.objects.count() == EVENTS
    assert Challan.objects.count() == EVENTS
    assert ChallanEvidence.objects.count() == EVENTS
    assert set(ViolationEvent.objects.values_list("status", flat=True)) == {"matched"}
    assert not IdempotencyRecord.objects.exclude(state="done").exists()
    files = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert len(files) == EVENTS  # the losing copies wrote nothing
