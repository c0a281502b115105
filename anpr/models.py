"""Cameras, the clients that post for them, and what they send: events, evidence, readings.

Evidence is append-only: an `EvidenceImage` is written once at ingest, with the
SHA-256 of the bytes the camera sent, and never modified afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class District(models.TextChoices):
    SOUTH = "south", "South"
    EAST = "east", "East"
    WEST = "west", "West"
    CENTRAL = "central", "Central"
    MALIR = "malir", "Malir"
    KORANGI = "korangi", "Korangi"
    KEAMARI = "keamari", "Keamari"


class Camera(models.Model):
    class Kind(models.TextChoices):
        RED_LIGHT = "red_light", "Red light"
        SPEED = "speed", "Speed"
        LANE = "lane", "Lane"
        WRONG_WAY = "wrong_way", "Wrong way"
        HELMET_SEATBELT = "helmet_seatbelt", "Helmet / seatbelt analytics"
        ANPR = "anpr", "ANPR"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        MAINTENANCE = "maintenance", "Maintenance"
        RETIRED = "retired", "Retired"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The vendor's own identity for the device (Hikvision MAC, Dahua serial): lets a
    # camera that cannot add `?camera=` to its upload URL still be recognised.
    device_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    road = models.CharField(max_length=200, blank=True)
    district = models.CharField(max_length=10, choices=District.choices)
    speed_limit_kmh = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["district", "kind"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class IngestClient(models.Model):
    """A TRACS gateway or a camera that posts events: its user holds the API token."""

    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ingest_client"
    )
    cameras = models.ManyToManyField(Camera, related_name="ingest_clients", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ViolationEvent(models.Model):
    class Source(models.TextChoices):
        API = "api", "Ingest API"
        HIKVISION = "hikvision", "Hikvision ISAPI"
        DAHUA = "dahua", "Dahua ITC"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        READING = "reading", "Reading plate"
        READ = "read", "Plate read"
        FAILED = "failed", "Failed"
        MATCHED = "matched", "Case opened"

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="events")
    camera_event_id = models.CharField(max_length=100)
    captured_at = models.DateTimeField()
    offence_code = models.CharField(max_length=40)
    speed_kmh = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    speed_limit_kmh = models.PositiveSmallIntegerField(null=True, blank=True)
    lane = models.PositiveSmallIntegerField(null=True, blank=True)
    camera_plate_text = models.CharField(max_length=20, blank=True)
    camera_plate_confidence = models.FloatField(null=True, blank=True)
    # The vehicle class the camera's analytics saw (vehicles.VehicleClass value, "" unknown):
    # checked against the registry, a mismatch is the sign of a cloned plate.
    vehicle_class = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Idempotency: who posted it and a fingerprint of what was posted (metadata and
    # image hashes), so a replay is told apart from a different event reusing the id.
    client = models.ForeignKey(
        IngestClient, on_delete=models.PROTECT, related_name="events", null=True, blank=True
    )
    payload_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["camera", "camera_event_id"], name="anpr_event_unique_per_camera"
            ),
            models.CheckConstraint(
                condition=models.Q(camera_plate_confidence__isnull=True)
                | models.Q(camera_plate_confidence__gte=0, camera_plate_confidence__lte=1),
                name="anpr_event_camera_confidence_0_1",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["captured_at"]),
        ]

    def __str__(self) -> str:
        return f"event {self.pk} {self.camera_id}/{self.camera_event_id}"


def evidence_upload_to(instance: EvidenceImage, filename: str) -> str:
    # By day, then event: easy to archive by date and to find one event's files.
    day = instance.event.received_at or instance.event.captured_at
    return (
        f"evidence/{day:%Y/%m/%d}/{instance.event_id}/"
        f"{instance.position:02d}-{instance.kind}-{instance.sha256[:16]}.{filename.rsplit('.', 1)[-1]}"
    )


class EvidenceImage(models.Model):
    class Kind(models.TextChoices):
        SCENE = "scene", "Scene"
        PLATE = "plate", "Plate crop"
        OTHER = "other", "Other"

    event = models.ForeignKey(ViolationEvent, on_delete=models.PROTECT, related_name="images")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True)  # the part / field name it came in
    file = models.FileField(upload_to=evidence_upload_to, max_length=255)
    sha256 = models.CharField(max_length=64)  # of the original bytes, computed at ingest
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "position"]
        constraints = [
            models.UniqueConstraint(fields=["event", "position"], name="anpr_image_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.kind} image of event {self.event_id}"


class PlateRead(models.Model):
    """The back office's reading of an event's plate (or the camera's, when no reading was possible)."""

    class Source(models.TextChoices):
        ANPR = "anpr", "ANPR (back office)"
        CAMERA = "camera", "Camera (unverified)"
        NONE = "none", "None"

    event = models.OneToOneField(
        ViolationEvent, on_delete=models.PROTECT, related_name="plate_read"
    )
    image = models.ForeignKey(
        EvidenceImage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    text = models.CharField(max_length=20, blank=True)
    key = models.CharField(max_length=20, blank=True, db_index=True)
    display = models.CharField(max_length=24, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    char_confidences = models.JSONField(default=list, blank=True)
    box = models.JSONField(null=True, blank=True)  # [x, y, w, h] in the scene image
    model_version = models.CharField(max_length=80, blank=True)
    timings = models.JSONField(default=dict, blank=True)  # decode_ms, find_ms, read_ms
    manual_check_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.display or self.text or '-'} ({self.source}) for event {self.event_id}"


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one client: claimed before the work, holds the first answer."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        DONE = "done", "Done"

    client = models.ForeignKey(IngestClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    event = models.ForeignKey(
        ViolationEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="anpr_idempotency_unique_key")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key} ({self.state})"
