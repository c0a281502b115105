"""Hikvision ISAPI ANPR / traffic event notifications (the camera's "HTTP listening" upload).

The camera POSTs `multipart/form-data`: one XML part (`anpr.xml`, content type
`application/xml`) holding an `EventNotificationAlert`, then its JPEG pictures, each
part named after `ANPR/pictureInfoList/pictureInfo/fileName` (typically
`licensePlatePicture.jpg` and `detectionPicture.jpg`, sometimes `vehiclePicture.jpg`).
The XML namespace varies by firmware (hikvision.com/ver20, isapi.org/ver20,
psialliance), so elements are matched by local name.

XML is untrusted: parsed with defusedxml (no entities, no DTDs, no external fetches).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

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

EVENT_TYPES = {"anpr", "vehicledetection", "trafficviolation"}
PICTURE_KINDS = {
    "licenseplatepicture": "plate",
    "detectionpicture": "scene",
    "vehiclepicture": "other",
    "featurepicture": "other",
}
# Keywords of `illegalInfo/illegalName` / `illegalDescription` as the ITC firmwares write them.
ILLEGAL_KEYWORDS = [
    ("speed", OVER_SPEEDING),
    ("red", RED_LIGHT),
    ("retrograde", WRONG_WAY),
    ("wrong", WRONG_WAY),
    ("reverse", WRONG_WAY),
    ("lane", LANE_VIOLATION),
    ("line", LANE_VIOLATION),
    ("belt", NO_SEATBELT),
    ("helmet", NO_HELMET),
    ("phone", MOBILE_PHONE),
]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(parent: Element | None, name: str) -> Element | None:
    if parent is None:
        return None
    for child in parent:
        if _local(child.tag) == name:
            return child
    return None


def _text(parent: Element | None, *path: str) -> str:
    node = parent
    for name in path:
        node = _child(node, name)
    return (node.text or "").strip() if node is not None else ""


def xml_parse(data: bytes) -> Element:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise AdapterError(f"forbidden XML construct: {exc}", field="xml") from None
    except SafeET.ParseError as exc:
        raise AdapterError(f"malformed XML: {exc}", field="xml") from None
    if _local(root.tag) != "EventNotificationAlert":
        raise AdapterError(
            f"expected an EventNotificationAlert, got {_local(root.tag)}", field="xml"
        )
    return root


def _decimal(value: str, where: str) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise AdapterError(f"not a number: {value!r}", field=where) from None


def _int(value: str, where: str) -> int | None:
    number = _decimal(value, where)
    return int(number) if number is not None and number > 0 else None


def _offence(anpr: Element | None, speed: Decimal | None, limit: int | None) -> str | None:
    illegal = _child(anpr, "illegalInfo")
    words = " ".join(
        _text(illegal, name).lower()
        for name in ("illegalName", "illegalDescription", "illegalCode")
    )
    for keyword, code in ILLEGAL_KEYWORDS:
        if keyword in words:
            return code
    if speed is not None and limit and speed > limit:
        return OVER_SPEEDING
    return None


def hikvision_event(*, xml: bytes, files: Mapping[str, bytes]) -> VendorEvent:
    """Map one notification and its pictures (part name -> bytes) onto a VendorEvent."""
    root = xml_parse(xml)
    event_type = _text(root, "eventType")
    state = _text(root, "eventState").lower()
    device_id = _text(root, "macAddress").lower()
    if event_type.lower() not in EVENT_TYPES or state == "inactive":
        return VendorEvent(
            device_id=device_id,
            camera_event_id="",
            captured_at=datetime.min,
            offence_code=None,
            ignored=f"eventType {event_type or '?'} ({state or 'no state'}) is not a traffic event",
        )
    raw_time = _text(root, "dateTime")
    try:
        captured_at = datetime.fromisoformat(raw_time)
    except ValueError:
        raise AdapterError(f"not an ISO 8601 time: {raw_time!r}", field="dateTime") from None
    if captured_at.tzinfo is None:
        raise AdapterError("dateTime has no UTC offset", field="dateTime")

    anpr = _child(root, "ANPR")
    plate = _text(anpr, "licensePlate")
    if plate.lower() in ("unknown", "no plate", "noplate"):
        plate = ""
    confidence = _decimal(_text(anpr, "confidenceLevel"), "ANPR.confidenceLevel")
    speed = _decimal(
        _text(anpr, "vehicleInfo", "speed") or _text(anpr, "speed"), "ANPR.vehicleInfo.speed"
    )
    limit = _int(_text(anpr, "speedLimit"), "ANPR.speedLimit")
    lane = _int(_text(anpr, "laneNo") or _text(anpr, "line"), "ANPR.line")
    # The camera's UUID is its event identity; older firmwares lack it, and then the
    # channel, capture time and plate identify the notification (retransmissions included).
    event_id = _text(root, "UUID") or "-".join(
        filter(None, [_text(root, "channelID") or "1", raw_time, plate])
    )

    images = []
    pictures = _child(anpr, "pictureInfoList")
    for info in list(pictures) if pictures is not None else []:
        name = _text(info, "fileName")
        kind = PICTURE_KINDS.get(_text(info, "type").lower(), "other")
        if not name:
            continue
        if name not in files:
            raise AdapterError(f"picture {name} is listed but was not sent", field=name)
        images.append(ImageUpload(name=name, kind=kind, data=files[name]))
    listed = {image.name for image in images}
    for name, data in files.items():  # pictures sent but not listed (some firmwares)
        if name not in listed:
            kind = PICTURE_KINDS.get(name.split(".")[0].lower(), "other")
            images.append(ImageUpload(name=name, kind=kind, data=data))

    return VendorEvent(
        device_id=device_id,
        camera_event_id=event_id[:100],
        captured_at=captured_at,
        offence_code=_offence(anpr, speed, limit),
        speed_kmh=speed,
        speed_limit_kmh=limit,
        lane=lane,
        vehicle_class="motorcycle"
        if _text(anpr, "twoWheelVehicle").lower() == "yes"
        else vehicle_class_for(_text(anpr, "vehicleType")),
        plate_text=plate[:20],
        plate_confidence=min(max(float(confidence) / 100, 0.0), 1.0)
        if confidence is not None and plate
        else None,
        images=images,
    )
