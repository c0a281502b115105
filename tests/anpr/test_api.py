"""The ingest API: status codes, payload shapes, permissions, limits, idempotency."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from anpr import ingest_sql
from anpr.models import EvidenceImage, IdempotencyRecord, PlateRead, ViolationEvent
from tests.anpr.conftest import b64, jpeg, metadata, png

URL = "/api/v1/violations/"
pytestmark = pytest.mark.django_db


def post_multipart(api, meta=None, images=None, **extra):
    images = images if images is not None else {"scene": jpeg(640, 360), "plate": jpeg(200, 56)}
    body = {"metadata": json.dumps(meta or metadata())}
    for name, data in images.items():
        from django.core.files.uploadedfile import SimpleUploadedFile

        body[name] = SimpleUploadedFile(
            f"{name}.bin", data, content_type="application/octet-stream"
        )
    return api.post(URL, body, format="multipart", **extra)


def post_json(api, meta=None, images=None, **extra):
    images = (
        images
        if images is not None
        else [
            {"kind": "scene", "content_base64": b64(jpeg(640, 360))},
            {"kind": "plate", "content_base64": b64(png(200, 56))},
        ]
    )
    return api.post(URL, {**(meta or metadata()), "images": images}, format="json", **extra)


def fields(response) -> set:
    return {error["field"] for error in response.json()["errors"]}


def test_multipart_event_is_stored_with_hashed_evidence_and_answers_202(tracs, settings):
    _, api = tracs
    scene, plate = jpeg(640, 360), jpeg(200, 56)

    response = post_multipart(api, images={"scene": scene, "plate": plate})

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"event_id", "status", "status_url"}
    assert body["status_url"] == f"/api/v1/violations/{body['event_id']}/"
    assert response["Location"] == body["status_url"]
    event = ViolationEvent.objects.get(pk=body["event_id"])
    assert (event.camera.code, event.camera_event_id, event.status) == (
        "KHI-SOU-002",
        "ev-000001",
        "received",
    )
    assert event.captured_at.isoformat() == "2026-11-20T04:41:07+00:00"
    assert str(event.speed_kmh) == "87.4" and event.source == "api"
    images = {i.kind: i for i in event.images.all()}
    assert images["scene"].sha256 == hashlib.sha256(scene).hexdigest()
    assert images["plate"].sha256 == hashlib.sha256(plate).hexdigest()
    assert (images["scene"].width, images["scene"].height) == (640, 360)
    assert images["plate"].content_type == "image/jpeg"
    stored = Path(settings.MEDIA_ROOT) / images["scene"].file.name
    assert stored.read_bytes() == scene  # the original bytes, untouched


def test_json_with_base64_images_is_accepted(tracs):
    _, api = tracs

    response = post_json(api, meta=metadata(vehicle_class="car"))

    assert response.status_code == 202
    event = ViolationEvent.objects.get(pk=response.json()["event_id"])
    assert event.vehicle_class == "car"
    assert sorted(event.images.values_list("kind", "content_type")) == [
        ("plate", "image/png"),
        ("scene", "image/jpeg"),
    ]


def test_dispatches_plate_reading_after_commit_and_the_status_url_shows_reading_and_case(
    tracs, django_capture_on_commit_callbacks
):
    _, api = tracs
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_multipart(api)
    assert len(callbacks) == 1  # eager here: the task ran in-process after commit

    status = api.get(response.json()["status_url"])

    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "matched"
    assert body["reading"]["source"] == "anpr"
    assert body["reading"]["display"] == "BKM-1234"
    assert body["reading"]["model_version"] == "fake@1"
    assert body["case"]["state"] in ("needs_plate_check", "pending_review")
    assert [i["kind"] for i in body["images"]] == ["scene", "plate"]


def test_field_errors_name_the_field_and_the_reason(tracs):
    _, api = tracs

    response = post_multipart(
        api,
        meta=metadata(
            captured_at="2026-11-20T09:41:07", lane=0, camera_event_id="", vehicle_class="ufo"
        ),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert fields(response) == {"captured_at", "lane", "camera_event_id", "vehicle_class"}
    by_field = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "UTC offset" in by_field["captured_at"]


def test_unknown_offence_code_is_a_field_error(tracs):
    _, api = tracs
    response = post_json(api, meta=metadata(offence_code="jaywalking"))
    assert response.status_code == 400
    assert fields(response) == {"offence_code"}


def test_missing_metadata_part_and_bad_base64(tracs):
    _, api = tracs
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(URL, {"scene": SimpleUploadedFile("s.jpg", jpeg())}, format="multipart")
    assert response.status_code == 400 and fields(response) == {"metadata"}

    response = post_json(api, images=[{"kind": "scene", "content_base64": "not base64!"}])
    assert response.status_code == 400 and fields(response) == {"images.0.content_base64"}

    response = post_json(api, images=[])
    assert response.status_code == 400 and fields(response) == {"images"}


def test_without_a_token_401(tracs):
    _, api = tracs
    api.credentials()
    response = post_json(api)
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_another_clients_camera_and_an_unknown_camera_are_403_alike(tracs, outsider):
    _, api = tracs

    other = post_json(api, meta=metadata(camera="KHI-EAS-900"))
    unknown = post_json(api, meta=metadata(camera="KHI-NOPE-1"))

    assert other.status_code == unknown.status_code == 403
    assert other.json() == unknown.json()
    assert fields(other) == {"camera"}
    assert not ViolationEvent.objects.exists()


def test_a_user_who_is_not_an_ingest_client_403(db, tracs):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(get_user_model().objects.create_user("citizen"))
    assert post_json(api).status_code == 403


def test_token_changes_take_effect_on_the_next_request(tracs):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client, api = tracs
    assert post_json(api, meta=metadata(camera_event_id="ev-a")).status_code == 202

    client.is_active = False
    client.save()
    assert post_json(api, meta=metadata(camera_event_id="ev-b")).status_code == 403
    client.is_active = True
    client.save()

    client.user.is_active = False
    client.user.save()
    assert post_json(api, meta=metadata(camera_event_id="ev-c")).status_code == 401
    client.user.is_active = True
    client.user.save()

    Token.objects.filter(user=client.user).delete()  # revoked
    assert post_json(api, meta=metadata(camera_event_id="ev-d")).status_code == 401

    citizen = get_user_model().objects.create_user("citizen")  # a token, but no ingest client
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=citizen).key}")
    assert post_json(other).status_code == 403
    assert list(ViolationEvent.objects.values_list("camera_event_id", flat=True)) == ["ev-a"]


def test_the_persistent_connection_is_health_checked_before_its_first_query(tracs, monkeypatch):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    _, api = tracs
    db = connections["default"]
    db.ensure_connection()
    checks = []
    monkeypatch.setattr(db, "health_check_enabled", True)
    monkeypatch.setattr(db, "is_usable", lambda: checks.append(len(db.queries_log)) or True)
    db.health_check_done = False  # as at the start of every request (conn_health_checks)

    with CaptureQueriesContext(db) as queries:
        assert post_multipart(api).status_code == 202
    assert checks == [0] and len(queries) > 0  # once, before the token lookup


def test_body_over_the_limit_413(tracs, settings):
    _, api = tracs
    settings.INGEST_MAX_BODY_BYTES = 10_000

    response = post_json(
        api, images=[{"kind": "scene", "content_base64": b64(jpeg(400, 400, quality=100) * 3)}]
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_image_over_the_byte_or_pixel_limit_413_naming_the_image(tracs, settings):
    _, api = tracs
    settings.INGEST_MAX_IMAGE_BYTES = 2_000
    big = jpeg(300, 300, quality=100)
    response = post_multipart(api, images={"scene": big})
    assert response.status_code == 413 and fields(response) == {"images.scene"}

    settings.INGEST_MAX_IMAGE_BYTES = 1_000_000
    settings.INGEST_MAX_IMAGE_PIXELS = 1_000
    response = post_multipart(api, images={"scene": jpeg(64, 32)})
    assert response.status_code == 413 and fields(response) == {"images.scene"}
    assert "too large" in response.json()["errors"][0]["message"]


def test_too_many_images_400(tracs, settings):
    _, api = tracs
    settings.INGEST_MAX_IMAGES = 2
    response = post_multipart(api, images={"scene": jpeg(), "plate": jpeg(), "extra": jpeg()})
    assert response.status_code == 400 and fields(response) == {"images"}


def test_non_image_is_refused_by_content_not_by_name_415(tracs):
    _, api = tracs
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"

    text = post_multipart(api, images={"scene": b"%PDF-1.7 pretending to be scene.jpg"})
    other_format = post_multipart(api, images={"scene": gif})

    assert text.status_code == other_format.status_code == 415
    assert fields(text) == {"images.scene"}
    assert "JPEG and PNG only" in other_format.json()["errors"][0]["message"]
    assert not ViolationEvent.objects.exists()


def test_unsupported_request_content_type_415(tracs):
    _, api = tracs
    response = api.post(URL, "camera=x", content_type="text/plain")
    assert response.status_code == 415


def test_replay_of_the_same_camera_event_returns_the_first_answer(tracs, settings):
    _, api = tracs
    images = {"scene": jpeg(640, 360), "plate": jpeg(200, 56)}

    first = post_multipart(api, images=images)
    second = post_multipart(api, images=images)

    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert ViolationEvent.objects.count() == 1
    assert EvidenceImage.objects.count() == 2
    files = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert len(files) == 2  # the replay wrote nothing


def test_same_camera_event_id_with_different_content_422(tracs):
    _, api = tracs
    assert post_json(api).status_code == 202

    response = post_json(api, meta=metadata(camera_plate_text="AFR-420"))

    assert response.status_code == 422
    assert fields(response) == {"camera_event_id"}


def test_idempotency_key_replays_the_first_response(tracs):
    _, api = tracs
    first = post_json(api, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post_json(api, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    record = IdempotencyRecord.objects.get(key="k-1")
    assert record.state == "done" and record.event_id == first.json()["event_id"]


def test_idempotency_key_with_a_different_body_422(tracs):
    _, api = tracs
    assert post_json(api, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 202

    response = post_json(api, meta=metadata(camera_event_id="ev-2"), HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 422
    assert fields(response) == {"Idempotency-Key"}
    assert ViolationEvent.objects.count() == 1


def test_idempotency_key_still_in_flight_409_and_a_stale_claim_is_taken_over(tracs):
    client, api = tracs
    record = IdempotencyRecord.objects.create(
        client=client, key="k-3", request_sha256=_fingerprint_of(metadata())
    )

    busy = post_json(api, HTTP_IDEMPOTENCY_KEY="k-3")
    assert busy.status_code == 409
    assert fields(busy) == {"Idempotency-Key"}
    assert not ViolationEvent.objects.exists()

    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    retried = post_json(api, HTTP_IDEMPOTENCY_KEY="k-3")
    assert retried.status_code == 202
    record.refresh_from_db()
    assert record.state == "done"


def _fingerprint_of(meta: dict) -> str:
    """The fingerprint post_json's default body gets (same images as post_json)."""
    from anpr.serializers import ViolationInputSerializer
    from anpr.services import ImageUpload, ViolationInput, _fingerprint, images_probe

    serializer = ViolationInputSerializer(data=meta)
    serializer.is_valid(raise_exception=True)
    images = images_probe(
        [
            ImageUpload(name="scene", kind="scene", data=jpeg(640, 360)),
            ImageUpload(name="plate", kind="plate", data=png(200, 56)),
        ]
    )
    return _fingerprint(ViolationInput(**serializer.validated_data), images)


