"""Ingest personas (the TRACS gateway and an outsider client), cameras, tiny images, a fake reader."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from anpr import services
from anpr.models import Camera, IngestClient
from anpr.readers import PlateReading, _reader_for

FAKE_READER = "tests.anpr.conftest.FakeReader"


class FakeReader:
    """Reads every crop as `text` with `confidence`; set the class attributes per test."""

    model_version = "fake@1"
    text = "BKM1234"
    confidence = 0.97
    calls = 0

    def read_crops(self, crops: Sequence[np.ndarray]) -> list[PlateReading]:
        FakeReader.calls += 1
        from anpr.readers import plate_reading

        return [
            plate_reading(
                self.text, [self.confidence] * len(self.text), model_version=self.model_version
            )
            for _ in crops
        ]


class BrokenReader:
    def __init__(self) -> None:
        raise FileNotFoundError(
            "plate OCR model or its plate config is missing: anpr/models/x.onnx"
        )


@pytest.fixture(autouse=True)
def _media_and_reader(request, settings, tmp_path):
    if "celery_worker_process" not in request.fixturenames:
        settings.MEDIA_ROOT = tmp_path / "media"  # the worker process needs the shared default
    settings.ANPR_READER = FAKE_READER
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast personas
    FakeReader.text, FakeReader.confidence, FakeReader.calls = "BKM1234", 0.97, 0
    _reader_for.cache_clear()
    services._offence_codes = (0.0, frozenset())  # offences are per test database
    yield
    _reader_for.cache_clear()


def jpeg(width: int = 64, height: int = 32, color=(240, 200, 30), quality: int = 80) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png(width: int = 64, height: int = 32) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (255, 255, 255)).save(buf, "PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def make_camera(code: str, **kwargs) -> Camera:
    defaults = {
        "name": f"Camera {code}",
        "kind": Camera.Kind.SPEED,
        "latitude": Decimal("24.855300"),
        "longitude": Decimal("67.051100"),
        "road": "Shahrah-e-Faisal",
        "district": "south",
        "speed_limit_kmh": 60,
    }
    return Camera.objects.create(code=code, **{**defaults, **kwargs})


def make_client(name: str, cameras: Sequence[Camera]) -> tuple[IngestClient, APIClient]:
    user = get_user_model().objects.create_user(username=name, password="camera-pass-123")
    client = IngestClient.objects.create(name=name, user=user)
    client.cameras.add(*cameras)
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, api


@pytest.fixture
def camera(db) -> Camera:
    return make_camera("KHI-SOU-002", device_id="bc:ba:c2:4e:9a:11")


@pytest.fixture
def tracs(db, camera) -> tuple[IngestClient, APIClient]:
    """The TRACS gateway: posts for KHI-SOU-002."""
    return make_client("tracs-gateway", [camera])


@pytest.fixture
def outsider(db) -> tuple[IngestClient, APIClient]:
    """Another client, with a camera of its own."""
    return make_client("other-gateway", [make_camera("KHI-EAS-900", district="east")])


def metadata(**overrides) -> dict:
    return {
        "camera": "KHI-SOU-002",
        "camera_event_id": "ev-000001",
        "captured_at": "2026-11-20T09:41:07+05:00",
        "offence_code": "over_speeding",
        "speed_kmh": 87.4,
        "speed_limit_kmh": 60,
        "lane": 2,
        "camera_plate_text": "BKM-1234",
        "camera_plate_confidence": 0.91,
        **overrides,
    }
