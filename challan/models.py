"""Offences, fines over time, and the challan state machine with its audit trail.

Transitions are declared here (what may follow what, and who may ask for it);
they are called only from `challan.services`, which locks the row, records a
`ChallanEvent` and saves in one transaction.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from challan.permissions import Role, role_permission

# --- The offence schedule (data, edited in the admin, seeded by a data migration).


class Offence(models.Model):
    code = models.SlugField(
        max_length=40, unique=True, help_text="Sent by cameras, e.g. over_speeding."
    )
    name = models.CharField(max_length=120)
    legal_reference = models.CharField(max_length=200, blank=True)
    demerit_points = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class OffenceFine(models.Model):
    """The fine for one offence and one vehicle class over a period.

    An empty `vehicle_class` is the offence's fine for any class not listed.
    A challan copies its amount when it is opened, so a new row never rewrites
    old challans.
    """

    # Amended 12th Schedule: no fine below Rs 5,000. A change in law is a migration.
    MINIMUM_FINE_RS = 5000

    offence = models.ForeignKey(Offence, on_delete=models.PROTECT, related_name="fines")
    vehicle_class = models.CharField(
        max_length=30,
        blank=True,
        help_text="A registry vehicle class; empty means any other class.",
    )
    amount_rs = models.PositiveIntegerField()
    effective_from = models.DateTimeField()
    effective_to = models.DateTimeField(null=True, blank=True, help_text="Exclusive; empty = open.")
    notification = models.CharField(max_length=200, blank=True, help_text="The gazette or order.")

    class Meta:
        ordering: ClassVar = ["offence__code", "vehicle_class", "-effective_from"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(amount_rs__gte=5000),
                name="offence_fine_not_below_minimum",
                violation_error_message="No fine may be below Rs 5,000 (amended 12th Schedule).",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gt=models.F("effective_from")),
                name="offence_fine_period_forward",
                violation_error_message="effective_to must be after effective_from.",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["offence", "vehicle_class", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.offence.code}/{self.vehicle_class or '*'} Rs {self.amount_rs} from {self.effective_from:%Y-%m-%d}"

    def clean(self) -> None:
        # Two fines for one offence and class may not be in force at the same moment.
        overlapping = OffenceFine.objects.filter(
            offence_id=self.offence_id, vehicle_class=self.vehicle_class
        ).exclude(pk=self.pk)
        if self.effective_to is not None:
            overlapping = overlapping.filter(effective_from__lt=self.effective_to)
        overlapping = overlapping.filter(
            Q(effective_to__isnull=True) | Q(effective_to__gt=self.effective_from)
        )
        if self.offence_id and overlapping.exists():
            raise ValidationError(
                {"effective_from": "Another fine for this offence and class is in force then."}
            )


# --- The challan.


class ChallanState(models.TextChoices):
    NEEDS_PLATE_CHECK = "needs_plate_check", "Needs plate check"
    PENDING_REVIEW = "pending_review", "Pending review"
    REJECTED = "rejected", "Rejected"
    APPROVED = "approved", "Approved"
    ISSUED = "issued", "Issued"
    SERVED = "served", "Served"
    PAID = "paid", "Paid"
    CONTESTED = "contested", "Contested"
    CANCELLED = "cancelled", "Cancelled"
    OVERDUE = "overdue", "Overdue"
    ESCALATED = "escalated", "Escalated"
    WAIVED = "waived", "Waived"
    CLOSED = "closed", "Closed"


S = ChallanState

# States in which an event of the same vehicle and offence joins the case instead of opening one.
DUPLICATE_TARGET_STATES = [s for s in S.values if s not in (S.REJECTED, S.CANCELLED)]
# A case a reviewer still has to decide on.
REVIEW_STATES = [S.NEEDS_PLATE_CHECK, S.PENDING_REVIEW]


class PlateSource(models.TextChoices):
    ANPR = "anpr", "ANPR reading"
    CAMERA = "camera", "Camera's own reading (unverified)"
    NONE = "none", "No reading"
    REVIEWER = "reviewer", "Entered by a reviewer"


class Flag(models.TextChoices):
    """What the reviewer is shown; each is a boolean column `flag_<value>` so queues filter on it."""

    NO_MATCH = "no_match", "No registry match"
    CANDIDATES = "candidates", "Several registry candidates"
    CLASS_MISMATCH = "class_mismatch", "Vehicle class differs from the registry (cloned plate?)"
    HOTLIST = "hotlist", "Hotlist hit (stolen or wanted)"
    EXEMPT = "exempt", "Exempt vehicle"
    SALE_PENDING = "sale_pending", "Sale pending (inquiry mode)"
    DUPLICATE = "duplicate", "Several events joined into this case"
    MANUAL_CHECK = "manual_check", "Plate reading needs a manual check"


class Challan(ConcurrentTransitionMixin, models.Model):
    state = FSMField(
        choices=ChallanState.choices,
        default=ChallanState.NEEDS_PLATE_CHECK,
        protected=True,
        db_index=True,
    )
    number = models.CharField(max_length=24, unique=True, null=True, blank=True)

    # The violation: the first event; later duplicates join through ChallanEvidence.
    event = models.ForeignKey(
        "anpr.ViolationEvent", on_delete=models.PROTECT, related_name="+", help_text="First event."
    )
    offence = models.ForeignKey(Offence, on_delete=models.PROTECT, related_name="challans")
    captured_at = models.DateTimeField(db_index=True)

    # The plate as decided so far, and where it came from.
    plate_key = models.CharField(max_length=20, blank=True, db_index=True)
    plate_display = models.CharField(max_length=30, blank=True)
    plate_source = models.CharField(max_length=10, choices=PlateSource.choices)
    plate_confidence = models.FloatField(null=True, blank=True)
    manual_check_reasons = models.JSONField(default=list, blank=True)
    observed_class = models.CharField(max_length=30, blank=True)

    # The registry at the moment of the violation, never today's.
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.PROTECT, null=True, blank=True, related_name="challans"
    )
    owner = models.ForeignKey(
        "vehicles.Owner", on_delete=models.PROTECT, null=True, blank=True, related_name="challans"
    )
    ownership = models.ForeignKey(
        "vehicles.Ownership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    vehicle_class = models.CharField(max_length=30, blank=True, help_text="Registry class.")
    candidates = models.JSONField(default=list, blank=True, help_text="Registry candidates shown.")

    # Money snapshot: the fine in force at captured_at for the registry class.
    offence_fine = models.ForeignKey(
        OffenceFine, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount_rs = models.PositiveIntegerField(null=True, blank=True)
    points = models.PositiveSmallIntegerField(default=0)

    flag_no_match = models.BooleanField(default=False)
    flag_candidates = models.BooleanField(default=False)
    flag_class_mismatch = models.BooleanField(default=False)
    flag_hotlist = models.BooleanField(default=False)
    flag_exempt = models.BooleanField(default=False)
    flag_sale_pending = models.BooleanField(default=False)
    flag_duplicate = models.BooleanField(default=False)
    flag_manual_check = models.BooleanField(default=False)

    # Clocks: start when the notice is served; paused while contested.
    issued_at = models.DateTimeField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    discount_until = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    contested_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_amount_rs = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-captured_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["state", "captured_at"]),
            models.Index(fields=["vehicle", "offence", "captured_at"]),
        ]

    def __str__(self) -> str:
        return self.number or f"case {self.pk}"

    @property
    def flags(self) -> list[str]:
        return [f for f in Flag.values if getattr(self, f"flag_{f}")]

    # Transitions only change the state; services set fields, lock, audit and save.

    @transition(
        field=state,
        source=S.NEEDS_PLATE_CHECK,
        target=S.PENDING_REVIEW,
        permission=role_permission(Role.REVIEWER, Role.SUPERVISOR),
    )
    def confirm_plate(self) -> None: ...

    @transition(
        field=state,
        source=S.PENDING_REVIEW,
        target=S.APPROVED,
        permission=role_permission(Role.REVIEWER, Role.SUPERVISOR),
    )
    def approve(self) -> None: ...

    @transition(
        field=state,
        source=[S.NEEDS_PLATE_CHECK, S.PENDING_REVIEW],
        target=S.REJECTED,
        permission=role_permission(Role.REVIEWER, Role.SUPERVISOR),
    )
    def reject(self) -> None: ...

    @transition(
        field=state,
        source=[S.REJECTED, S.APPROVED],
        target=S.PENDING_REVIEW,
        permission=role_permission(Role.SUPERVISOR),
    )
    def reopen(self) -> None: ...

    @transition(
        field=state,
        source=S.APPROVED,
        target=S.ISSUED,
        permission=role_permission(Role.SYSTEM, Role.SUPERVISOR),
    )
    def issue(self) -> None: ...

    @transition(
        field=state,
        source=S.ISSUED,
        target=S.SERVED,
        permission=role_permission(Role.SYSTEM, Role.SUPERVISOR),
    )
    def serve(self) -> None: ...

    @transition(
        field=state,
        source=[S.ISSUED, S.SERVED, S.OVERDUE, S.ESCALATED],
        target=S.PAID,
        permission=role_permission(Role.SYSTEM),
    )
    def pay(self) -> None: ...

    @transition(
        field=state,
        source=[S.ISSUED, S.SERVED, S.OVERDUE],
        target=S.CONTESTED,
        permission=role_permission(Role.APPEALS_OFFICER, Role.SYSTEM),
    )
    def contest(self) -> None: ...

    @transition(
        field=state,
        source=S.CONTESTED,
        target=RETURN_VALUE(S.SERVED, S.CANCELLED),
        permission=role_permission(Role.APPEALS_OFFICER),
    )
    def decide_contest(self, *, upheld: bool) -> str:
        return S.SERVED if upheld else S.CANCELLED

    @transition(
        field=state,
        source=[S.APPROVED, S.ISSUED, S.SERVED, S.OVERDUE, S.ESCALATED],
        target=S.CANCELLED,
        permission=role_permission(Role.SUPERVISOR),
    )
    def cancel(self) -> None: ...

    @transition(
        field=state,
        source=S.SERVED,
        target=S.OVERDUE,
        permission=role_permission(Role.SYSTEM),
    )
    def mark_overdue(self) -> None: ...

    @transition(
        field=state,
        source=S.OVERDUE,
        target=S.ESCALATED,
        permission=role_permission(Role.SYSTEM, Role.SUPERVISOR),
    )
    def escalate(self) -> None: ...

    @transition(
        field=state,
        source=[S.ISSUED, S.SERVED],
        target=S.WAIVED,
        permission=role_permission(Role.SUPERVISOR),
    )
    def waive(self) -> None: ...

    @transition(
        field=state,
        source=[S.PAID, S.WAIVED, S.CANCELLED],
        target=S.CLOSED,
        permission=role_permission(Role.SYSTEM, Role.SUPERVISOR),
    )
    def close(self) -> None: ...


class ChallanEvidence(models.Model):
    """One camera event belongs to at most one case; duplicates join the first one's case."""

    challan = models.ForeignKey(Challan, on_delete=models.PROTECT, related_name="evidence")
    event = models.OneToOneField(
        "anpr.ViolationEvent", on_delete=models.PROTECT, related_name="challan_evidence"
    )
    is_duplicate = models.BooleanField(default=False)
    attached_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "challan evidence"
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"event {self.event_id} -> case {self.challan_id}"


