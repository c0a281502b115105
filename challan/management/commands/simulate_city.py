"""`manage.py simulate_city --events N --seed S`: play a synthetic city through the pipeline."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token
from tqdm import tqdm

from anpr.models import IngestClient, ViolationEvent
from challan.simulation.audit import city_audit, report_text
from challan.simulation.city import city_build
from challan.simulation.play import local_server, play
from challan.simulation.review import POLICIES, review_queue


class Command(BaseCommand):
    help = "Build a synthetic city on the demo registry, play its camera traffic, review, audit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--policy", choices=POLICIES, default="careful")
        parser.add_argument("--url", default="", help="a running server; default: one in-process")
        parser.add_argument("--concurrency", type=int, default=1)
        parser.add_argument(
            "--wait",
            type=float,
            default=600.0,
            help="seconds to wait for workers to finish reading plates",
        )
        parser.add_argument("--report", default="", help="write the JSON report here")
        parser.add_argument("--no-review", action="store_true", help="leave the queue for people")
        parser.add_argument(
            "--if-new",
            action="store_true",
            help="do nothing (exit 0) when this seed was already played",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed, quiet = options["seed"], options["verbosity"] == 0
        if ViolationEvent.objects.filter(camera_event_id__startswith=f"SIM{seed}-").exists():
            if options["if_new"]:
                self.stdout.write(f"city {seed} already played: nothing to do")
                return
            raise CommandError(
                f"a city with seed {seed} was already played here: use another --seed"
            )
        client = IngestClient.objects.filter(is_active=True).order_by("pk").first()
        if client is None:
            raise CommandError("no ingest client: run `manage.py seed_demo` first")
        token, _ = Token.objects.get_or_create(user=client.user)

        started = time.perf_counter()
        city = city_build(events=options["events"], seed=seed)
        self.stdout.write(
            f"city built: {len(city.events)} events ({time.perf_counter() - started:.1f} s)"
        )

        with tqdm(total=len(city.events), desc="posting", disable=quiet) as bar:
            if options["url"]:
                result = play(
                    city.events,
                    base_url=options["url"],
                    token=token.key,
                    seed=seed,
                    concurrency=options["concurrency"],
                    progress=bar.update,
                )
            else:
                with local_server() as url:
                    result = play(
                        city.events,
                        base_url=url,
                        token=token.key,
                        seed=seed,
                        concurrency=options["concurrency"],
                        progress=bar.update,
                    )
        self.stdout.write(
            f"posted: {result.accepted} accepted, {len(result.rejected)} rejected, "
            f"{result.accepted / max(result.seconds, 1e-9):.1f} events/s"
        )
        for event_id, status, body in result.rejected[:10]:
            self.stderr.write(f"  {event_id}: HTTP {status} {body}")

        self._wait_for_pipeline(city.event_prefix, len(city.events), options["wait"])
        if not options["no_review"]:
            stats = review_queue(city, policy=options["policy"])
            self.stdout.write(
                f"review ({options['policy']}): {stats.approved} approved, "
                f"{sum(stats.rejected.values())} rejected {dict(stats.rejected)}, "
                f"{stats.issued} issued"
            )
        report = city_audit(city)
        report["policy"] = options["policy"] if not options["no_review"] else None
        report["ingest_rejected"] = len(result.rejected)
        report["posting_seconds"] = round(result.seconds, 2)
        self.stdout.write(report_text(report))
        path = Path(options["report"] or settings.VAR_DIR / f"simulation-{seed}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=str))
        self.stdout.write(f"report: {path}")

    def _wait_for_pipeline(self, prefix: str, expected: int, timeout: float) -> None:
        """With a broker, plate reading happens in workers: wait until every event is done."""
        deadline = time.monotonic() + timeout
        busy = (ViolationEvent.Status.RECEIVED, ViolationEvent.Status.READING)
        while True:
            pending = ViolationEvent.objects.filter(
                camera_event_id__startswith=prefix, status__in=busy
            ).count()
            if pending == 0:
                return
            if time.monotonic() > deadline:
                raise CommandError(
                    f"{pending} of {expected} events still unread after {timeout:.0f} s"
                )
            time.sleep(0.5)