def test_a_failed_ingest_leaves_no_rows_no_files_and_frees_the_key(tracs, settings, monkeypatch):
    _, api = tracs

    insert = ingest_sql.rows_insert

    def explode(objs):  # the event row is in, the files are written; then the images fail
        if isinstance(objs[0], EvidenceImage):
            raise RuntimeError("database went away mid-request")
        insert(objs)

    monkeypatch.setattr(ingest_sql, "rows_insert", explode)
    with pytest.raises(RuntimeError):
        post_json(api, HTTP_IDEMPOTENCY_KEY="k-4")

    assert not ViolationEvent.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_status_of_another_clients_event_is_404(tracs, outsider):
    _, api = tracs
    _, other_api = outsider
    url = post_json(api).json()["status_url"]
    assert other_api.get(url).status_code == 404
    assert api.get(url).json()["reading"] is None  # not read yet (no commit in this test)


def test_openapi_schema_lists_the_ingest_endpoints(tracs):
    _, api = tracs
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        URL,
        "/api/v1/violations/{id}/",
        "/api/v1/cameras/hikvision/",
        "/api/v1/cameras/dahua/",
    ):
        assert path in paths


def test_plate_read_is_not_created_at_ingest(tracs):
    _, api = tracs
    post_json(api)
    assert not PlateRead.objects.exists()


def test_old_idempotency_keys_are_purged(tracs):
    from anpr import tasks

    _, api = tracs
    post_json(api, HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    post_json(api, meta=metadata(camera_event_id="ev-new"), HTTP_IDEMPOTENCY_KEY="new")

    assert tasks.idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert ViolationEvent.objects.count() == 2


def _png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG whose header claims width x height pixels (the data itself is a few bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + width // 8) * 8)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_from_its_header_413(tracs):
    _, api = tracs
    bomb = _png_bomb()
    assert len(bomb) < 10_000

    response = post_multipart(api, images={"scene": bomb})

    assert response.status_code == 413
    assert fields(response) == {"images.scene"}
    assert "too large" in response.json()["errors"][0]["message"]
    assert not ViolationEvent.objects.exists()
