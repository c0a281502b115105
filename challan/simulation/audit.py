"""Compare every case and challan of a simulated city with its ground truth."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

from anpr.models import PlateRead, ViolationEvent
from challan.models import Challan, ChallanEvent, ChallanEvidence
from challan.simulation.city import City, TruthEvent

# Flags whose precision and recall the audit measures, as (case flag, truth flag).
CASE_FLAGS = ("class_mismatch", "hotlist", "exempt", "sale_pending", "no_match")
# Ambiguities that must reach a human before any challan.
AMBIGUOUS_FLAGS = ("candidates", "class_mismatch", "hotlist", "sale_pending", "manual_check")


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _precision_recall(predicted: set[Any], actual: set[Any]) -> dict[str, Any]:
    hit = len(predicted & actual)
    return {
        "flagged": len(predicted),
        "actual": len(actual),
        "true_positives": hit,
        "precision": round(hit / len(predicted), 4) if predicted else None,
        "recall": round(hit / len(actual), 4) if actual else None,
    }


def city_audit(city: City) -> dict[str, Any]:
    """The auditor's report: wrong owners, missed violations, duplicates, routing, flags."""
    truths = city.by_event_id()
    events = {
        (e.camera.code, e.camera_event_id): e
        for e in ViolationEvent.objects.filter(
            camera_event_id__startswith=city.event_prefix
        ).select_related("camera")
    }
    truth_by_pk: dict[int, TruthEvent] = {
        event.pk: truths[key] for key, event in events.items() if key in truths
    }
    evidence = list(
        ChallanEvidence.objects.filter(event_id__in=truth_by_pk).values_list(
            "challan_id", "event_id", "is_duplicate"
        )
    )
    cases = {
        c.pk: c
        for c in Challan.objects.filter(pk__in={row[0] for row in evidence}).select_related("event")
    }
    opened = dict(
        ChallanEvent.objects.filter(challan_id__in=cases, transition="open").values_list(
            "challan_id", "to_state"
        )
    )
    approvals = dict(
        ChallanEvent.objects.filter(challan_id__in=cases, transition="approve").values_list(
            "challan_id", "actor_id"
        )
    )
    violations_of_case: dict[int, set[int]] = defaultdict(set)
    for challan_id, event_id, _dup in evidence:
        violations_of_case[challan_id].add(truth_by_pk[event_id].violation_id)

    issued = {pk: c for pk, c in cases.items() if c.number}
    wrong_owner = []
    for challan in issued.values():
        truth = truth_by_pk[challan.event_id]
        if truth.liable_owner_id is None or challan.owner_id != truth.liable_owner_id:
            wrong_owner.append(
                {
                    "challan": challan.number,
                    "scenario": truth.scenario,
                    "event": truth.camera_event_id,
                    "owner_id": challan.owner_id,
                    "liable_owner_id": truth.liable_owner_id,
                }
            )

    challans_per_violation: Counter[int] = Counter()
    for pk in issued:
        for violation in violations_of_case[pk]:
            challans_per_violation[violation] += 1
    liable_violations = {e.violation_id: e for e in city.events if e.liable_owner_id is not None}
    missed = [v for v in liable_violations if challans_per_violation[v] == 0]
    missed_by_scenario = Counter(liable_violations[v].scenario for v in missed)
    duplicates_issued = sum(n - 1 for n in challans_per_violation.values() if n > 1)

    routed: Counter[str] = Counter()
    to_plate_check = 0
    for pk, challan in cases.items():
        if opened.get(pk) == "needs_plate_check":
            to_plate_check += 1
        for reason in challan.manual_check_reasons or []:
            routed[f"reason:{reason}"] += 1
        for flag in challan.flags:
            routed[f"flag:{flag}"] += 1

    ambiguous = [c for c in cases.values() if any(f in c.flags for f in AMBIGUOUS_FLAGS)]
    ambiguous_without_human = [
        c.number for c in ambiguous if c.number and approvals.get(c.pk) is None
    ]
    issued_without_human = [c.number for c in issued.values() if approvals.get(c.pk) is None]

    primary_truth = {pk: truth_by_pk[c.event_id] for pk, c in cases.items()}
    flags: dict[str, Any] = {}
    for flag in CASE_FLAGS:
        predicted = {pk for pk, c in cases.items() if flag in c.flags}
        actual = {pk for pk, t in primary_truth.items() if flag in t.expected_flags}
        flags[flag] = _precision_recall(predicted, actual)
    # A duplicate is right when it joined the case of its own violation (whichever of the
    # violation's events happened to open that case).
    joined = {event_id for _c, event_id, dup in evidence if dup}
    correct = {
        event_id
        for challan_id, event_id, dup in evidence
        if dup
        and truth_by_pk[event_id].violation_id
        == truth_by_pk[cases[challan_id].event_id].violation_id
    }
    events_per_violation = Counter(e.violation_id for e in city.events)
    should_join = sum(n - 1 for n in events_per_violation.values())
    flags["duplicate"] = {
        "flagged": len(joined),
        "actual": should_join,
        "true_positives": len(correct),
        "precision": round(len(correct) / len(joined), 4) if joined else None,
        "recall": round(len(correct) / should_join, 4) if should_join else None,
    }

    reads = dict(PlateRead.objects.filter(event_id__in=truth_by_pk).values_list("event_id", "key"))
    anpr_exact = sum(1 for pk, t in truth_by_pk.items() if reads.get(pk) == t.shown_key)
    hard = [pk for pk, t in truth_by_pk.items() if t.hard]
    anpr_exact_hard = sum(1 for pk in hard if reads.get(pk) == truth_by_pk[pk].shown_key)

    queue_seconds = [(c.created_at - c.event.received_at).total_seconds() for c in cases.values()]
    status_counts = Counter(e.status for e in events.values())
    failed = [
        {"event": e.camera_event_id, "error": e.error[:200]}
        for e in events.values()
        if e.status == ViolationEvent.Status.FAILED
    ]
    return {
        "seed": city.seed,
        "events": len(city.events),
        "violations": len({e.violation_id for e in city.events}),
        "scenarios": dict(Counter(e.scenario for e in city.events)),
        "events_stored": len(events),
        "event_status": dict(status_counts),
        "failed_events": failed[:20],
        "cases": len(cases),
        "challans_issued": len(issued),
        "wrong_owner": len(wrong_owner),
        "wrong_owner_examples": wrong_owner[:20],
        "duplicates_issued": duplicates_issued,
        "violations_liable": len(liable_violations),
        "violations_missed": len(missed),
        "missed_by_scenario": dict(missed_by_scenario),
        "cases_opened_in_plate_check": to_plate_check,
        "routed_to_human": dict(sorted(routed.items())),
        "ambiguous_cases": len(ambiguous),
        "ambiguous_issued_without_human_approval": len(ambiguous_without_human),
        "issued_without_human_approval": len(issued_without_human),
        "flags": flags,
        "anpr_exact_reads": anpr_exact,
        "anpr_exact_rate": round(anpr_exact / len(truth_by_pk), 4) if truth_by_pk else None,
        "anpr_exact_rate_hard": round(anpr_exact_hard / len(hard), 4) if hard else None,
        "event_to_queue_seconds": {
            "p50": _pct(queue_seconds, 0.50),
            "p95": _pct(queue_seconds, 0.95),
            "max": round(max(queue_seconds), 3) if queue_seconds else None,
            "mean": round(statistics.fmean(queue_seconds), 3) if queue_seconds else None,
        },
    }


