"""python manage.py import_registry FILE.csv [--skip-bad --rejects FILE]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vehicles.services import REGISTRY_COLUMNS, RegistryImportError, registry_import


class Command(BaseCommand):
    help = (
        "Import an Excise & Taxation registry CSV (owners, vehicles, ownership changes). "
        f"Columns: {', '.join(REGISTRY_COLUMNS)}. All-or-nothing unless --skip-bad."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file (UTF-8, header row)")
        parser.add_argument(
            "--skip-bad",
            action="store_true",
            help="import the good rows and skip bad ones instead of importing nothing",
        )
        parser.add_argument(
            "--rejects",
            metavar="FILE",
            help="with --skip-bad: write the bad rows here (line, reason, the row)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rejects"] and not options["skip_bad"]:
            raise CommandError("--rejects needs --skip-bad")
        try:
            report = registry_import(
                path=options["file"],
                skip_bad=options["skip_bad"],
                rejects_path=options["rejects"],
                progress=not options["no_progress"] and options["verbosity"] > 0,
            )
        except FileNotFoundError as exc:
            raise CommandError(f"{options['file']}: no such file") from exc
        except RegistryImportError as exc:
            for error in exc.report.errors:
                self.stderr.write(f"line {error.line}: {error.reason}")
            if exc.report.rows_rejected > len(exc.report.errors):
                self.stderr.write(
                    f"... and {exc.report.rows_rejected - len(exc.report.errors)} more"
                )
            raise CommandError(str(exc)) from exc
        for error in report.errors[:20]:
            self.stderr.write(f"skipped line {error.line}: {error.reason}")
        if report.rejects_path:
            self.stdout.write(f"rejected rows written to {report.rejects_path}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
