"""The ANPR worker step: reading, doubts routed to manual check, bad images, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from anpr import services, tasks
from anpr.models import PlateRead, ViolationEvent
from anpr.readers import DEFAULT_MODEL, default_model
from challan.models import Challan, ChallanEvidence
from tests.anpr.conftest import FakeReader, jpeg

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def ingest(client, event_id="ev-1", plate_text="BKM-1234", images=None, **fields):
    images = images or {"scene": jpeg(640, 360), "plate": jpeg(200, 56)}
    data = services.ViolationInput(
        camera="KHI-SOU-002",
        camera_event_id=event_id,
        captured_at=datetime(2026, 11, 20, 4, 41, 7, tzinfo=UTC),
        offence_code=fields.pop("offence_code", "over_speeding"),
        camera_plate_text=plate_text,
        camera_plate_confidence=0.9 if plate_text else None,
        **fields,
    )
    result = services.violation_ingest(
        client=client,
        data=data,
        images=[
            services.ImageUpload(name=n, kind=services.image_kind_for(n), data=d)
            for n, d in images.items()
        ],
    )
    return ViolationEvent.objects.get(pk=result.event_id)


def read(event) -> PlateRead:
    services.event_read_plate(event=event)
    event.refresh_from_db()
    return PlateRead.objects.get(event=event)


def test_a_confident_reading_that_agrees_with_the_camera_opens_a_case(tracs):
    client, _ = tracs
    event = ingest(client)

    reading = read(event)

    assert reading.source == "anpr"
    assert (reading.text, reading.key, reading.display) == ("BKM1234", "BKM1234", "BKM-1234")
    assert reading.confidence == pytest.approx(0.97)
    assert reading.char_confidences == [0.97] * 7
    assert reading.model_version == "fake@1"
    assert reading.image.kind == "plate"  # the crop is read when there is one
    assert set(reading.timings) == {"decode_ms", "find_ms", "read_ms"}
    assert reading.manual_check_reasons == []
    assert event.status == "matched"
    event.camera.refresh_from_db()
    assert event.camera.last_event_at == event.received_at
    case = ChallanEvidence.objects.get(event=event).challan
    assert case.plate_key == "BKM1234" and case.plate_source == "anpr"


def test_running_twice_changes_nothing_the_second_time(tracs):
    client, _ = tracs
    event = ingest(client)
    first = read(event)
    calls = FakeReader.calls

    assert tasks.event_read_plate(event.pk) == "matched"

    assert FakeReader.calls == calls
    assert PlateRead.objects.get(event=event).pk == first.pk
    assert Challan.objects.count() == 1
    assert ChallanEvidence.objects.filter(event=event).count() == 1


def test_low_confidence_goes_to_manual_plate_check(tracs):
    client, _ = tracs
    FakeReader.confidence = 0.41
    reading = read(ingest(client))
    assert reading.manual_check_reasons == ["low_confidence"]
    assert ChallanEvidence.objects.get().challan.state == "needs_plate_check"


def test_disagreement_with_the_camera_goes_to_manual_plate_check(tracs):
    client, _ = tracs
    reading = read(ingest(client, plate_text="AFR-420"))
    assert reading.source == "anpr" and reading.key == "BKM1234"
    assert reading.manual_check_reasons == ["camera_disagrees"]


def test_a_reading_that_is_not_a_plate_is_flagged(tracs):
    client, _ = tracs
    FakeReader.text = "XX"
    reading = read(ingest(client, plate_text=""))
    assert "plate_format_invalid" in reading.manual_check_reasons


def test_reader_unavailable_falls_back_to_the_camera_reading_unverified(tracs, settings):
    client, _ = tracs
    settings.ANPR_READER = "tests.anpr.conftest.BrokenReader"
    event = ingest(client)

    reading = read(event)

    assert reading.source == "camera"
    assert reading.key == "BKM1234"
    assert reading.confidence == 0.9  # the camera's own
    assert reading.manual_check_reasons == ["reader_unavailable", "camera_plate_unverified"]
    assert "model" in event.error
    assert event.status == "matched"
    assert ChallanEvidence.objects.get(event=event).challan.state == "needs_plate_check"


def test_the_configured_real_reader_reads_or_falls_back(tracs, settings):
    """With the committed model the fixture plate is read; without it the camera's text stands."""
    client, _ = tracs
    settings.ANPR_READER = "anpr.readers.FastPlateOcrReader"
    images = {
        "scene": (FIXTURES / "hikvision/detectionPicture.jpg").read_bytes(),
        "plate": (FIXTURES / "hikvision/licensePlatePicture.jpg").read_bytes(),
    }
    reading = read(ingest(client, images=images))
    if DEFAULT_MODEL.exists():
        assert reading.source == "anpr" and reading.model_version.startswith(
            default_model().stem + "@"
        )
    else:
        assert reading.source == "camera"
        assert "reader_unavailable" in reading.manual_check_reasons


