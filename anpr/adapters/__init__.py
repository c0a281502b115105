"""Vendor formats mapped onto the one ingest: each adapter turns a camera's own payload
into a `VendorEvent`; `anpr.services.vendor_event_ingest` does the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from anpr.services import ImageUpload
from config.api import ApplicationError

# Offence codes as the ingest API takes them (the offence schedule lives in challan).
OVER_SPEEDING = "over_speeding"
RED_LIGHT = "red_light"
WRONG_WAY = "wrong_way"
LANE_VIOLATION = "lane_violation"
NO_HELMET = "no_helmet"
NO_SEATBELT = "no_seatbelt"
MOBILE_PHONE = "mobile_phone"


class AdapterError(ApplicationError):
    """The vendor payload is malformed; `field` names the element or key at fault."""


@dataclass
class VendorEvent:
    device_id: str  # MAC / serial as the camera reports it ("" when absent)
    camera_event_id: str
    captured_at: datetime
    offence_code: str | None  # None: the payload names no violation
    speed_kmh: Decimal | None = None
    speed_limit_kmh: int | None = None
    lane: int | None = None
    plate_text: str = ""
    plate_confidence: float | None = None
    images: list[ImageUpload] = field(default_factory=list)
    ignored: str = ""  # why this notification is not an event (heartbeat, other type)
