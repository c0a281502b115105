"""Admin for cameras, ingest clients and the evidence they send (evidence is read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from anpr.models import (
    Camera,
    EvidenceImage,
    IdempotencyRecord,
    IngestClient,
    PlateRead,
    ViolationEvent,
)


class ReadOnlyMixin:
    """Evidence and audit rows: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "district",
        "road",
        "speed_limit_kmh",
        "status",
        "last_event_at",
    ]
    list_filter = ["kind", "district", "status"]
    search_fields = ["code", "name", "road", "device_id"]
    readonly_fields = ["last_event_at", "created_at"]


@admin.register(IngestClient)
class IngestClientAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "is_active", "camera_count", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "user__username"]
    filter_horizontal = ["cameras"]
    raw_id_fields = ["user"]

    @admin.display(description="cameras")
    def camera_count(self, obj: IngestClient) -> int:
        return obj.cameras.count()


IMAGE_FIELDS: tuple[str, ...] = (
    "preview",
    "kind",
    "name",
    "sha256",
    "size_bytes",
    "width",
    "height",
    "content_type",
)
READING_FIELDS: tuple[str, ...] = (
    "source",
    "display",
    "text",
    "key",
    "confidence",
    "char_confidences",
    "box",
    "model_version",
    "timings",
    "manual_check_reasons",
    "created_at",
)


class EvidenceImageInline(ReadOnlyMixin, admin.TabularInline):
    model = EvidenceImage
    extra = 0
    fields = readonly_fields = IMAGE_FIELDS

    @admin.display(description="image")
    def preview(self, obj: EvidenceImage) -> str:
        return format_html(
            '<a href="{0}" target="_blank"><img src="{0}" style="max-height:160px" alt="{1}"></a>',
            obj.file.url,
            obj.kind,
        )


class PlateReadInline(ReadOnlyMixin, admin.StackedInline):
    model = PlateRead
    extra = 0
    fields = readonly_fields = READING_FIELDS


@admin.register(ViolationEvent)
class ViolationEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "thumbnail",
        "camera",
        "camera_event_id",
        "captured_at",
        "offence_code",
        "camera_plate_text",
        "plate",
        "status",
        "source",
        "received_at",
    ]
    list_filter = ["status", "source", "offence_code", "camera__district"]
    search_fields = ["camera_event_id", "camera__code", "camera_plate_text", "plate_read__key"]
    list_select_related = ["camera", "plate_read"]
    date_hierarchy = "captured_at"
    inlines = [PlateReadInline, EvidenceImageInline]
    readonly_fields = ["images_overview"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ViolationEvent]:
        return super().get_queryset(request).prefetch_related("images")

    @admin.display(description="scene")
    def thumbnail(self, obj: ViolationEvent) -> str:
        images = list(obj.images.all())  # prefetched: no query per row
        shown = next((i for i in images if i.kind == EvidenceImage.Kind.SCENE), None) or (
            images[0] if images else None
        )
        if shown is None:
            return "-"
        return format_html(
            '<img src="{}" style="max-height:48px" alt="{}">', shown.file.url, shown.kind
        )

    @admin.display(description="ANPR plate")
    def plate(self, obj: ViolationEvent) -> str:
        read = getattr(obj, "plate_read", None)
        return read.display or read.text if read else "-"

    @admin.display(description="images")
    def images_overview(self, obj: ViolationEvent) -> str:
        return format_html_join(
            " ",
            '<img src="{}" style="max-height:240px" title="{} sha256 {}">',
            ((i.file.url, i.kind, i.sha256) for i in obj.images.all()),
        )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["client", "key", "state", "response_status", "event", "created_at"]
    list_filter = ["state"]
    search_fields = ["key"]