def test_no_plate_in_the_scene_and_no_camera_reading(tracs):
    client, _ = tracs
    event = ingest(client, plate_text="", images={"scene": jpeg(320, 240, color=(90, 90, 90))})

    reading = read(event)

    assert reading.source == "none"
    assert reading.manual_check_reasons == ["no_plate_found", "camera_plate_missing"]
    assert reading.image.kind == "scene"
    assert ChallanEvidence.objects.get(event=event).challan.state == "needs_plate_check"


def test_corrupt_images_fail_that_event_with_a_clear_error_and_the_next_one_is_read(tracs):
    client, _ = tracs
    truncated = jpeg(640, 360, quality=95)[:-400]  # header fine, end of image missing
    bad = ingest(client, "ev-bad", images={"scene": truncated, "plate": truncated})
    good = ingest(client, "ev-good")

    services.event_read_plate(event=bad)
    bad.refresh_from_db()
    read(good)

    assert bad.status == "failed"
    assert "truncated jpeg" in bad.error and "plate image" in bad.error
    assert not PlateRead.objects.filter(event=bad).exists()
    assert services.event_read_plate(event=bad) is None  # a retry leaves it failed
    good.refresh_from_db()
    assert good.status == "matched"


def test_a_corrupt_crop_falls_back_to_the_scene(tracs, monkeypatch):
    client, _ = tracs
    from anpr import readers

    def scene_reader(image, *, reader=None):
        return reader.read_crops([image[:10, :10]])

    monkeypatch.setattr(readers, "read_scene", scene_reader)
    event = ingest(client, images={"scene": jpeg(640, 360), "plate": jpeg(200, 56)[:-2]})

    reading = read(event)

    assert reading.image.kind == "scene" and reading.source == "anpr"
    assert reading.manual_check_reasons == ["image_unreadable"]
    assert "plate image 1: truncated jpeg" in event.error


def test_an_evidence_file_changed_after_ingest_is_detected(tracs, settings):
    client, _ = tracs
    event = ingest(client, images={"scene": jpeg(640, 360)})
    image = event.images.get()
    path = Path(settings.MEDIA_ROOT) / image.file.name
    path.write_bytes(jpeg(640, 360, color=(0, 0, 255)))

    services.event_read_plate(event=event)
    event.refresh_from_db()

    assert event.status == "failed"
    assert "does not match the SHA-256" in event.error


def test_the_task_on_a_missing_event_is_a_no_op():
    assert tasks.event_read_plate(987654) == "missing"


def test_the_vehicle_class_the_camera_saw_goes_to_the_case(tracs):
    client, _ = tracs
    event = ingest(client, vehicle_class="truck")
    read(event)
    assert ChallanEvidence.objects.get(event=event).challan.observed_class == "truck"


