"""Demo cameras and the admin pages for cameras and evidence."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from anpr.demo import DEMO_CLIENT, seed_cameras
from anpr.models import Camera, District, IngestClient, ViolationEvent
from tests.anpr.test_api import post_multipart

pytestmark = pytest.mark.django_db


def test_seed_cameras_covers_karachi_and_is_idempotent():
    first = seed_cameras()
    again = seed_cameras()

    assert len(first) == len(again) == Camera.objects.count() >= 40
    assert {c.kind for c in first} == set(Camera.Kind.values)
    assert {c.district for c in first} == set(District.values)
    client = IngestClient.objects.get(name=DEMO_CLIENT)
    assert client.cameras.count() == len(first)
    assert client.user.auth_token.key
    assert [c.latitude for c in seed_cameras(seed=42)] == [c.latitude for c in first]


def test_admin_lists_cameras_and_shows_an_events_evidence_read_only(client, tracs):
    _, api = tracs
    event_id = post_multipart(api).json()["event_id"]
    admin = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(admin)

    assert client.get("/admin/anpr/camera/").status_code == 200
    assert client.get("/admin/anpr/violationevent/").status_code == 200
    page = client.get(f"/admin/anpr/violationevent/{event_id}/change/")
    assert page.status_code == 200
    event = ViolationEvent.objects.get(pk=event_id)
    for image in event.images.all():
        assert image.sha256 in page.content.decode()
    assert b'name="_save"' not in page.content  # evidence cannot be edited
    assert client.get("/admin/anpr/idempotencyrecord/").status_code == 200
    assert client.get("/admin/anpr/ingestclient/").status_code == 200


def test_the_event_list_shows_thumbnails_in_a_fixed_number_of_queries(client, tracs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.anpr.conftest import metadata

    _, api = tracs
    for n in range(3):
        post_multipart(api, meta=metadata(camera_event_id=f"ev-{n}"))
    admin = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(admin)
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/anpr/violationevent/")
    for n in range(3, 10):
        post_multipart(api, meta=metadata(camera_event_id=f"ev-{n}"))
    with CaptureQueriesContext(connection) as more:
        page = client.get("/admin/anpr/violationevent/")

    assert len(more.captured_queries) == len(few.captured_queries) <= 12
    assert page.content.decode().count('style="max-height:48px"') == 10
