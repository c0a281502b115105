"""Vendor formats: the recorded sample payloads in fixtures/ go through the real endpoints."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from anpr.adapters import AdapterError
from anpr.adapters.dahua import dahua_event
from anpr.adapters.hikvision import hikvision_event
from anpr.models import ViolationEvent
from tests.anpr.conftest import make_camera

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HIK = FIXTURES / "hikvision"
DAHUA = FIXTURES / "dahua"
HIK_URL = "/api/v1/cameras/hikvision/"
DAHUA_URL = "/api/v1/cameras/dahua/"
pytestmark = pytest.mark.django_db


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def post_hikvision_recording(api, query: str = ""):
    body = (HIK / "anpr_overspeed.multipart").read_bytes()
    return api.generic(
        "POST",
        HIK_URL + query,
        body,
        content_type="multipart/form-data; boundary=MIME_boundary_3f1e9c",
    )


def test_hikvision_anpr_notification_with_pictures_becomes_one_event(tracs):
    _, api = tracs

    response = post_hikvision_recording(api, "?camera=KHI-SOU-002")

    assert response.status_code == 200  # cameras retransmit on anything else
    event = ViolationEvent.objects.get(pk=response.json()["event_id"])
    assert event.source == "hikvision"
    assert event.camera_event_id == "8f4d2c1e-6b7a-4e2b-9c31-0a5d7e9b1f42"
    assert event.captured_at == datetime(2026, 11, 20, 4, 41, 7, tzinfo=UTC)
    assert (event.offence_code, str(event.speed_kmh), event.speed_limit_kmh, event.lane) == (
        "over_speeding",
        "87.0",
        60,
        2,
    )
    assert (event.camera_plate_text, event.camera_plate_confidence) == ("BKM1234", 0.91)
    images = {i.kind: i.sha256 for i in event.images.all()}
    assert images == {
        "plate": sha(HIK / "licensePlatePicture.jpg"),
        "scene": sha(HIK / "detectionPicture.jpg"),
    }


def test_hikvision_camera_found_by_its_mac_and_basic_auth_and_a_retransmission_is_a_replay(
    tracs,
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"tracs-gateway:camera-pass-123").decode()
    )

    first = post_hikvision_recording(api)
    again = post_hikvision_recording(api)

    assert first.status_code == again.status_code == 200
    assert first.json()["event_id"] == again.json()["event_id"]
    assert ViolationEvent.objects.count() == 1


def test_hikvision_heartbeat_is_answered_and_stores_nothing(tracs):
    _, api = tracs
    response = api.generic(
        "POST",
        HIK_URL,
        (HIK / "heartbeat_videoloss.xml").read_bytes(),
        content_type="application/xml",
    )
    assert response.status_code == 200
    assert "not a traffic event" in response.json()["ignored"]
    assert not ViolationEvent.objects.exists()


def test_hikvision_xml_with_entities_is_refused(tracs):
    _, api = tracs
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<EventNotificationAlert><eventType>&lol2;</eventType></EventNotificationAlert>"""
    response = api.generic("POST", HIK_URL, bomb, content_type="application/xml")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "xml"


def test_hikvision_listed_picture_missing_is_an_error_naming_it():
    xml = (HIK / "anpr_overspeed.xml").read_bytes()
    with pytest.raises(AdapterError) as raised:
        hikvision_event(xml=xml, files={"detectionPicture.jpg": b"..."})
    assert raised.value.field == "licensePlatePicture.jpg"


def test_hikvision_unknown_device_is_403(tracs):
    _, api = tracs
    from anpr.models import Camera

    Camera.objects.update(device_id=None)
    response = post_hikvision_recording(api)
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "camera"


