"""Input and output shapes of the ingest API. Serializers validate; services write."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from anpr.models import EvidenceImage, PlateRead, ViolationEvent
from vehicles.models import VehicleClass

MAX_CLOCK_SKEW = timedelta(minutes=10)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its UTC offset: a camera's local time without one is ambiguous."""

    def to_internal_value(self, value: Any) -> datetime:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            self.fail(
                "invalid", format="ISO 8601 with a UTC offset, e.g. 2026-11-25T14:03:07+05:00"
            )
        assert parsed is not None
        if timezone.is_naive(parsed):
            raise serializers.ValidationError(
                "has no UTC offset; send e.g. 2026-11-25T14:03:07+05:00 or ...Z"
            )
        if parsed > timezone.now() + MAX_CLOCK_SKEW:
            raise serializers.ValidationError("is in the future (check the camera's clock)")
        return parsed


class ViolationInputSerializer(serializers.Serializer):
    camera = serializers.CharField(max_length=32)
    camera_event_id = serializers.CharField(max_length=100)
    captured_at = AwareDateTimeField()
    offence_code = serializers.RegexField(r"^[a-z][a-z0-9_]{1,39}$", max_length=40)
    speed_kmh = serializers.FloatField(min_value=0, max_value=400, required=False, allow_null=True)
    speed_limit_kmh = serializers.IntegerField(
        min_value=5, max_value=200, required=False, allow_null=True
    )
    lane = serializers.IntegerField(min_value=1, max_value=20, required=False, allow_null=True)
    camera_plate_text = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    camera_plate_confidence = serializers.FloatField(
        min_value=0, max_value=1, required=False, allow_null=True
    )
    vehicle_class = serializers.ChoiceField(
        choices=VehicleClass.choices, required=False, allow_blank=True, default=""
    )

    def validate_speed_kmh(self, value: float | None) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))


class ImageInputSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[A-Za-z0-9_.-]{1,60}$", required=False)
    kind = serializers.ChoiceField(choices=EvidenceImage.Kind.choices, required=False)
    content_base64 = serializers.CharField(trim_whitespace=True)


class ViolationJsonInputSerializer(ViolationInputSerializer):
    images = ImageInputSerializer(many=True)


class ViolationAcceptedSerializer(serializers.Serializer):
    event_id = serializers.IntegerField()
    status = serializers.CharField()
    status_url = serializers.CharField()


class EvidenceImageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvidenceImage
        fields = [
            "position",
            "kind",
            "name",
            "sha256",
            "size_bytes",
            "width",
            "height",
            "content_type",
        ]


class PlateReadOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlateRead
        fields = [
            "source",
            "text",
            "display",
            "key",
            "confidence",
            "char_confidences",
            "box",
            "model_version",
            "timings",
            "manual_check_reasons",
            "created_at",
        ]


class CaseSummarySerializer(serializers.Serializer):
    number = serializers.CharField(allow_null=True)
    state = serializers.CharField()
    duplicate = serializers.BooleanField()


class ViolationStatusSerializer(serializers.ModelSerializer):
    event_id = serializers.IntegerField(source="pk")
    camera = serializers.CharField(source="camera.code")
    images = EvidenceImageOutputSerializer(many=True)
    reading = serializers.SerializerMethodField()
    case = serializers.SerializerMethodField()

    class Meta:
        model = ViolationEvent
        fields = [
            "event_id",
            "camera",
            "camera_event_id",
            "captured_at",
            "received_at",
            "offence_code",
            "speed_kmh",
            "speed_limit_kmh",
            "lane",
            "camera_plate_text",
            "camera_plate_confidence",
            "vehicle_class",
            "source",
            "status",
            "error",
            "images",
            "reading",
            "case",
        ]

    def get_reading(self, event: ViolationEvent) -> dict[str, Any] | None:
        read = getattr(event, "plate_read", None)
        return PlateReadOutputSerializer(read).data if read is not None else None

    def get_case(self, event: ViolationEvent) -> dict[str, Any] | None:
        return self.context.get("case")
