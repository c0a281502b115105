"""Django admin for the registry: CNIC, phone and address masked in lists; search by plate."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from vehicles.identity import cnic_normalize
from vehicles.masking import mask_address, mask_cnic, mask_phone
from vehicles.models import Exemption, Hotlist, Owner, Ownership, Vehicle
from vehicles.plates import PlateFormatError, plate_normalize


class PlateSearchMixin:
    """Search by plate however it is typed: 'lea 12 2545' finds LEA-12-2545.

    A term that normalizes to a plate matches the key exactly (indexed); anything else
    falls back to the admin's search_fields.
    """

    plate_key_lookup = "plate_key"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if term:
            try:
                key = plate_normalize(term).key
            except PlateFormatError:
                pass
            else:
                return queryset.filter(**{self.plate_key_lookup: key}), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


class OwnershipInline(admin.TabularInline):
    model = Ownership
    extra = 0
    fields = ("owner", "valid_from", "valid_to")
    raw_id_fields = ("owner",)
    ordering = ("-valid_from",)


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ("name", "cnic_masked", "phone_masked", "address_masked", "preferred_language")
    list_filter = ("preferred_language",)
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")
    list_per_page = 50
    ordering = ("-id",)  # newest first, by the primary key: no sort of a million names per page
    show_full_result_count = False

    @admin.display(description="CNIC", ordering="cnic")
    def cnic_masked(self, obj: Owner) -> str:
        return mask_cnic(obj.cnic)

    @admin.display(description="Phone")
    def phone_masked(self, obj: Owner) -> str:
        return mask_phone(obj.phone)

    @admin.display(description="Address")
    def address_masked(self, obj: Owner) -> str:
        return mask_address(obj.address)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Owner], search_term: str
    ) -> tuple[QuerySet[Owner], bool]:
        """A full CNIC (with or without dashes) finds its owner; otherwise search by name."""
        try:
            cnic = cnic_normalize(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(cnic=cnic), False


@admin.register(Vehicle)
class VehicleAdmin(PlateSearchMixin, admin.ModelAdmin):
    list_display = (
        "registration",
        "region",
        "vehicle_class",
        "make",
        "model",
        "colour",
        "engine_cc",
        "status",
    )
    list_filter = ("region", "vehicle_class", "status")
    search_fields = ("registration", "make", "model")
    readonly_fields = ("created_at", "updated_at")
    inlines = (OwnershipInline,)
    list_per_page = 50
    show_full_result_count = False  # a million rows: skip the extra COUNT(*)


@admin.register(Ownership)
class OwnershipAdmin(PlateSearchMixin, admin.ModelAdmin):
    plate_key_lookup = "vehicle__plate_key"
    list_display = ("vehicle", "owner_name", "owner_cnic", "valid_from", "valid_to")
    list_select_related = ("vehicle", "owner")
    raw_id_fields = ("vehicle", "owner")
    search_fields = ("owner__name",)
    show_full_result_count = False

    @admin.display(description="Owner", ordering="owner__name")
    def owner_name(self, obj: Ownership) -> str:
        return obj.owner.name

    @admin.display(description="CNIC")
    def owner_cnic(self, obj: Ownership) -> str:
        return mask_cnic(obj.owner.cnic)


@admin.register(Exemption)
class ExemptionAdmin(PlateSearchMixin, admin.ModelAdmin):
    """The published whitelist. Rows are never deleted: end one by moving expires_at."""

    plate_key_lookup = "vehicle__plate_key"
    list_display = ("vehicle", "reason", "approved_by", "valid_from", "expires_at", "created_at")
    list_select_related = ("vehicle", "approved_by")
    list_filter = ("expires_at",)
    raw_id_fields = ("vehicle",)
    readonly_fields = ("approved_by", "created_at")
    search_fields = ("reason",)

    def save_model(self, request: HttpRequest, obj: Exemption, form: Any, change: bool) -> None:
        if not change:
            obj.approved_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Exemption | None = None) -> bool:
        return False


class HotlistActiveFilter(admin.SimpleListFilter):
    title = "active"
    parameter_name = "active"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Active"), ("no", "Cleared")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(~Q(cleared_at__isnull=True))
        return queryset


@admin.register(Hotlist)
class HotlistAdmin(PlateSearchMixin, admin.ModelAdmin):
    list_display = ("plate_key", "vehicle", "kind", "source", "since", "cleared_at")
    list_select_related = ("vehicle",)
    list_filter = ("kind", HotlistActiveFilter, "source")
    raw_id_fields = ("vehicle",)
    search_fields = ("source", "note")
    readonly_fields = ("created_at",)
