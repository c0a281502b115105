"""An ingested event read by a real Celery worker process, on PostgreSQL and a real broker."""

from __future__ import annotations

import time

import pytest
from django.core.files.storage import default_storage

from anpr.models import EvidenceImage, PlateRead, ViolationEvent
from challan.models import ChallanEvidence
from tests.anpr.conftest import b64, jpeg, metadata


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_an_ingested_event_is_read_by_the_worker_and_becomes_a_case(celery_worker_process, tracs):
    _, api = tracs
    response = api.post(
        "/api/v1/violations/",
        {
            **metadata(camera_event_id="worker-1"),
            "images": [
                {"kind": "scene", "content_base64": b64(jpeg(640, 360))},
                {"kind": "plate", "content_base64": b64(jpeg(200, 56))},
            ],
        },
        format="json",
    )
    assert response.status_code == 202
    event_id = response.json()["event_id"]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = ViolationEvent.objects.values_list("status", flat=True).get(pk=event_id)
            if status in ("matched", "failed"):
                break
            time.sleep(0.2)

        event = ViolationEvent.objects.get(pk=event_id)
        assert event.status == "matched", event.error
        reading = PlateRead.objects.get(event=event)
        # The worker uses the configured reader: the committed model, or (none yet) the
        # camera's reading, unverified.
        assert reading.source in ("anpr", "camera")
        assert ChallanEvidence.objects.filter(event=event).exists()
        assert api.get(response.json()["status_url"]).json()["case"] is not None
    finally:
        for image in EvidenceImage.objects.filter(event_id=event_id):
            default_storage.delete(image.file.name)
