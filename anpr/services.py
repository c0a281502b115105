"""Writes for camera events: ingest (API and vendor adapters) and the plate-reading step.

Ingest is one transaction per request. The event row is inserted first, so a
replay of the same `(camera, camera_event_id)` fails on the unique constraint
before any file is written; evidence files are written inside the transaction and
deleted again if it does not commit. A process killed between writing a file and
committing leaves an orphan under `evidence/<day>/<event id>/` with no row: the
only case, and harmless (nothing points at it; a sweep can compare storage to rows).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from anpr import ingest_sql
from anpr.models import (
    Camera,
    EvidenceImage,
    IdempotencyRecord,
    IngestClient,
    PlateRead,
    ViolationEvent,
    evidence_upload_to,
)
from config.api import ApplicationError, Conflict, Forbidden, TooLarge, Unprocessable

if TYPE_CHECKING:
    from anpr.adapters import VendorEvent

logger = logging.getLogger(__name__)


class UnsupportedImage(ApplicationError):
    status_code = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class ImageUpload:
    """One image as received: the part/field name it came in, and its exact bytes."""

    name: str
    kind: str  # EvidenceImage.Kind
    data: bytes


@dataclass(frozen=True)
class ProbedImage:
    upload: ImageUpload
    sha256: str
    format: str  # "jpeg" | "png"
    width: int
    height: int


@dataclass(frozen=True)
class ViolationInput:
    camera: str
    camera_event_id: str
    captured_at: datetime
    offence_code: str
    speed_kmh: Decimal | None = None
    speed_limit_kmh: int | None = None
    lane: int | None = None
    camera_plate_text: str = ""
    camera_plate_confidence: float | None = None
    vehicle_class: str = ""


@dataclass
class IngestResult:
    status_code: int
    body: dict[str, Any]
    event_id: int | None
    replayed: bool = False


def image_kind_for(name: str) -> str:
    """`scene`, `plate`, anything else (`extra`, `extra_2`, `vehicle`...) is `other`."""
    base = name.split(".")[0].lower()
    if base in ("scene", "plate"):
        return base
    return EvidenceImage.Kind.OTHER


def image_from_base64(*, name: str, kind: str | None, content: str, field: str) -> ImageUpload:
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ApplicationError("not valid base64", field=field) from None
    return ImageUpload(name=name, kind=kind or image_kind_for(name), data=data)


def images_probe(images: Sequence[ImageUpload]) -> list[ProbedImage]:
    """Check count, bytes, format (by content, not name) and pixels; hash the original bytes."""
    from anpr.imaging import ImageError, image_probe

    max_images = settings.INGEST_MAX_IMAGES
    max_bytes = settings.INGEST_MAX_IMAGE_BYTES
    max_pixels = settings.INGEST_MAX_IMAGE_PIXELS
    if not images:
        raise ApplicationError("at least one image is required (scene, plate, ...)", field="images")
    if len(images) > max_images:
        raise ApplicationError(
            f"{len(images)} images sent; at most {max_images} per event", field="images"
        )
    probed = []
    for upload in images:
        where = f"images.{upload.name}"
        if len(upload.data) > max_bytes:
            raise TooLarge(f"{len(upload.data)} bytes; at most {max_bytes} per image", field=where)
        try:
            info = image_probe(upload.data, max_pixels=max_pixels)
        except ImageError as exc:
            message = str(exc)
            if "too large" in message:
                raise TooLarge(message, field=where) from None
            raise UnsupportedImage(f"{message} (JPEG and PNG only)", field=where) from None
        probed.append(
            ProbedImage(
                upload=upload,
                sha256=hashlib.sha256(upload.data).hexdigest(),
                format=info.format,
                width=info.width,
                height=info.height,
            )
        )
    return probed


def _fingerprint(data: ViolationInput, images: Sequence[ProbedImage]) -> str:
    # Canonical, so a retry with another multipart boundary or base64 line wrapping
    # (same event, same bytes) is recognised as the same request.
    canonical = {
        "camera": data.camera,
        "camera_event_id": data.camera_event_id,
        "captured_at": data.captured_at.isoformat(),
        "offence_code": data.offence_code,
        "speed_kmh": None if data.speed_kmh is None else str(data.speed_kmh),
        "speed_limit_kmh": data.speed_limit_kmh,
        "lane": data.lane,
        "camera_plate_text": data.camera_plate_text,
        "camera_plate_confidence": data.camera_plate_confidence,
        "vehicle_class": data.vehicle_class,
        "images": [[i.upload.name, i.upload.kind, i.sha256] for i in images],
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _camera_for_client(*, client: IngestClient, code: str) -> Camera:
    # One message for "unknown" and "someone else's": no probing for camera codes.
    camera = ingest_sql.client_camera(client=client, code=code)
    if camera is None:
        raise Forbidden("unknown camera, or not one of this client's cameras", field="camera")
    if camera.status == Camera.Status.RETIRED:
        raise Forbidden("camera is retired", field="camera")
    return camera


_offence_codes: tuple[float, frozenset[str]] = (0.0, frozenset())


def _active_offence_codes() -> frozenset[str] | None:
    """Active offence codes, cached per process for INGEST_OFFENCE_CACHE_SECONDS (hot path)."""
    global _offence_codes
    try:
        from challan.models import Offence
    except ImportError:  # the offence schedule is not installed: the case step checks later
        return None
    expires, codes = _offence_codes
    if time.monotonic() >= expires:
        codes = frozenset(Offence.objects.filter(active=True).values_list("code", flat=True))
        ttl = settings.INGEST_OFFENCE_CACHE_SECONDS
        _offence_codes = (time.monotonic() + ttl, codes)
    return codes


def _offence_check(*, code: str) -> None:
    codes = _active_offence_codes()
    if codes is not None and code not in codes:
        raise ApplicationError(f"unknown or inactive offence code {code!r}", field="offence_code")


def _accepted_body(event: ViolationEvent) -> dict[str, Any]:
    return {
        "event_id": event.pk,
        "status": ViolationEvent.Status.RECEIVED.value,
        "status_url": reverse("anpr:violation-status", kwargs={"pk": event.pk}),
    }


def _idempotency_claim(
    *, client: IngestClient, key: str, request_sha256: str
) -> IngestResult | None:
    """Claim `key` in its own committed transaction; or return the first answer to replay.

    Committed before the work starts, so a concurrent copy sees the claim at once and
    gets 409 instead of waiting for the first one to finish.
    """
    if len(key) > 255:
        raise ApplicationError("at most 255 characters", field="Idempotency-Key")
    try:
        with transaction.atomic():
            ingest_sql.rows_insert(
                [IdempotencyRecord(client=client, key=key, request_sha256=request_sha256)]
            )
        return None
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(client=client, key=key)
    if record.request_sha256 != request_sha256:
        raise Unprocessable(
            "this Idempotency-Key was already used with a different request body",
            field="Idempotency-Key",
        )
    if record.state == IdempotencyRecord.State.DONE:
        assert record.response_status is not None and record.event_id is not None
        return IngestResult(
            status_code=record.response_status,
            body=dict(record.response_body or {}),
            event_id=record.event_id,
            replayed=True,
        )
    stale = timezone.now() - timedelta(seconds=settings.INGEST_IDEMPOTENCY_IN_FLIGHT_SECONDS)
    # An abandoned claim (its request died) is taken over by exactly one retry.
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT, created_at__lt=stale
    ).update(created_at=timezone.now())
    if taken:
        return None
    raise Conflict(
        "a request with this Idempotency-Key is still being processed; retry later",
        field="Idempotency-Key",
    )


def _idempotency_finish(*, client: IngestClient, key: str, result: IngestResult) -> None:
    ingest_sql.idempotency_record_finish(
        client=client,
        key=key,
        status=result.status_code,
        body=result.body,
        event_id=result.event_id,
    )


def _replay_of_existing_event(
    *, camera: Camera, camera_event_id: str, fingerprint: str
) -> IngestResult:
    existing = ViolationEvent.objects.only("pk", "payload_sha256").get(
        camera=camera, camera_event_id=camera_event_id
    )
    if existing.payload_sha256 != fingerprint:
        raise Unprocessable(
            "this camera already sent a different event with this id",
            field="camera_event_id",
        )
    return IngestResult(
        status_code=202, body=_accepted_body(existing), event_id=existing.pk, replayed=True
    )


def violation_ingest(
    *,
    client: IngestClient,
    data: ViolationInput,
    images: Sequence[ImageUpload],
    source: str = ViolationEvent.Source.API,
    idempotency_key: str | None = None,
) -> IngestResult:
    """Store one camera event and its evidence; dispatch plate reading after commit.

    Answers 202 with the event id; a replay (same camera event, or same
    Idempotency-Key and body) answers the first response again.
    """
    if not client.is_active:
        raise Forbidden("this ingest client is disabled")
    probed = images_probe(images)
    camera = _camera_for_client(client=client, code=data.camera)
    _offence_check(code=data.offence_code)
    fingerprint = _fingerprint(data, probed)

    if idempotency_key is not None:
        replay = _idempotency_claim(client=client, key=idempotency_key, request_sha256=fingerprint)
        if replay is not None:
            return replay

    stored: list[str] = []
    try:
        try:
            result = _event_store(
                client=client,
                camera=camera,
                data=data,
                probed=probed,
                source=source,
                fingerprint=fingerprint,
                idempotency_key=idempotency_key,
                stored=stored,
            )
        except IntegrityError:
            if not ViolationEvent.objects.filter(
                camera=camera, camera_event_id=data.camera_event_id
            ).exists():
                raise
            result = _replay_of_existing_event(
                camera=camera, camera_event_id=data.camera_event_id, fingerprint=fingerprint
            )
            if idempotency_key is not None:
                _idempotency_finish(client=client, key=idempotency_key, result=result)
    except BaseException:
        for name in stored:
            try:
                default_storage.delete(name)
            except Exception:  # the original error matters more; an orphan file is harmless
                logger.exception("could not delete evidence file %s after a failed ingest", name)
        if idempotency_key is not None:
            # Errors are not cached: the same request gives the same 4xx again anyway,
            # and a transient failure must stay retryable with the same key.
            IdempotencyRecord.objects.filter(
                client=client, key=idempotency_key, state=IdempotencyRecord.State.IN_FLIGHT
            ).delete()
        raise
    return result


def vendor_event_ingest(
    *,
    client: IngestClient,
    event: VendorEvent,
    camera_code: str | None,
    source: str,
    idempotency_key: str | None = None,
) -> IngestResult:
    """Ingest a vendor adapter's event; heartbeats and plain passages answer 200 and store nothing."""
    if not client.is_active:
        raise Forbidden("this ingest client is disabled")
    if event.ignored:
        return IngestResult(status_code=200, body={"ignored": event.ignored}, event_id=None)
    if camera_code:
        camera = _camera_for_client(client=client, code=camera_code)
    else:
        found = (
            client.cameras.filter(device_id__iexact=event.device_id).first()
            if event.device_id
            else None
        )
        if found is None:
            raise Forbidden(
                f"no camera of this client has device id {event.device_id or '(none sent)'}; "
                "add ?camera=<code> to the upload URL or set the camera's device id",
                field="camera",
            )
        camera = found
    limit = event.speed_limit_kmh or camera.speed_limit_kmh
    offence = event.offence_code
    # A passage is a violation only when the payload says so: a red-light camera's plain
    # ANPR read is not a red-light offence. Speed is the one fact we can check ourselves.
    if offence is None and event.speed_kmh and limit and event.speed_kmh > limit:
        offence = "over_speeding"
    if offence is None:
        return IngestResult(
            status_code=200,
            body={"ignored": "no violation in this event (a plain passage)"},
            event_id=None,
        )
    data = ViolationInput(
        camera=camera.code,
        camera_event_id=event.camera_event_id,
        captured_at=event.captured_at,
        offence_code=offence,
        speed_kmh=event.speed_kmh,
        speed_limit_kmh=limit,
        lane=event.lane,
        camera_plate_text=event.plate_text,
        camera_plate_confidence=event.plate_confidence,
        vehicle_class=event.vehicle_class,
    )
    return violation_ingest(
        client=client,
        data=data,
        images=event.images,
        source=source,
        idempotency_key=idempotency_key,
    )