def report_text(report: dict[str, Any]) -> str:
    """The report as a person reads it."""
    lines = [
        f"City seed {report['seed']}: {report['events']} events, {report['violations']} violations",
        f"  events stored {report['events_stored']}, status {report['event_status']}",
        f"  cases {report['cases']}, challans issued {report['challans_issued']}",
        f"  challans to a wrong owner:      {report['wrong_owner']}",
        f"  duplicate challans issued:      {report['duplicates_issued']}",
        f"  liable violations missed:       {report['violations_missed']} of "
        f"{report['violations_liable']} {report['missed_by_scenario'] or ''}",
        f"  ambiguous cases:                {report['ambiguous_cases']} "
        f"(issued without a human approval: {report['ambiguous_issued_without_human_approval']})",
        f"  cases opened in plate check:    {report['cases_opened_in_plate_check']}",
        f"  ANPR exact reads:               {report['anpr_exact_rate']} "
        f"(hard images {report['anpr_exact_rate_hard']})",
        f"  event -> review queue (s):      {report['event_to_queue_seconds']}",
        "  routed to a human, by reason:",
    ]
    lines += [f"    {name}: {count}" for name, count in report["routed_to_human"].items()]
    lines.append("  flags (precision / recall):")
    for name, pr in report["flags"].items():
        lines.append(
            f"    {name:15s} precision {pr['precision']}  recall {pr['recall']}  "
            f"(flagged {pr['flagged']}, actual {pr['actual']})"
        )
    return "\n".join(lines)
