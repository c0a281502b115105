"""Play a city's camera events through the real ingest API over HTTP.

Each event's photo is rendered: the plate in its style (anpr.synth), on a vehicle in a
road scene with the camera's burnt-in overlay; hard reads are small, dark and blurred.
Half the cameras also send a plate crop. Events go to `POST /api/v1/violations/` as
JSON with base64 images, exactly as a TRACS gateway sends them.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import cv2
import numpy as np

from anpr.synth import PlateText, plate_image, render_scene
from anpr.synth.damage import damage
from challan.simulation.city import TruthEvent


def _plate_text(event: TruthEvent) -> PlateText:
    parts = event.shown_display.split("-")
    if len(parts) == 3:
        return PlateText(event.shown_style, parts[0], parts[1], parts[2])
    return PlateText(event.shown_style, parts[0], "", "".join(parts[1:]))


def event_images(event: TruthEvent, *, seed: int) -> list[dict[str, str]]:
    """The JPEGs a camera would send for this event, as ingest API image objects."""
    rng = np.random.default_rng([seed, zlib.crc32(event.camera_event_id.encode())])
    text = _plate_text(event)
    clean = plate_image(text, rng)
    plate_width = int(rng.integers(70, 95)) if event.hard else int(rng.integers(150, 260))
    scene, _box = render_scene(
        clean,
        rng=rng,
        size=(1280, 720),
        plate_width=plate_width,
        camera_code=event.camera_code,
        timestamp=event.captured_at,
    )
    if event.hard:  # night, motion, a dirty lens
        scene = cv2.GaussianBlur(scene, (5, 5), float(rng.uniform(0.8, 1.6)))
        scene = np.clip(scene.astype(np.float32) * rng.uniform(0.45, 0.7), 0, 255).astype(np.uint8)
    images = [_jpeg("scene", "scene", scene, quality=80 if not event.hard else 60)]
    if event.send_crop:
        crop = cv2.cvtColor(damage(cv2.cvtColor(clean, cv2.COLOR_BGR2RGB), rng), cv2.COLOR_RGB2BGR)
        images.append(_jpeg("plate", "plate", crop, quality=90))
    return images


def _jpeg(name: str, kind: str, image: np.ndarray, *, quality: int) -> dict[str, str]:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("could not encode a JPEG")
    return {
        "name": name,
        "kind": kind,
        "content_base64": base64.b64encode(encoded.tobytes()).decode(),
    }


def event_body(event: TruthEvent, *, seed: int) -> dict[str, object]:
    body: dict[str, object] = {
        "camera": event.camera_code,
        "camera_event_id": event.camera_event_id,
        "captured_at": event.captured_at.isoformat(),
        "offence_code": event.offence_code,
        "vehicle_class": event.observed_class,
        "images": event_images(event, seed=seed),
    }
    if event.speed_kmh is not None:
        body["speed_kmh"] = event.speed_kmh
        body["speed_limit_kmh"] = event.speed_limit_kmh
    if event.camera_reading:
        body["camera_plate_text"] = event.camera_reading
        body["camera_plate_confidence"] = 0.9
    return body


@dataclass
class PlayResult:
    accepted: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # event id, status, body
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def local_server() -> Iterator[str]:
    """Serve this project's WSGI app on a free loopback port for the duration."""
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    django_app = get_wsgi_application()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return django_app(environ, start_response)
        finally:
            connections.close_all()  # each request has its own thread: leave no connection open

    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def play(
    events: list[TruthEvent],
    *,
    base_url: str,
    token: str,
    seed: int,
    concurrency: int = 1,
    progress: Callable[[int], None] | None = None,
) -> PlayResult:
    """POST every event; returns what the API answered."""
    url = urlsplit(base_url)
    host = url.hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1"}:
        # Load from this tool only ever goes to a server on this machine.
        raise ValueError(f"refusing to post to {host!r}: only loopback servers")
    result = PlayResult()
    lock = threading.Lock()
    local = threading.local()

    def connection() -> http.client.HTTPConnection:
        if getattr(local, "conn", None) is None:
            local.conn = http.client.HTTPConnection(host, url.port or 80, timeout=120)
        return local.conn

    def post(event: TruthEvent) -> None:
        body = json.dumps(event_body(event, seed=seed)).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Token {token}",
            "Idempotency-Key": f"{event.camera_code}:{event.camera_event_id}",
        }
        started = time.perf_counter()
        for attempt in range(3):
            try:
                conn = connection()
                conn.request("POST", "/api/v1/violations/", body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read().decode(errors="replace")
                break
            except (ConnectionError, http.client.HTTPException):
                local.conn = None  # a dropped keep-alive connection: retry on a new one
                if attempt == 2:
                    raise
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            result.latencies_ms.append(elapsed)
            if response.status in (200, 201, 202):
                result.accepted += 1
            else:
                result.rejected.append((event.camera_event_id, response.status, answer[:300]))
            if progress:
                progress(1)

    started = time.perf_counter()
    if concurrency <= 1:
        for event in events:
            post(event)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(post, events))
    result.seconds = time.perf_counter() - started
    return result
