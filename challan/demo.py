"""Seed data for the challan app: the offence schedule (also used by the data migration)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

SCHEDULE_PATH = Path(__file__).resolve().parent / "data" / "offence_schedule_sindh.json"
UNCONFIRMED = " (figure unconfirmed in public reporting)"


def load_schedule(path: Path = SCHEDULE_PATH) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def seed_offences(
    *, offence_model: Any = None, fine_model: Any = None, path: Path = SCHEDULE_PATH
) -> tuple[int, int]:
    """Create the offences and fines of the schedule that are missing; (offences, fines) created.

    Idempotent: an offence is found by its code and a fine by (offence, class,
    effective_from), so running it again, or after an admin edited amounts, changes nothing.
    The model arguments let the data migration pass its historical models.
    """
    if offence_model is None or fine_model is None:
        from challan.models import Offence, OffenceFine

        offence_model, fine_model = Offence, OffenceFine
    schedule = load_schedule(path)
    effective_from = datetime.fromisoformat(schedule["effective_from"])
    offences_created = fines_created = 0
    for row in schedule["offences"]:
        offence, created = offence_model.objects.get_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "legal_reference": row["legal_reference"],
                "demerit_points": row["demerit_points"],
            },
        )
        offences_created += created
        note = schedule["source"].split(",")[0] + (UNCONFIRMED if row.get("unconfirmed") else "")
        for vehicle_class, amount in row["fines"].items():
            _, created = fine_model.objects.get_or_create(
                offence=offence,
                vehicle_class=vehicle_class,
                effective_from=effective_from,
                defaults={"amount_rs": amount, "notification": note[:200]},
            )
            fines_created += created
    return offences_created, fines_created
