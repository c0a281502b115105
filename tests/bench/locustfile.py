"""Locust load for the ingest API (an alternative to bench_ingest.py's own asyncio loop).

    BENCH_TOKEN=<token of tracs-gateway> locust -f tests/bench/locustfile.py --headless \
        -u 32 -r 32 -t 60s --host http://127.0.0.1:8000

Start the stack first (gunicorn on PostgreSQL + Redis, demo cameras seeded:
`python -c "import django; django.setup(); from anpr.demo import seed_cameras; seed_cameras()"`).
Each event carries two JPEGs of ~100 KB, as bench_ingest.py sends.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from locust import FastHttpUser, constant, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import noise_jpeg  # noqa: E402

IMAGES = {"scene": noise_jpeg(640, 480, 100, 1), "plate": noise_jpeg(560, 420, 100, 2)}
CAMERAS = os.environ.get("BENCH_CAMERAS", "KHI-SOU-002,KHI-EAS-001,KHI-KOR-004").split(",")
COUNTER = itertools.count()
RUN = datetime.now(UTC).strftime("%H%M%S")


class Camera(FastHttpUser):
    wait_time = constant(0)

    @task
    def post_violation(self) -> None:
        n = next(COUNTER)
        meta = {
            "camera": random.choice(CAMERAS),
            "camera_event_id": f"locust-{RUN}-{n:07d}",
            "captured_at": (datetime.now(UTC) - timedelta(seconds=2)).isoformat(),
            "offence_code": "over_speeding",
            "speed_kmh": 70 + random.random() * 50,
            "speed_limit_kmh": 60,
            "camera_plate_text": f"BK{'ABCDEFGH'[n % 8]}-{1000 + n % 9000}",
        }
        files = {name: (f"{name}.jpg", data, "image/jpeg") for name, data in IMAGES.items()}
        self.client.post(
            "/api/v1/violations/",
            data={"metadata": json.dumps(meta)},
            files=files,
            headers={"Authorization": f"Token {os.environ['BENCH_TOKEN']}"},
            name="POST /api/v1/violations/",
        )