_EVIDENCE_FILE = EvidenceImage._meta.get_field("file")


def _event_store(
    *,
    client: IngestClient,
    camera: Camera,
    data: ViolationInput,
    probed: Sequence[ProbedImage],
    source: str,
    fingerprint: str,
    idempotency_key: str | None,
    stored: list[str],
) -> IngestResult:
    with transaction.atomic():
        # First write of the transaction: a duplicate fails here, before any file exists.
        event = ViolationEvent(
            camera=camera,
            camera_event_id=data.camera_event_id,
            captured_at=data.captured_at,
            offence_code=data.offence_code,
            speed_kmh=data.speed_kmh,
            speed_limit_kmh=data.speed_limit_kmh
            if data.speed_limit_kmh is not None
            else camera.speed_limit_kmh,
            lane=data.lane,
            camera_plate_text=data.camera_plate_text,
            camera_plate_confidence=data.camera_plate_confidence,
            vehicle_class=data.vehicle_class,
            source=source,
            client=client,
            payload_sha256=fingerprint,
        )
        ingest_sql.rows_insert([event])
        rows = []
        for position, image in enumerate(probed):
            row = EvidenceImage(
                event=event,
                position=position,
                kind=image.upload.kind,
                name=image.upload.name[:100],
                sha256=image.sha256,
                size_bytes=len(image.upload.data),
                width=image.width,
                height=image.height,
                content_type=f"image/{image.format}",
            )
            ext = "jpg" if image.format == "jpeg" else "png"
            # The name is unique by construction (event id, position, hash): straight to
            # the storage, without FieldFile.save's second pass over upload_to.
            name = _EVIDENCE_FILE.storage.save(
                evidence_upload_to(row, f"evidence.{ext}"),
                ContentFile(image.upload.data),
                max_length=_EVIDENCE_FILE.max_length,
            )
            stored.append(name)
            row.file = name
            rows.append(row)
        ingest_sql.rows_insert(rows)
        result = IngestResult(status_code=202, body=_accepted_body(event), event_id=event.pk)
        if idempotency_key is not None:
            _idempotency_finish(client=client, key=idempotency_key, result=result)
        transaction.on_commit(lambda: _after_ingest(event_id=event.pk))
    return result


