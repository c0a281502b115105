"""Admin: the offence schedule is edited here; cases and their audit trail are read-only.

State changes never happen in the admin: they go through `challan.services`
(the review API and screens), which lock, check roles and audit.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from challan.models import Alert, Challan, ChallanEvent, ChallanEvidence, Offence, OffenceFine
from vehicles.masking import mask_cnic


class OffenceFineInline(admin.TabularInline):
    model = OffenceFine
    extra = 0
    fields = ["vehicle_class", "amount_rs", "effective_from", "effective_to", "notification"]
    ordering = ["vehicle_class", "-effective_from"]


@admin.register(Offence)
class OffenceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "demerit_points", "legal_reference", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]
    inlines = [OffenceFineInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # challans refer to offences; deactivate instead


@admin.register(OffenceFine)
class OffenceFineAdmin(admin.ModelAdmin):
    list_display = ["offence", "vehicle_class", "amount_rs", "effective_from", "effective_to"]
    list_filter = ["offence", "vehicle_class"]
    date_hierarchy = "effective_from"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChallanEvidenceInline(ReadOnlyInline):
    model = ChallanEvidence
    fields = readonly_fields = ("event", "is_duplicate", "attached_at")


class ChallanEventInline(ReadOnlyInline):
    model = ChallanEvent
    fields = readonly_fields = (
        "at",
        "transition",
        "from_state",
        "to_state",
        "actor",
        "actor_role",
        "reason",
    )
    ordering = ["id"]


@admin.register(Challan)
class ChallanAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "state",
        "offence",
        "plate_display",
        "captured_at",
        "amount_rs",
        "owner_masked",
    ]
    list_filter = [
        "state",
        "offence",
        "flag_no_match",
        "flag_candidates",
        "flag_class_mismatch",
        "flag_hotlist",
        "flag_exempt",
        "flag_sale_pending",
        "flag_duplicate",
        "flag_manual_check",
    ]
    search_fields = ["number", "plate_key"]
    date_hierarchy = "captured_at"
    list_select_related = ["offence", "owner"]
    inlines = [ChallanEvidenceInline, ChallanEventInline]

    @admin.display(description="owner")
    def owner_masked(self, obj: Challan) -> str:
        return f"{obj.owner.name} ({mask_cnic(obj.owner.cnic)})" if obj.owner else "-"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Challan._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChallanEvent)
class ChallanEventAdmin(admin.ModelAdmin):
    list_display = ["id", "challan", "transition", "from_state", "to_state", "actor_role", "at"]
    list_filter = ["transition", "to_state", "actor_role"]
    search_fields = ["challan__number", "reason"]
    list_select_related = ["challan"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ChallanEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["kind", "plate_key", "captured_at", "challan", "acknowledged_at"]
    list_filter = ["kind", "acknowledged_at"]
    search_fields = ["plate_key"]
    readonly_fields = [
        "kind",
        "challan",
        "event",
        "vehicle",
        "plate_key",
        "captured_at",
        "details",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
