from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from challan.demo import seed_offences


class Command(BaseCommand):
    help = "Create the offences and fines of the amended Sindh schedule that are missing."

    def handle(self, *args: Any, **options: Any) -> None:
        offences, fines = seed_offences()
        self.stdout.write(f"{offences} offences and {fines} fines created")