def _after_ingest(*, event_id: int) -> None:
    """Queue the stored event for reading. The event is committed already: if the broker
    cannot take the message, the camera still gets its 202 and the periodic sweep
    (`events_stuck_redispatch`) queues the event once the broker is back."""
    from kombu.exceptions import OperationalError as BrokerUnavailable

    from anpr.tasks import event_read_plate as event_read_plate_task

    try:
        event_read_plate_task.delay(event_id)
    except BrokerUnavailable as exc:
        logger.warning(
            "event %s stored but not queued (%s); the sweep will queue it", event_id, exc
        )


# --- Plate reading (the ANPR worker's step) ---------------------------------------------

REASON_READER_UNAVAILABLE = "reader_unavailable"
REASON_NO_PLATE = "no_plate_found"
REASON_LOW_CONFIDENCE = "low_confidence"
REASON_INVALID_FORMAT = "plate_format_invalid"
REASON_CAMERA_DISAGREES = "camera_disagrees"
REASON_NO_CAMERA_READING = "camera_plate_missing"
REASON_CAMERA_ONLY = "camera_plate_unverified"
REASON_IMAGE_UNREADABLE = "image_unreadable"


@dataclass
class _Timed:
    """Wraps a reader to time its calls, so find time = scene time - read time."""

    reader: Any
    read_ms: float = 0.0
    model_version: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.model_version = self.reader.model_version

    def read_crops(self, crops: Sequence[Any]) -> list[Any]:
        started = time.perf_counter()
        try:
            return list(self.reader.read_crops(crops))
        finally:
            self.read_ms += (time.perf_counter() - started) * 1000


