"""python manage.py seed_demo [--if-empty] [--vehicles 5000] [--seed 42]"""

from __future__ import annotations

import importlib
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vehicles.demo import registry_seed_demo
from vehicles.models import Vehicle

# Other apps' demo seeders, called when those apps provide them; each is idempotent.
APP_SEEDERS: list[tuple[str, str, bool]] = [
    ("anpr.demo", "seed_cameras", True),  # (module, function, takes seed=)
    ("challan.demo", "seed_offences", False),
]


class Command(BaseCommand):
    help = (
        "Build a deterministic synthetic city: vehicles of every region and class with owners, "
        "sales, hotlist and exemptions, demo users and role groups, cameras and offences."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing to the registry when it already has vehicles (for `make run`)",
        )
        parser.add_argument("--vehicles", type=int, default=5000, help="how many (default 5000)")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    def handle(self, *args: Any, **options: Any) -> None:
        seed = options["seed"]
        existing = Vehicle.objects.count()
        if existing and options["if_empty"]:
            self.stdout.write(f"registry already has {existing} vehicles: left as it is")
        elif existing:
            raise CommandError(
                f"the registry already has {existing} vehicles; seed_demo fills an empty one "
                "(--if-empty skips instead of failing)"
            )
        else:
            started = time.perf_counter()
            report = registry_seed_demo(vehicles=options["vehicles"], seed=seed)
            self.stdout.write(
                f"registry: {report.vehicles} vehicles, {report.owners} owners, "
                f"{report.ownerships} ownerships ({report.sold} sales), {report.hotlist} hotlist, "
                f"{report.exemptions} exemptions in {time.perf_counter() - started:.1f} s"
            )
            for line in report.users:
                self.stdout.write(self.style.WARNING(f"demo user created: {line}"))
        for module_name, function_name, takes_seed in APP_SEEDERS:
            self._seed_app(module_name, function_name, seed if takes_seed else None)

    def _seed_app(self, module_name: str, function_name: str, seed: int | None) -> None:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                self.stdout.write(f"{module_name}: not there yet, skipped")
                return
            raise
        seeder = getattr(module, function_name, None)
        if seeder is None:
            self.stdout.write(f"{module_name}.{function_name}: not there yet, skipped")
            return
        result = seeder(seed=seed) if seed is not None else seeder()
        summary = f"{len(result)} rows" if isinstance(result, list | tuple | dict) else "done"
        if isinstance(result, tuple) and all(isinstance(n, int) for n in result):
            summary = f"created {result}"
        self.stdout.write(f"{module_name}.{function_name}: {summary}")
