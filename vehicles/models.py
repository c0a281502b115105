"""The vehicle registry: owners, vehicles, who owned what when, exemptions and the hotlist."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from vehicles.masking import mask_cnic

cnic_validator = RegexValidator(r"^[0-9]{13}$", "CNIC must be 13 digits without dashes.")
e164_validator = RegexValidator(r"^\+[1-9][0-9]{7,14}$", "Phone must be E.164, e.g. +923001234567.")
plate_key_validator = RegexValidator(r"^[A-Z0-9]+$", "Plate key is uppercase letters and digits.")


class Region(models.TextChoices):
    SINDH = "sindh", "Sindh"
    PUNJAB = "punjab", "Punjab"
    ICT = "ict", "Islamabad (ICT)"
    KP = "kp", "Khyber Pakhtunkhwa"
    BALOCHISTAN = "balochistan", "Balochistan"
    GB = "gb", "Gilgit-Baltistan"
    AJK = "ajk", "Azad Jammu & Kashmir"

    @classmethod
    def from_hint(cls, hint: str | None) -> Region | None:
        """A plate's region hint ("karachi" is Sindh) as a Region, or None."""
        if hint == "karachi":
            return cls.SINDH
        return cls(hint) if hint in cls.values else None


class VehicleClass(models.TextChoices):
    MOTORCYCLE = "motorcycle", "Motorcycle"
    CAR = "car", "Car"
    JEEP = "jeep", "Jeep / SUV"
    RICKSHAW = "rickshaw", "Rickshaw"
    VAN = "van", "Van"
    PICKUP = "pickup", "Pickup"
    BUS = "bus", "Bus"
    TRUCK = "truck", "Truck"
    TRAILER = "trailer", "Trailer"
    TRACTOR = "tractor", "Tractor"
    OTHER = "other", "Other"

    @classmethod
    def heavy(cls) -> frozenset[VehicleClass]:
        """Classes fined and blocked as heavy vehicles (bus, truck, trailer)."""
        return frozenset({cls.BUS, cls.TRUCK, cls.TRAILER})

    @property
    def is_heavy(self) -> bool:
        return self in VehicleClass.heavy()


class VehicleStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    STOLEN = "stolen", "Stolen"
    CANCELLED = "cancelled", "Cancelled"
    SALE_PENDING = "sale_pending", "Sale pending (inquiry mode)"


class Language(models.TextChoices):
    URDU = "ur", "Urdu"
    ENGLISH = "en", "English"


class Owner(models.Model):
    name = models.CharField(max_length=200)
    cnic = models.CharField(
        "CNIC", max_length=13, validators=[cnic_validator], help_text="13 digits."
    )
    phone = models.CharField(max_length=16, blank=True, validators=[e164_validator])
    address = models.TextField(blank=True, help_text="Postal address for notices.")
    preferred_language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.URDU
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        # A constraint, not unique=True: no extra LIKE index on PostgreSQL (lookups are exact).
        constraints = [models.UniqueConstraint(fields=["cnic"], name="owner_cnic_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({mask_cnic(self.cnic)})"


class Vehicle(models.Model):
    registration = models.CharField(max_length=20, help_text="As printed, e.g. LEA-12-2545.")
    plate_key = models.CharField(
        max_length=12,
        validators=[plate_key_validator],
        help_text="Normalized plate: uppercase letters and digits (vehicles.plates).",
    )
    region = models.CharField(max_length=12, choices=Region.choices)
    vehicle_class = models.CharField(max_length=12, choices=VehicleClass.choices)
    make = models.CharField(max_length=60, blank=True)
    model = models.CharField(max_length=60, blank=True)
    colour = models.CharField(max_length=40, blank=True)
    engine_cc = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=VehicleStatus.choices, default=VehicleStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plate_key"]
        # A constraint, not unique=True: no extra LIKE index on PostgreSQL (lookups are exact).
        constraints = [
            models.UniqueConstraint(fields=["plate_key"], name="vehicle_plate_key_unique")
        ]

    def __str__(self) -> str:
        return self.registration

    @property
    def is_heavy(self) -> bool:
        return self.vehicle_class in VehicleClass.heavy()


class Ownership(models.Model):
    """Who owned a vehicle over [valid_from, valid_to); valid_to null is the current owner."""

    # No index of its own: ownership_vehicle_at (vehicle, -valid_from) serves every lookup by vehicle.
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="ownerships", db_index=False
    )
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="ownerships")
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["vehicle_id", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(valid_to__isnull=True),
                name="ownership_one_open_per_vehicle",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="ownership_valid_to_after_from",
            ),
        ]
        indexes = [
            # "owner of vehicle V at instant T": vehicle = V and valid_from <= T, latest first.
            models.Index(fields=["vehicle", "-valid_from"], name="ownership_vehicle_at"),
        ]

    def __str__(self) -> str:
        until = self.valid_to.date().isoformat() if self.valid_to else "now"
        return f"{self.vehicle_id} owned by {self.owner_id} {self.valid_from.date()}..{until}"


class Exemption(models.Model):
    """Audited whitelist: a vehicle not to be challaned between valid_from and expires_at."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="exemptions")
    reason = models.TextField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approved_exemptions"
    )
    valid_from = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("valid_from")),
                name="exemption_expires_after_from",
            ),
        ]
        indexes = [models.Index(fields=["vehicle", "valid_from"], name="exemption_vehicle_at")]

    def __str__(self) -> str:
        return f"exemption {self.vehicle_id} until {self.expires_at.date()}"


class HotlistKind(models.TextChoices):
    STOLEN = "stolen", "Stolen"
    WANTED = "wanted", "Wanted"


class Hotlist(models.Model):
    """A plate (and the registered vehicle, when known) reported stolen or wanted.

    plate_key is always set, so a cloned plate on another vehicle still hits.
    """

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, null=True, blank=True, related_name="hotlist_entries"
    )
    plate_key = models.CharField(max_length=12, validators=[plate_key_validator])
    kind = models.CharField(max_length=8, choices=HotlistKind.choices)
    source = models.CharField(max_length=100, help_text="e.g. CPLC, police station, Excise.")
    since = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-since"]
        verbose_name_plural = "hotlist"
        constraints = [
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True) | Q(cleared_at__gt=models.F("since")),
                name="hotlist_cleared_after_since",
            ),
        ]
        indexes = [models.Index(fields=["plate_key", "since"], name="hotlist_plate_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.plate_key} since {self.since.date()}"
