"""Input and output shapes of the challan API. Serializers validate and render; they never save."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from challan.models import Challan, ChallanEvent, Flag, Offence, OffenceFine
from vehicles.masking import mask_address, mask_cnic, mask_phone

# --- Errors (for the schema: config.api.exception_handler renders them).


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """{"status": 409, "code": "conflict", "errors": [{"field": "state", "message": "..."}]}"""

    def get_fields(self) -> dict[str, serializers.Field]:
        # "errors" is a Serializer property, so the field cannot be declared as an attribute.
        return {
            "status": serializers.IntegerField(),
            "code": serializers.CharField(),
            "errors": ErrorItemSerializer(many=True),
        }


# --- Offence schedule.


class OffenceFineSerializer(serializers.ModelSerializer):
    vehicle_class = serializers.CharField(help_text="Registry vehicle class; empty: any other.")

    class Meta:
        model = OffenceFine
        fields = ["vehicle_class", "amount_rs", "effective_from", "effective_to", "notification"]


class OffenceSerializer(serializers.ModelSerializer):
    fines = serializers.SerializerMethodField(help_text="Fines in force at the asked time.")

    class Meta:
        model = Offence
        fields = ["code", "name", "legal_reference", "demerit_points", "fines"]

    @extend_schema_field(OffenceFineSerializer(many=True))
    def get_fines(self, offence: Offence) -> list[dict[str, Any]]:
        fines = getattr(offence, "fines_now", None)
        if fines is None:
            fines = list(offence.fines.all())
        return list(OffenceFineSerializer(fines, many=True).data)


# --- Challans.


class OffenceBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Offence
        fields = ["code", "name", "demerit_points"]


class PlateSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # "source" is a Field attribute, so the fields are listed here rather than declared.
        return {
            "key": serializers.CharField(source="plate_key"),
            "display": serializers.CharField(source="plate_display"),
            "source": serializers.CharField(source="plate_source"),
            "confidence": serializers.FloatField(source="plate_confidence", allow_null=True),
        }


class VehicleBriefSerializer(serializers.Serializer):
    registration = serializers.CharField()
    vehicle_class = serializers.CharField()
    make = serializers.CharField()
    model = serializers.CharField()
    colour = serializers.CharField()


class OwnerSerializer(serializers.Serializer):
    """CNIC, phone and address are masked unless the caller's role needs them."""

    name = serializers.CharField()
    cnic = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    masked = serializers.SerializerMethodField()

    def _unmasked(self) -> bool:
        return bool(self.context.get("unmasked"))

    def get_cnic(self, owner: Any) -> str:
        return str(owner.cnic) if self._unmasked() else mask_cnic(owner.cnic)

    def get_phone(self, owner: Any) -> str:
        return str(owner.phone) if self._unmasked() else mask_phone(owner.phone)

    def get_address(self, owner: Any) -> str:
        return str(owner.address) if self._unmasked() else mask_address(owner.address)

    def get_masked(self, owner: Any) -> bool:
        return not self._unmasked()


class EvidenceEventSerializer(serializers.Serializer):
    event = serializers.IntegerField(source="event_id")
    camera = serializers.CharField(source="event.camera.code")
    captured_at = serializers.DateTimeField(source="event.captured_at")
    is_duplicate = serializers.BooleanField()


class ChallanSerializer(serializers.ModelSerializer):
    """A case as TRACS and the back office see it."""

    offence = OffenceBriefSerializer()
    plate = PlateSerializer(source="*")
    vehicle = VehicleBriefSerializer(allow_null=True)
    owner = OwnerSerializer(allow_null=True)
    camera = serializers.CharField(source="event.camera.code")
    flags = serializers.ListField(child=serializers.ChoiceField(choices=Flag.choices))

    class Meta:
        model = Challan
        fields = [
            "id",
            "number",
            "state",
            "offence",
            "amount_rs",
            "points",
            "captured_at",
            "camera",
            "plate",
            "vehicle",
            "owner",
            "flags",
            "issued_at",
            "served_at",
            "discount_until",
            "due_at",
            "paid_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ChallanEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)

    class Meta:
        model = ChallanEvent
        fields = [
            "id",
            "transition",
            "from_state",
            "to_state",
            "actor",
            "actor_role",
            "reason",
            "data",
            "at",
        ]


class ChallanDetailSerializer(ChallanSerializer):
    """For the review screens: candidates, reasons, evidence and the audit trail too."""

    manual_check_reasons = serializers.ListField(child=serializers.CharField())
    candidates = serializers.JSONField()
    observed_class = serializers.CharField()
    evidence = EvidenceEventSerializer(many=True)
    history = ChallanEventSerializer(many=True)

    class Meta(ChallanSerializer.Meta):
        fields = [
            *ChallanSerializer.Meta.fields,
            "observed_class",
            "manual_check_reasons",
            "candidates",
            "evidence",
            "history",
        ]
        read_only_fields = fields


class FeedItemSerializer(serializers.ModelSerializer):
    challan = serializers.IntegerField(source="challan_id")
    number = serializers.CharField(source="challan.number", allow_null=True)
    plate_key = serializers.CharField(source="challan.plate_key")

    class Meta:
        model = ChallanEvent
        fields = [
            "id",
            "challan",
            "number",
            "plate_key",
            "transition",
            "from_state",
            "to_state",
            "actor_role",
            "at",
        ]


class FeedSerializer(serializers.Serializer):
    results = FeedItemSerializer(many=True)
    next_since = serializers.IntegerField(help_text="Pass as `since` to get what follows.")
    has_more = serializers.BooleanField()


class FeedQuerySerializer(serializers.Serializer):
    since = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=200)


class ScheduleQuerySerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False, help_text="Default: now.")


class ReviewQueueQuerySerializer(serializers.Serializer):
    flag = serializers.MultipleChoiceField(choices=Flag.choices, required=False)


# --- Transition inputs.


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, default="", max_length=2000)


class RequiredReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ConfirmPlateInputSerializer(serializers.Serializer):
    plate_key = serializers.CharField(max_length=20, required=False, allow_blank=True)
    vehicle = serializers.IntegerField(required=False, help_text="A candidate's vehicle id.")
    reason = serializers.CharField(allow_blank=True, default="", max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("plate_key") and not attrs.get("vehicle"):
            raise serializers.ValidationError({"plate_key": "give the plate or a vehicle"})
        return attrs


class DecideContestInputSerializer(serializers.Serializer):
    upheld = serializers.BooleanField(help_text="true: the challan stands; false: cancelled.")
    reason = serializers.CharField(max_length=2000)


class ChallanNumberSerializer(serializers.Serializer):
    number = serializers.CharField()
