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
    vehicle_class: str = ""  # vehicles.VehicleClass value, "" when the camera cannot tell
    images: list[ImageUpload] = field(default_factory=list)
    ignored: str = ""  # why this notification is not an event (heartbeat, other type)


# Vendor vehicle types (lower-cased, both vendors' spellings) -> vehicles.VehicleClass values.
VEHICLE_CLASSES = {
    "car": "car",
    "sedan": "car",
    "salooncar": "car",
    "smallcar": "car",
    "suv": "jeep",
    "mpv": "jeep",
    "suvmpv": "jeep",
    "van": "van",
    "minibus": "van",
    "microbus": "van",
    "pickup": "pickup",
    "pickuptruck": "pickup",
    "bus": "bus",
    "largebus": "bus",
    "passengercar": "bus",
    "truck": "truck",
    "smalltruck": "truck",
    "midtruck": "truck",
    "largetruck": "truck",
    "tankcar": "truck",
    "motorcycle": "motorcycle",
    "twowheelvehicle": "motorcycle",
    "threewheelvehicle": "rickshaw",
    "tricycle": "rickshaw",
}


def vehicle_class_for(vendor_type: str) -> str:
    return VEHICLE_CLASSES.get(vendor_type.replace("-", "").replace("_", "").lower(), "")
