"""python manage.py read_plates PATH... [--csv]: read plates in crops or scene photos.

One line per image, `file,plate,confidence`, the plate in display form (LEA-12-2545),
the raw text when it is no valid plate, empty when no plate was found. A file that is
not a usable image gets an error line on stderr; the others are still read.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from anpr.imaging import ImageError, image_decode
from anpr.readers import get_plate_reader, read_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def _expand(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            files.append(path)  # named explicitly: read whatever it is, report if it is no image
    return files


class Command(BaseCommand):
    help = "Read number plates in plate crops or scene photos (files or directories)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--csv", action="store_true", dest="as_csv", help="CSV with a header row"
        )

    def handle(self, *args, paths: list[str], as_csv: bool = False, **options) -> None:
        max_pixels = settings.INGEST_MAX_IMAGE_PIXELS
        reader = get_plate_reader()
        out = _Writer(self.stdout, header=as_csv)
        failed = 0
        for path in _expand(paths):
            try:
                image = image_decode(path.read_bytes(), max_pixels=max_pixels)
            except (ImageError, OSError) as exc:
                failed += 1
                self.stderr.write(f"{path},error,{exc}")
                continue
            readings = read_image(image, reader=reader)
            if readings:
                best = readings[0]
                out.row(str(path), best.display or best.text, f"{best.confidence:.3f}")
            else:
                out.row(str(path), "", "")
        if failed:
            raise CommandError(f"{failed} file(s) could not be read as images")


class _Writer:
    def __init__(self, stream, *, header: bool) -> None:
        self._csv = csv.writer(stream, lineterminator="\n") if header else None
        self._stream = stream
        if self._csv:
            self._csv.writerow(["file", "plate", "confidence"])

    def row(self, *values: str) -> None:
        if self._csv:
            self._csv.writerow(values)
        else:
            self._stream.write(",".join(values))
