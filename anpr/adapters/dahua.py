"""Dahua ITC traffic events (`TrafficJunction`, `TrafficRunRedLight`, `TrafficOverSpeed`...).

The event is Dahua's event JSON as the ITC's event stream and platform upload write
it: `{"Code": ..., "Action": "Pulse", "Data": {"EventID", "GroupID", "UTC", "RealUTC",
"Object": {"Text": plate, ...}, "TrafficCar": {"PlateNumber", "Speed", "Lane",
"UpperSpeedLimit", "MachineName", ...}}}`, alone or inside the
`client.notifyEventStream` envelope (`params.eventList`). Pictures come either
base64 in `"Images": [{"Type": "Global" | "Plate" | "Vehicle", "Content": ...}]` next to
the event, or as `multipart/form-data` files next to a JSON part named `event`.

Dahua's `UTC` field is the camera's local wall clock written as epoch seconds (a known
quirk); `RealUTC`, when present, is the true instant. Without it the local clock is
read in the deployment's time zone (settings.TIME_ZONE, Asia/Karachi).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from anpr.adapters import (
    LANE_VIOLATION,
    MOBILE_PHONE,
    NO_HELMET,
    NO_SEATBELT,
    OVER_SPEEDING,
    RED_LIGHT,
    WRONG_WAY,
    AdapterError,
    VendorEvent,
    vehicle_class_for,
)
from anpr.services import ImageUpload

EVENT_CODES: dict[str, str | None] = {
    "TrafficJunction": None,  # a passage: a violation only if its data says so
    "TrafficRunRedLight": RED_LIGHT,
    "TrafficOverSpeed": OVER_SPEEDING,
    "TrafficRetrograde": WRONG_WAY,
    "TrafficWrongRoute": LANE_VIOLATION,
    "TrafficCrossLane": LANE_VIOLATION,
    "TrafficOverLine": LANE_VIOLATION,
    "TrafficWithoutSafeBelt": NO_SEATBELT,
    "TrafficDriverCallingPhone": MOBILE_PHONE,
    "TrafficNonMotorWithoutSafeHat": NO_HELMET,
}
IMAGE_KINDS = {"global": "scene", "scene": "scene", "plate": "plate"}


def _number(value: Any, where: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise AdapterError(f"not a number: {value!r}", field=where) from None


def _positive_int(value: Any, where: str) -> int | None:
    number = _number(value, where)
    return int(number) if number is not None and number > 0 else None


def _image_kind(name: str) -> str:
    lowered = name.lower()
    for word, kind in IMAGE_KINDS.items():
        if word in lowered:
            return kind
    return "other"


def _single_event(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise AdapterError("expected a JSON object", field="event")
    events = (payload.get("params") or {}).get("eventList") if "params" in payload else None
    if events is not None:
        traffic = [
            e
            for e in events
            if isinstance(e, dict) and str(e.get("Code", "")).startswith("Traffic")
        ]
        if len(traffic) != 1:
            raise AdapterError(
                f"expected one traffic event in params.eventList, got {len(traffic)}",
                field="params.eventList",
            )
        return traffic[0]
    return payload


def _captured_at(data: Mapping[str, Any]) -> datetime:
    real = data.get("RealUTC")
    millis = int(data.get("UTCMS") or 0)
    try:
        if real:
            return datetime.fromtimestamp(int(real) + millis / 1000, tz=UTC)
        local = data.get("UTC")
        if not local:
            raise AdapterError("no UTC or RealUTC time", field="Data.UTC")
        wall = datetime.fromtimestamp(int(local) + millis / 1000, tz=UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        raise AdapterError("not an epoch time", field="Data.UTC") from None
    return wall.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


def dahua_event(*, payload: Any, files: Mapping[str, bytes] | None = None) -> VendorEvent:
    """Map one Dahua traffic event (and its pictures) onto a VendorEvent."""
    event = _single_event(payload)
    code = str(event.get("Code") or "")
    data = event.get("Data")
    if not isinstance(data, dict):
        raise AdapterError("missing or not an object", field="Data")
    car = data.get("TrafficCar") or {}
    obj = data.get("Object") or {}
    device_id = str(car.get("MachineName") or event.get("DeviceSerial") or "").lower()
    if code not in EVENT_CODES or event.get("Action", "Pulse") not in ("Pulse", "Start"):
        return VendorEvent(
            device_id=device_id,
            camera_event_id="",
            captured_at=datetime.min,
            offence_code=None,
            ignored=f"event {code or '?'} ({event.get('Action')}) is not a traffic violation",
        )

    speed = _number(car.get("Speed") or data.get("Speed"), "Data.TrafficCar.Speed")
    if speed is not None and speed <= 0:
        speed = None
    limit = _positive_int(car.get("UpperSpeedLimit"), "Data.TrafficCar.UpperSpeedLimit")
    offence = EVENT_CODES[code]
    if offence is None and speed is not None and limit and speed > limit:
        offence = OVER_SPEEDING
    plate = str(car.get("PlateNumber") or obj.get("Text") or "").strip()
    confidence = obj.get("Confidence")
    plate_confidence = (
        min(float(confidence), 100.0) / 100
        if isinstance(confidence, int | float) and 0 < confidence <= 100 and plate
        else None
    )
    group, number = data.get("GroupID"), data.get("EventID")
    if number is None:
        raise AdapterError("missing", field="Data.EventID")
    # EventID wraps around; with the group id (one per capture) it names the capture.
    event_id = f"{group}-{number}" if group else f"{number}-{data.get('UTC')}"

    images: list[ImageUpload] = []
    for index, item in enumerate(event.get("Images") or payload.get("Images") or []):
        if not isinstance(item, dict):
            raise AdapterError("expected an object", field=f"Images.{index}")
        kind_name = str(item.get("Type") or f"image{index}")
        content = item.get("Content") or item.get("Data") or ""
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise AdapterError("not valid base64", field=f"Images.{index}.Content") from None
        images.append(ImageUpload(name=kind_name, kind=_image_kind(kind_name), data=raw))
    for name, raw in (files or {}).items():
        images.append(ImageUpload(name=name, kind=_image_kind(name), data=raw))

    return VendorEvent(
        device_id=device_id,
        camera_event_id=event_id[:100],
        captured_at=_captured_at(data),
        offence_code=offence,
        speed_kmh=speed,
        speed_limit_kmh=limit,
        lane=_positive_int(car.get("Lane") or data.get("Lane"), "Data.TrafficCar.Lane"),
        plate_text=plate[:20],
        plate_confidence=plate_confidence,
        vehicle_class=vehicle_class_for(
            str(car.get("VehicleType") or (data.get("Vehicle") or {}).get("Category") or "")
        ),
        images=images,
    )