def test_a_task_reads_a_backlog_in_one_batch_and_the_later_tasks_find_it_done(
    tracs, settings, django_assert_max_num_queries
):
    client, _ = tracs
    settings.ANPR_BATCH_SIZE = 4
    events = [ingest(client, f"ev-{n}", plate_text="") for n in range(6)]

    assert tasks.event_read_plate(events[2].pk) == "matched"

    # Its own event plus the three oldest waiting ones, read with one OCR call.
    assert FakeReader.calls == 1
    statuses = dict(ViolationEvent.objects.values_list("camera_event_id", "status"))
    assert statuses == {
        "ev-0": "matched",
        "ev-1": "matched",
        "ev-2": "matched",
        "ev-3": "matched",
        "ev-4": "received",
        "ev-5": "received",
    }
    # ev-0's own task finds it done, and takes the two still waiting along.
    assert tasks.event_read_plate(events[0].pk) == "matched"
    assert FakeReader.calls == 2
    # Nothing left to read: the task costs one short transaction (the claim's two SELECTs).
    with django_assert_max_num_queries(4):
        assert tasks.event_read_plate(events[5].pk) == "matched"
    assert FakeReader.calls == 2
    # One vehicle, one offence, minutes apart: one case with six events (duplicates join).
    assert PlateRead.objects.count() == ChallanEvidence.objects.count() == 6
    assert Challan.objects.count() == 1


def test_one_bad_event_in_a_batch_fails_alone(tracs):
    client, _ = tracs
    truncated = jpeg(640, 360, quality=95)[:-400]
    bad = ingest(client, "ev-bad", images={"scene": truncated, "plate": truncated})
    good = [ingest(client, f"ev-{n}") for n in range(3)]

    out = services.events_read_plates(event_ids=[good[1].pk], take_waiting=5)

    # The status of the event named and of every event taken along.
    assert out == {bad.pk: "failed", **{e.pk: "matched" for e in good}}
    statuses = dict(ViolationEvent.objects.values_list("pk", "status"))
    assert statuses[bad.pk] == "failed"
    assert [statuses[e.pk] for e in good] == ["matched"] * 3


def test_an_event_another_worker_is_reading_is_left_to_it_until_its_claim_goes_stale(
    tracs, settings
):
    client, _ = tracs
    event = ingest(client)
    claimed_at = timezone.now() - timedelta(seconds=30)
    ViolationEvent.objects.filter(pk=event.pk).update(status="reading", updated_at=claimed_at)
    settings.ANPR_READING_STALE_SECONDS = 180

    assert services.event_read_plate(event=event) is None  # someone is on it
    assert FakeReader.calls == 0
    assert services.events_stuck(older_than=timedelta(minutes=5)) == []

    settings.ANPR_READING_STALE_SECONDS = 20  # now that worker counts as dead
    assert services.events_stuck(older_than=timedelta(minutes=5)) == [event.pk]
    assert services.event_read_plate(event=event) is not None
    event.refresh_from_db()
    assert event.status == "matched"


def test_the_sweep_queues_again_events_a_lost_message_left_unread(tracs, monkeypatch):
    client, _ = tracs
    old = ingest(client, "ev-old")
    new = ingest(client, "ev-new")
    ViolationEvent.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )
    sent = []
    monkeypatch.setattr(tasks.event_read_plate, "delay", sent.append)

    assert tasks.events_stuck_redispatch() == 1
    assert sent == [old.pk]  # the new one is still inside ANPR_STUCK_AFTER_SECONDS
    # The sweep only queues: both events still wait for a worker to claim them.
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("received", "received")


def test_an_event_the_broker_could_not_take_is_stored_answered_and_swept_later(
    tracs, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    client, _ = tracs

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.event_read_plate, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = ingest(client)  # no exception: the camera gets its 202

    assert len(callbacks) == 1
    event.refresh_from_db()  # stored, waiting for the sweep: neither lost nor failed
    assert event.status == "received"
    ViolationEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )
    assert services.events_stuck(older_than=timedelta(minutes=5)) == [event.pk]


def test_a_read_event_whose_case_was_lost_gets_it_on_the_next_delivery(tracs, monkeypatch):
    client, _ = tracs
    event = ingest(client)
    with monkeypatch.context() as patch:
        patch.setattr(services, "_case_open", lambda **kwargs: None)  # the case step lost
        services.event_read_plate(event=event)
    event.refresh_from_db()
    assert event.status == "read" and not ChallanEvidence.objects.filter(event=event).exists()

    assert tasks.event_read_plate(event.pk) == "matched"

    assert FakeReader.calls == 1  # not read again: the stored reading opens the case
    assert ChallanEvidence.objects.filter(event=event).count() == 1