def _plate_key(text: str) -> tuple[str, str]:
    """(key, display) of a plate text through the registry's rules; raw alnum when it fails."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        from vehicles.plates import PlateFormatError, plate_normalize
    except ImportError:
        return raw, text.strip().upper()
    try:
        plate = plate_normalize(text)
    except PlateFormatError:
        return raw, text.strip().upper()
    return plate.key, plate.display


def _case_open(**kwargs: Any) -> Any:
    """The hand-over to registry matching and the case workflow (challan app)."""
    try:
        from challan.services import case_open
    except ImportError:  # challan workflow not installed yet: the event stays "read"
        return None
    return case_open(**kwargs)


def _reader_or_none() -> tuple[Any, str]:
    from anpr.readers import get_plate_reader

    try:
        return get_plate_reader(), ""
    except Exception as exc:  # missing model file, bad setting, missing runtime
        logger.warning("plate reader unavailable: %s", exc)
        return None, f"{type(exc).__name__}: {exc}"


@dataclass
class _Reading:
    text: str = ""
    key: str = ""
    display: str = ""
    confidence: float | None = None
    char_confidences: list[float] = field(default_factory=list)
    box: list[int] | None = None
    model_version: str = ""
    image: EvidenceImage | None = None
    timings: dict[str, float] = field(default_factory=dict)
    found: bool = False


def _reading_order(images: Sequence[EvidenceImage]) -> list[EvidenceImage]:
    """The images worth reading, plate crops first, then scenes, each by position."""
    return sorted(
        (i for i in images if i.kind in (EvidenceImage.Kind.PLATE, EvidenceImage.Kind.SCENE)),
        key=lambda i: (i.kind != EvidenceImage.Kind.PLATE, i.position),
    )


def _image_load(image: EvidenceImage) -> tuple[Any, float]:
    """The stored image's pixels (after checking its bytes against the ingest SHA-256),
    and the milliseconds that took."""
    from anpr.imaging import ImageError, image_decode

    started = time.perf_counter()
    with image.file.open("rb") as fh:
        data = fh.read()
    if hashlib.sha256(data).hexdigest() != image.sha256:
        raise ImageError("stored file does not match the SHA-256 taken at ingest")
    pixels = image_decode(data, max_pixels=settings.INGEST_MAX_IMAGE_PIXELS)
    return pixels, (time.perf_counter() - started) * 1000


@dataclass
class _ImageRead:
    """What reading one stored image gave: plate readings (best first), or why it could not."""

    results: list[Any] = field(default_factory=list)
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def _image_unreadable(image: EvidenceImage, exc: Exception) -> _ImageRead:
    return _ImageRead(error=f"{image.kind} image {image.position}: {exc}")


def _timings(decode_ms: float, find_ms: float, read_ms: float) -> dict[str, float]:
    return {
        "decode_ms": round(decode_ms, 2),
        "find_ms": round(max(find_ms, 0.0), 2),
        "read_ms": round(read_ms, 2),
    }


def _image_read(image: EvidenceImage, reader: Any) -> _ImageRead:
    """One image on its own: a crop is read, a scene has its plates found and read."""
    from anpr.imaging import ImageError
    from anpr.readers import read_scene

    try:
        pixels, decode_ms = _image_load(image)
    except (ImageError, OSError) as exc:
        return _image_unreadable(image, exc)
    timed = _Timed(reader)
    started = time.perf_counter()
    if image.kind == EvidenceImage.Kind.PLATE:
        results = [r for r in timed.read_crops([pixels]) if r.text]
    else:
        results = read_scene(pixels, reader=timed)
    total_ms = (time.perf_counter() - started) * 1000
    return _ImageRead(results, timings=_timings(decode_ms, total_ms - timed.read_ms, timed.read_ms))


def _crops_read(
    events_images: Sequence[Sequence[EvidenceImage]], reader: Any
) -> dict[int, _ImageRead]:
    """The first image each event would read, when it is a plate crop: all read in one batch.

    Batching the OCR is where a batch of events saves most: one model run for the
    batch instead of one per event. Scenes still go one at a time (plate finding).
    """
    from anpr.imaging import ImageError

    done: dict[int, _ImageRead] = {}
    loaded: list[tuple[EvidenceImage, Any, float]] = []
    for images in events_images:
        first = next(iter(_reading_order(images)), None)
        if first is None or first.kind != EvidenceImage.Kind.PLATE:
            continue
        try:
            loaded.append((first, *_image_load(first)))
        except (ImageError, OSError) as exc:
            done[first.pk] = _image_unreadable(first, exc)
    if loaded:
        started = time.perf_counter()
        readings = list(reader.read_crops([pixels for _, pixels, _ in loaded]))
        read_ms = (time.perf_counter() - started) * 1000 / len(loaded)
        for (image, _, decode_ms), result in zip(loaded, readings, strict=True):
            done[image.pk] = _ImageRead(
                [result] if result.text else [], timings=_timings(decode_ms, 0.0, read_ms)
            )
    return done


def _read_images(
    images: Sequence[EvidenceImage], reader: Any, batch: dict[int, _ImageRead]
) -> tuple[_Reading, list[str]]:
    """Read the plate crop if there is a usable one, else the scene; collect image errors.

    `batch` holds images already read with other events' (by image pk).
    """
    errors: list[str] = []
    reading = _Reading(model_version=reader.model_version)
    for image in _reading_order(images):
        read = batch.get(image.pk) or _image_read(image, reader)
        if read.error:
            errors.append(read.error)
            continue
        results, reading.timings = read.results, read.timings
        reading.image = image
        if results:
            best = results[0]
            reading.found = True
            reading.text = best.text
            reading.key = best.key or ""
            reading.display = best.display or ""
            reading.confidence = float(best.confidence)
            reading.char_confidences = [float(c) for c in best.char_confidences]
            reading.box = [int(v) for v in best.box] if best.box is not None else None
            return reading, errors
    return reading, errors


def event_read_plate(*, event: ViolationEvent) -> PlateRead | None:
    """Read the event's plate, store the reading, route doubts to manual check, open the case.

    Idempotent: an event already read (or failed) is left as it is. A corrupt image
    fails this event only, with a message saying which image and why.
    """
    events_read_plates(event_ids=[event.pk])
    return PlateRead.objects.filter(event_id=event.pk).first()


def _reading_stale_before() -> datetime:
    """A claim older than this is a worker that died mid-read: the event may be taken over."""
    return timezone.now() - timedelta(seconds=settings.ANPR_READING_STALE_SECONDS)


def events_read_plates(*, event_ids: Sequence[int], take_waiting: int = 0) -> dict[int, str]:
    """`event_read_plate` for several events at once: one claim, one OCR batch.

    The events named are read if still waiting, or if a worker that claimed them died
    (its claim is older than ANPR_READING_STALE_SECONDS). With `take_waiting`, up to
    that many other waiting events are taken along, oldest first, skipping rows another
    worker is claiming: under a backlog one task then reads a batch, and the later
    tasks for those events find them done, at the cost of one short transaction. Each
    event is stored and its case opened in a transaction of its own: one event's
    failure is its own.

    Returns the status each named event (that exists) and each event taken along is
    left in.
    """
    received, reading = ViolationEvent.Status.RECEIVED, ViolationEvent.Status.READING
    with transaction.atomic():
        named = list(
            ViolationEvent.objects.select_for_update()
            .filter(pk__in=event_ids)
            .order_by("pk")  # one lock order for every caller: no deadlock between batches
        )
        stale = _reading_stale_before()
        statuses: dict[int, str] = {e.pk: e.status for e in named}
        events = [
            e
            for e in named
            if e.status == received or (e.status == reading and e.updated_at < stale)
        ]
        if take_waiting > 0:
            events += (
                ViolationEvent.objects.select_for_update(skip_locked=True)
                .filter(status=received)
                .exclude(pk__in=event_ids)
                .order_by("pk")[:take_waiting]
            )
        if events:
            now = timezone.now()
            ViolationEvent.objects.filter(pk__in=[e.pk for e in events]).update(
                status=reading, updated_at=now
            )
            for event in events:
                event.status, event.updated_at = reading, now
    events.sort(key=lambda e: e.pk)  # oldest first: the first of duplicates opens the case
    for pk, status in list(statuses.items()):
        if status == ViolationEvent.Status.READ:
            # Read, but a crash lost its case: open it now.
            with transaction.atomic():
                locked = ViolationEvent.objects.select_for_update().get(pk=pk)
                if locked.status == ViolationEvent.Status.READ:
                    _event_case_open(event=locked)
                statuses[pk] = locked.status
    if not events:
        return statuses

    # The cameras' last event seen: set here, off the ingest path, where a busy camera's
    # row is not a lock every request waits on; never moved backwards.
    latest: dict[int, datetime] = {}
    for event in events:
        latest[event.camera_id] = max(
            latest.get(event.camera_id, event.received_at), event.received_at
        )
    for camera_id, at in latest.items():
        Camera.objects.filter(pk=camera_id).exclude(last_event_at__gte=at).update(last_event_at=at)
    images: dict[int, list[EvidenceImage]] = {e.pk: [] for e in events}
    for image in EvidenceImage.objects.filter(event_id__in=list(images)).order_by("position"):
        images[image.event_id].append(image)

    reader, reader_error = _reader_or_none()
    batch = _crops_read(list(images.values()), reader) if reader is not None else {}
    for event in events:
        statuses[event.pk] = _event_reading_store(
            event=event,
            images=images[event.pk],
            reader=reader,
            reader_error=reader_error,
            batch=batch,
        )
    return statuses


def _event_reading_store(
    *,
    event: ViolationEvent,
    images: Sequence[EvidenceImage],
    reader: Any,
    reader_error: str,
    batch: dict[int, _ImageRead],
) -> str:
    """One claimed event: its reading judged, stored, and its case opened (one transaction).

    Returns the status the event is left in."""
    reasons: list[str] = []
    reading = _Reading()
    image_errors: list[str] = []
    if reader is None:
        reasons.append(REASON_READER_UNAVAILABLE)
    else:
        reading, image_errors = _read_images(images, reader, batch)
        readable = [i for i in images if i.kind != EvidenceImage.Kind.OTHER]
        if readable and reading.image is None:
            # Every scene/plate image was unusable: the event fails, with the reasons.
            return _event_fail(event=event, error="; ".join(image_errors))
        if image_errors:
            reasons.append(REASON_IMAGE_UNREADABLE)

    camera_text = event.camera_plate_text.strip()
    camera_key, camera_display = _plate_key(camera_text) if camera_text else ("", "")
    if reading.found:
        source = PlateRead.Source.ANPR
        threshold = settings.ANPR_CONFIDENCE_THRESHOLD
        if reading.confidence is None or reading.confidence < threshold:
            reasons.append(REASON_LOW_CONFIDENCE)
        if not reading.key:
            reasons.append(REASON_INVALID_FORMAT)
        anpr_key = reading.key or reading.text
        if camera_text and camera_key != anpr_key:
            reasons.append(REASON_CAMERA_DISAGREES)
        plate_key, plate_display = reading.key or None, reading.display or reading.text or None
    else:
        if reader is not None:
            reasons.append(REASON_NO_PLATE)
        if camera_text:
            source = PlateRead.Source.CAMERA
            reasons.append(REASON_CAMERA_ONLY)
            plate_key, plate_display = camera_key, camera_display
        else:
            source = PlateRead.Source.NONE
            reasons.append(REASON_NO_CAMERA_READING)
            plate_key, plate_display = None, None

    with transaction.atomic():
        locked = (
            ViolationEvent.objects.select_for_update(of=("self",))
            .select_related("camera")
            .get(pk=event.pk)
        )
        if locked.status != ViolationEvent.Status.READING:
            return locked.status  # a twin delivery won
        plate_read = PlateRead.objects.create(
            event=locked,
            image=reading.image,
            source=source,
            text=reading.text if reading.found else camera_text,
            key=plate_key or "",
            display=plate_display or "",
            confidence=reading.confidence if reading.found else locked.camera_plate_confidence,
            char_confidences=reading.char_confidences,
            box=reading.box,
            model_version=reading.model_version,
            timings=reading.timings,
            manual_check_reasons=reasons,
        )
        locked.status = ViolationEvent.Status.READ
        locked.error = "; ".join(filter(None, [reader_error, *image_errors]))
        _event_case_open(event=locked, plate_read=plate_read, locked=True)  # saves the event
    return locked.status


def _event_case_open(
    *, event: ViolationEvent, plate_read: PlateRead | None = None, locked: bool = False
) -> None:
    plate_read = plate_read or PlateRead.objects.filter(event=event).first()
    if plate_read is None:
        return
    try:
        case = _case_open(
            event=event,
            plate_key=plate_read.key or None,
            plate_display=plate_read.display or None,
            plate_source=plate_read.source,
            plate_confidence=plate_read.confidence,
            manual_check_reasons=list(plate_read.manual_check_reasons),
            observed_class=event.vehicle_class or None,
            event_locked=locked,
        )
    except ApplicationError as exc:
        # A rule said no (e.g. the offence was retired since ingest): the reading stays,
        # the event stays "read" with the reason, and the case step can be run again.
        event.error = f"case not opened: {exc.message}"
        case = None
    if case is not None:
        event.status = ViolationEvent.Status.MATCHED
    event.save(update_fields=["status", "error", "updated_at"])


def _event_fail(*, event: ViolationEvent, error: str) -> str:
    """The event fails with `error` (unless a twin delivery finished it); its status after."""
    with transaction.atomic():
        locked = ViolationEvent.objects.select_for_update().get(pk=event.pk)
        if locked.status != ViolationEvent.Status.READING:
            return locked.status
        locked.status = ViolationEvent.Status.FAILED
        locked.error = error[:2000] or "no usable image"
        locked.save(update_fields=["status", "error", "updated_at"])
    logger.warning("event %s failed: %s", event.pk, locked.error)
    return locked.status


def idempotency_records_purge(*, older_than: timedelta) -> int:
    """Forget Idempotency-Keys older than `older_than` (the events themselves stay unique)."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


def events_stuck(*, older_than: timedelta, limit: int = 1000) -> list[int]:
    """Events nobody finished reading: waiting longer than `older_than`, or claimed by a
    worker that died. A lost broker message or a killed worker leaves these behind."""
    cutoff = timezone.now() - older_than
    return list(
        ViolationEvent.objects.filter(
            Q(status=ViolationEvent.Status.RECEIVED, received_at__lt=cutoff)
            | Q(status=ViolationEvent.Status.READING, updated_at__lt=_reading_stale_before())
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
