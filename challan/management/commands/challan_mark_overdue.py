from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from challan.services import challans_mark_overdue


class Command(BaseCommand):
    help = "Mark served challans past their due date as overdue (idempotent; run daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{challans_mark_overdue()} challans marked overdue")
