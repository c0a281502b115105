"""CPU per ingest request inside one process: the WSGI app called directly, no HTTP server.

    python tests/bench/profile_ingest.py [--requests 300] [--profile] [--idempotency-key]

The same request as tests/bench/bench_ingest.py (multipart, 2 JPEGs of ~100 KB) through
Django's WSGI handler, against PostgreSQL (PROFILE_INGEST_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/echallan_profile_ingest: dropped and created) and
Redis (PROFILE_BROKER_URL, default redis://127.0.0.1:6379/14: its queues purged). Prints
this process's CPU ms per request: steadier than bench_ingest's per-process CPU figures
on a machine shared with other work, so compare two commits in alternating runs.
--profile adds a cProfile (CPU clock) listing by cumulative time and by package.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "bench"))

from tests.bench.common import bench_environment  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/echallan_profile_ingest"
DEFAULT_BROKER = "redis://127.0.0.1:6379/14"


def by_package(profile: cProfile.Profile, top: int = 20) -> None:
    own: collections.Counter[str] = collections.Counter()
    for (path, _, name), (_, _, tottime, _, _) in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in path:
            key = path.split("site-packages/")[1].split("/")[0]
        elif path.startswith(str(REPO)):
            key = path[len(str(REPO)) + 1 :]
        elif path == "~":
            key = f"builtin {name}"
        else:
            key = "stdlib " + path.rsplit("/", 1)[-1]
        own[key] += tottime
    total = sum(own.values()) or 1.0
    print("own CPU time by package / file:")
    for key, seconds in own.most_common(top):
        print(f"  {seconds / total * 100:5.1f}%  {key}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--idempotency-key", action="store_true", help="send one per request")
    args = parser.parse_args()

    import bench_ingest

    db = os.environ.get("PROFILE_INGEST_DATABASE_URL", DEFAULT_DB)
    os.environ.update(
        bench_environment(
            database_url=db,
            media=REPO / "var" / "profile_ingest_media",
            CELERY_BROKER_URL=os.environ.get("PROFILE_BROKER_URL", DEFAULT_BROKER),
        )
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, check=True
    )
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from anpr.demo import seed_cameras
    from anpr.models import Camera
    from config.celery import app
    from config.wsgi import application

    seed_cameras()
    with app.connection_for_write() as conn:
        for queue in ("anpr", "default"):
            conn.default_channel.queue_purge(queue)
    token = Token.objects.get(user__username="tracs-gateway").key
    cameras = list(Camera.objects.filter(status="active").values_list("code", flat=True))
    images = {
        "scene": bench_ingest.noise_jpeg(640, 480, 100, 1),
        "plate": bench_ingest.noise_jpeg(640, 480, 100, 2),
    }
    load = bench_ingest.Load(token, cameras, images, tag="profile")

    def post(body: bytes, boundary: str) -> str:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/violations/",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.multithread": True,
        }
        setup_testing_defaults(environ)  # the rest of a WSGI environ (host, port, wsgi.*)
        if args.idempotency_key:
            environ["HTTP_IDEMPOTENCY_KEY"] = boundary
        status: list[str] = []
        response = application(environ, lambda s, headers, exc_info=None: status.append(s))
        b"".join(response)
        response.close()  # type: ignore[attr-defined]
        return status[0]

    bodies = [load.next_body() for _ in range(args.requests + 20)]
    for _, body, boundary in bodies[:20]:  # warm: connections, prepared statements, caches
        assert post(body, boundary).startswith("202"), "ingest did not answer 202"
    profile = cProfile.Profile(time.thread_time) if args.profile else None
    started_cpu, started = time.thread_time(), time.perf_counter()
    if profile:
        profile.enable()
    for _, body, boundary in bodies[20:]:
        post(body, boundary)
    if profile:
        profile.disable()
    cpu = time.thread_time() - started_cpu
    wall = time.perf_counter() - started
    print(
        f"{args.requests} requests: CPU {cpu / args.requests * 1000:.2f} ms/request in this "
        f"process (wall {wall / args.requests * 1000:.2f} ms; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        + (" -- under cProfile, several times slower" if profile else "")
    )
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        by_package(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