class AppendOnlyQuerySet(models.QuerySet["ChallanEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("challan events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("challan events are append-only")


class ChallanEvent(models.Model):
    """The audit trail of a case: one row per transition, never updated or deleted.

    Also the source of the TRACS status feed (ordered by id).
    """

    challan = models.ForeignKey(Challan, on_delete=models.PROTECT, related_name="history")
    transition = models.CharField(max_length=40)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system acted.",
    )
    actor_role = models.CharField(max_length=30)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.challan_id}: {self.from_state or '-'} -> {self.to_state}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("challan events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("challan events are append-only")


class ChallanNumberCounter(models.Model):
    """The last sequence handed out per prefix and year; locked while a number is allocated."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["prefix", "year"], name="challan_counter_one_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class AlertKind(models.TextChoices):
    HOTLIST = "hotlist", "Hotlist hit"


class Alert(models.Model):
    """For the command centre: a hotlisted (stolen or wanted) vehicle was seen by a camera."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices, default=AlertKind.HOTLIST)
    challan = models.ForeignKey(
        Challan, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    event = models.ForeignKey("anpr.ViolationEvent", on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    plate_key = models.CharField(max_length=20, blank=True)
    captured_at = models.DateTimeField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["kind", "event"], name="alert_one_per_event_and_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.plate_key} at {self.captured_at:%Y-%m-%d %H:%M}"