def test_dahua_overspeed_json_with_base64_pictures(tracs):
    _, api = tracs
    payload = json.loads((DAHUA / "traffic_overspeed.json").read_text())

    response = api.post(DAHUA_URL + "?camera=KHI-SOU-002", payload, format="json")

    assert response.status_code == 200
    event = ViolationEvent.objects.get(pk=response.json()["event_id"])
    assert event.source == "dahua"
    assert event.camera_event_id == "5308450-731"
    assert event.captured_at == datetime(2026, 11, 20, 9, 41, 7, 213000, tzinfo=UTC)
    assert (event.offence_code, str(event.speed_kmh), event.lane) == ("over_speeding", "92.0", 3)
    assert (event.camera_plate_text, event.camera_plate_confidence) == ("AFR420", 0.88)
    assert {i.kind: i.sha256 for i in event.images.all()} == {
        "scene": sha(DAHUA / "global.jpg"),
        "plate": sha(DAHUA / "plate.jpg"),
    }


def test_dahua_red_light_multipart_by_serial_reads_the_local_clock(tracs):
    _, api = tracs
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_camera("KHI-EAS-010", kind="red_light", device_id="7J0A5D3PAG88F21")
    client, _ = tracs
    client.cameras.add(*client.cameras.model.objects.filter(code="KHI-EAS-010"))
    body = {
        "event": (DAHUA / "traffic_run_red_light.event.json").read_text(),
        "global.jpg": SimpleUploadedFile("global.jpg", (DAHUA / "global.jpg").read_bytes()),
        "plate.jpg": SimpleUploadedFile("plate.jpg", (DAHUA / "plate.jpg").read_bytes()),
    }

    response = api.post(DAHUA_URL, body, format="multipart")

    assert response.status_code == 200, response.json()
    event = ViolationEvent.objects.get(pk=response.json()["event_id"])
    assert event.camera.code == "KHI-EAS-010"
    assert event.offence_code == "red_light"
    # No RealUTC: "UTC" is the camera's Karachi wall clock, 14:41:07 local.
    assert event.captured_at == datetime(2026, 11, 20, 9, 41, 7, 213000, tzinfo=UTC)
    assert sorted(event.images.values_list("kind", flat=True)) == ["plate", "scene"]


def test_dahua_junction_passage_within_the_limit_is_not_a_violation(tracs):
    _, api = tracs
    payload = json.loads((DAHUA / "traffic_junction_stream.json").read_text())

    response = api.post(DAHUA_URL + "?camera=KHI-SOU-002", payload, format="json")

    assert response.status_code == 200
    assert "no violation" in response.json()["ignored"]
    assert not ViolationEvent.objects.exists()


def test_dahua_junction_over_the_limit_is_over_speeding():
    payload = json.loads((DAHUA / "traffic_junction_stream.json").read_text())
    payload["params"]["eventList"][0]["Data"]["TrafficCar"]["Speed"] = 97

    event = dahua_event(payload=payload)

    assert event.offence_code == "over_speeding"
    assert event.captured_at == datetime(2026, 11, 20, 9, 41, 7, 213000, tzinfo=UTC)


def test_dahua_malformed_payload_names_the_key(tracs):
    _, api = tracs
    response = api.post(DAHUA_URL, {"Code": "TrafficOverSpeed"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Data"


def test_vendor_vehicle_types_map_onto_registry_classes():
    from anpr.adapters import vehicle_class_for

    xml = (HIK / "anpr_overspeed.xml").read_text()
    files = {
        "licensePlatePicture.jpg": b"x",
        "detectionPicture.jpg": b"x",
    }
    assert hikvision_event(xml=xml.encode(), files=files).vehicle_class == ""  # "vehicle"
    two_wheeler = xml.replace("<twoWheelVehicle>no", "<twoWheelVehicle>yes")
    assert hikvision_event(xml=two_wheeler.encode(), files=files).vehicle_class == "motorcycle"
    truck = xml.replace("<vehicleType>vehicle", "<vehicleType>truck")
    assert hikvision_event(xml=truck.encode(), files=files).vehicle_class == "truck"
    assert [vehicle_class_for(t) for t in ("SaloonCar", "SUV", "LargeBus", "Motor")] == [
        "car",
        "jeep",
        "bus",
        "",
    ]
