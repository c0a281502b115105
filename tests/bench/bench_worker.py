"""Worker-path benchmark: CPU per event from a stored camera event to its case in the queue.

    python tests/bench/bench_worker.py [--events 300] [--vehicles 5000] [--seed 5]

Needs PostgreSQL (BENCH_WORKER_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/echallan_bench_worker: dropped and created). Builds a
simulated city (the same events `simulate_city` posts: rendered scenes, plate crops on
some, camera readings, every scenario), stores the events through the ingest service,
then runs the ANPR worker's service (`anpr.services.events_read_plates`: image decode,
plate finding, OCR, reading stored, registry match, case opened with its audit row) on
them in this process: alternating chunks one event per call (ANPR_BATCH_SIZE=1) and a
batch per call (one claim, one OCR run), so the two are compared in the same run.

Prints the CPU time per event of this process and of its PostgreSQL backend, the split
the worker records in each reading's timings (decode, plate finding, OCR), and what that
means for the events/s one CPU core can carry. Issue 4 asks for event -> review queue
p95 < 2 s at 100 events/s on 2 cores *including* ingest, PostgreSQL and the load
generator: this is the worker's share of that budget, measured.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.common import bench_environment, process_cpu  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/echallan_bench_worker"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--vehicles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--batch", type=int, default=16, help="events per task in the batched chunks (16)"
    )
    parser.add_argument(
        "--profile",
        metavar="N",
        type=int,
        default=0,
        help="run the timed loop under cProfile and print its N costliest functions",
    )
    args = parser.parse_args()

    url = os.environ.get("BENCH_WORKER_DATABASE_URL", DEFAULT_DB)
    os.environ.update(
        bench_environment(database_url=url, media=REPO / "var" / "bench_worker_media")
    )
    # No broker: ingest's after-commit dispatch would run the worker inline; this bench
    # stores events first and runs the worker step itself, so dispatch is switched off.
    os.environ.pop("CELERY_BROKER_URL", None)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("seed_demo", vehicles=args.vehicles, seed=7, verbosity=0)

    from unittest import mock

    from anpr import services
    from anpr.models import IngestClient, PlateRead, ViolationEvent
    from anpr.readers import get_plate_reader
    from anpr.serializers import ViolationJsonInputSerializer
    from challan.simulation.city import city_build
    from challan.simulation.play import event_body
    from config.api import ApplicationError

    started = time.perf_counter()
    city = city_build(events=args.events, seed=args.seed)
    client = IngestClient.objects.get(user__username="tracs-gateway")
    with mock.patch("anpr.services._after_ingest"):
        for truth in city.events:
            # What the JSON ingest API does with a body, without the HTTP round trip.
            serializer = ViolationJsonInputSerializer(data=event_body(truth, seed=args.seed))
            serializer.is_valid(raise_exception=True)
            images = [
                services.image_from_base64(
                    name=i["name"], kind=i["kind"], content=i["content_base64"], field="images"
                )
                for i in serializer.validated_data.pop("images")
            ]
            # A replayed camera event id (the burst scenario) is stored once.
            with contextlib.suppress(ApplicationError):
                services.violation_ingest(
                    client=client,
                    data=services.ViolationInput(**serializer.validated_data),
                    images=images,
                )
    events = list(ViolationEvent.objects.filter(status="received").order_by("pk"))
    print(
        f"city: {len(city.events)} simulated events, {len(events)} stored in "
        f"{time.perf_counter() - started:.0f} s; {args.vehicles} vehicles; {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )

    get_plate_reader()  # model loaded once per worker process, before timing
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    # Alternate chunks of events between the two ways a worker can run them, in this one
    # process: one event per task (ANPR_BATCH_SIZE=1), and a batch per task (one claim,
    # one OCR run). Same city, same database, interleaved, so noise hits both alike.
    modes = {"one at a time": 1, f"batches of {args.batch}": args.batch}
    spent = {name: {"cpu": 0.0, "db": 0.0, "wall": 0.0, "n": 0} for name in modes}
    per_event: list[float] = []
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    chunk = 2 * args.batch
    for index, start in enumerate(range(0, len(events), chunk)):
        name = list(modes)[index % 2]
        size = modes[name]
        part = events[start : start + chunk]
        cpu0, db0, wall0 = time.process_time(), process_cpu([backend]), time.perf_counter()
        for first in range(0, len(part), size):
            t = time.process_time()
            services.events_read_plates(event_ids=[e.pk for e in part[first : first + size]])
            if size == 1:
                per_event.append(time.process_time() - t)
        spent[name]["cpu"] += time.process_time() - cpu0
        spent[name]["db"] += process_cpu([backend]) - db0
        spent[name]["wall"] += time.perf_counter() - wall0
        spent[name]["n"] += len(part)
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)

    timings: dict[str, list[float]] = {}
    for reading_timings in PlateRead.objects.filter(event__in=events).values_list(
        "timings", flat=True
    ):
        for key, value in (reading_timings or {}).items():
            if isinstance(value, int | float):
                timings.setdefault(key, []).append(float(value))
    statuses: dict[str, int] = {}
    for status in ViolationEvent.objects.filter(pk__in=[e.pk for e in events]).values_list(
        "status", flat=True
    ):
        statuses[status] = statuses.get(status, 0) + 1

    print(f"worker path over {len(events)} events, in alternating chunks of {chunk}:")
    totals = {}
    for name, got in spent.items():
        n = max(1, got["n"])
        totals[name] = (got["cpu"] + got["db"]) / n * 1000
        print(
            f"  {name} ({got['n']} events): CPU per event worker process "
            f"{got['cpu'] / n * 1000:.1f} ms + PostgreSQL backend {got['db'] / n * 1000:.1f} ms"
            f" = {totals[name]:.1f} ms; wall {got['wall'] / n * 1000:.1f} ms"
        )
    if per_event:
        print(
            f"  one at a time, worker CPU per event: median "
            f"{statistics.median(per_event) * 1000:.1f} ms, p95 "
            f"{sorted(per_event)[int(0.95 * (len(per_event) - 1))] * 1000:.1f} ms"
        )
    one, batched = totals.values()
    print(f"  batched / one at a time, CPU per event: {batched / one:.2f}x")
    print(
        "  inside the reading (ms, mean over all): "
        + ", ".join(f"{k} {statistics.mean(v):.1f}" for k, v in sorted(timings.items()))
    )
    print(f"  events now: {json.dumps(statuses)}")
    for name, total_ms in totals.items():
        print(
            f"  => {name}: one CPU core carries about {1000 / total_ms:.0f} events/s through "
            f"the worker path; 100 events/s needs {100 * total_ms / 1000:.1f} cores for it"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
